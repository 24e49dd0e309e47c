import Broker
import Glibc
import HTTPServer
import Inference
import Specs

/// `warden serve-model`: the inference pool behind an OpenAI-compatible endpoint for callers outside
/// sandboxes (vLLM's and llama.cpp server's role).
enum ServeModelCommand: WardenCommand {
    static let name = "serve-model"
    static let summary = "Serves the models over an OpenAI-compatible HTTP API."
    static let usage = """
        usage: warden serve-model [--listen HOST:PORT] [--config FILE] [--policy FILE] [--api-key KEY] [--threads N]

        Serves POST /v1/chat/completions (JSON and SSE), GET /v1/models, GET /metrics (Prometheus text:
        queue depth per caller, time to first token, inter-token latency, tokens/s, batch size, KV blocks,
        preemptions, rejections) and GET /health, until SIGINT or SIGTERM.

          --listen HOST:PORT  where to listen (default 127.0.0.1:8000; [::1]:8000 for IPv6)
          --config FILE       model serving configuration: the pool (KV memory, block size, batch, queues,
                              workers) and upstream OpenAI-compatible servers by model name
          --policy FILE       a policy whose broker section limits callers (models, max tokens, rates,
                              guardrails); default: every served model, no limits
          --api-key KEY       the bearer token callers must send (default: $WARDEN_API_KEY, else a random
                              key printed on stderr)
          --threads N         CPU threads per pool worker (default: all online CPUs)

        Callers are queued fairly by the request's `user` field. The default model is loaded at start;
        a missing model file is an error (run `warden model pull`). Exit status 2 for bad arguments or
        configuration, 1 if the model cannot be loaded or the address cannot be bound.
        """

    struct Options {
        var host = "127.0.0.1"
        var port: UInt16 = 8000
        var configPath: String?
        var policyPath: String?
        var apiKey: String?
        var threads: Int?
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> Options {
        var cursor = ArgumentCursor(arguments)
        var options = Options()
        while !cursor.isEmpty {
            if let value = try cursor.value(for: "--listen") {
                (options.host, options.port) = try listenAddress(value)
            } else if let value = try cursor.value(for: "--config") {
                options.configPath = value
            } else if let value = try cursor.value(for: "--policy") {
                options.policyPath = value
            } else if let value = try cursor.value(for: "--api-key") {
                guard !value.isEmpty else { throw UsageError("--api-key must not be empty") }
                options.apiKey = value
            } else if let value = try cursor.value(for: "--threads") {
                guard let n = Int(value), (1...1024).contains(n) else { throw UsageError("--threads wants a number within 1...1024, not '\(value)'") }
                options.threads = n
            } else {
                throw UsageError("unexpected argument '\(cursor.peek ?? "")'")
            }
        }
        return options
    }

    /// `HOST:PORT`, `[V6]:PORT` or `:PORT` (all IPv4 interfaces).
    static func listenAddress(_ text: String) throws(UsageError) -> (String, UInt16) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else {
            throw UsageError("--listen wants HOST:PORT (e.g. 127.0.0.1:8000), not '\(text)'")
        }
        let host = String(text[..<colon])
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    static func run(_ arguments: [String]) -> Int32 {
        let options: Options
        do throws(UsageError) { options = try parse(arguments) } catch {
            printError("warden serve-model: \(error.description)\n\n\(usage)")
            return ExitCode.usage
        }
        let catalog: ModelCatalog, policy: BrokerPolicy
        do {
            catalog = try ModelCatalog.configured(path: options.configPath, threads: options.threads)
            policy = try servingPolicy(options.policyPath, models: catalog.names)
        } catch {
            printError("warden serve-model: \(error.message)")
            return ExitCode.usage
        }
        // The default model loads now: a missing or broken file is reported before anything listens.
        do { _ = try catalog.provider(named: ModelCatalog.defaultModelName) } catch {
            printError("warden serve-model: \(error.message)")
            return ExitCode.failure
        }
        var key = options.apiKey ?? environmentValue("WARDEN_API_KEY")
        if key == nil {
            key = BrokerRun.newToken()
            printError("warden serve-model: no --api-key or WARDEN_API_KEY given; callers must send: Authorization: Bearer \(key!)")
        }
        // Signals are taken by sigwait below, never delivered asynchronously (the worker threads inherit the mask).
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let server: ModelServer
        do {
            server = try ModelServer(models: catalog, policy: policy, apiKey: key ?? "", host: options.host,
                                     port: options.port, metrics: { catalog.prometheusText() })
        } catch {
            printError("warden serve-model: \(error.message)")
            catalog.shutdown()
            return ExitCode.failure
        }
        printError("warden serve-model: serving \(catalog.names.joined(separator: ", ")) on http://\(display(options.host)):\(server.port)/v1")
        var received: Int32 = 0
        sigwait(&signals, &received)
        printError("warden serve-model: \(received == SIGINT ? "SIGINT" : "SIGTERM"), stopping")
        server.stop()
        catalog.shutdown()
        return ExitCode.success
    }

    /// The broker section of the policy at `path`, or an open policy over `models`.
    static func servingPolicy(_ path: String?, models: [String]) throws(BrokerError) -> BrokerPolicy {
        guard let path else { return ModelServer.openPolicy(models: models) }
        do {
            guard let broker = try Policy.load(path: path).broker else {
                throw BrokerError(.invalidRequest, "\(path): the policy has no broker section to serve under")
            }
            return broker
        } catch let error as BrokerError {
            throw error
        } catch {
            throw BrokerError(.invalidRequest, "\(error)")
        }
    }

    static func display(_ host: String) -> String { host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host }

    static func environmentValue(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        let text = String(cString: value)
        return text.isEmpty ? nil : text
    }
}
