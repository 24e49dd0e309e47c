import Foundation
import Testing
import TestSupport

/// `warden serve-model` as users run it: a real process on a real port, called with the official
/// `openai` client (AgentSpecs/python/.venv) outside any sandbox.
@Suite("warden serve-model", .serialized)
struct ServeModelTests {
    static let python = WardenTool.packageRoot.appendingPathComponent("AgentSpecs/python/.venv/bin/python3").path
    static let probe = WardenTool.packageRoot.appendingPathComponent("Tests/Data/serve_model_probe.py").path
    static var modelPath: String? {
        let result = try? WardenTool.run(["model", "path"])
        let path = result?.stdout.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }
    static var ready: Bool { FileManager.default.fileExists(atPath: python) && modelPath != nil }

    /// A running server and the base URL it printed.
    final class Server {
        let process = Process()
        let errors = Pipe()
        private(set) var base = ""
        private var seen = ""

        init(_ arguments: [String]) throws {
            process.executableURL = URL(fileURLWithPath: WardenTool.binary)
            process.arguments = ["serve-model"] + arguments
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            // The server says where it listens once it is ready (port 0: the kernel's pick).
            let handle = errors.fileHandleForReading
            let deadline = Date().addingTimeInterval(120)
            while Date() < deadline, process.isRunning {
                let data = handle.availableData
                if data.isEmpty { break }
                seen += String(decoding: data, as: UTF8.self)
                if let range = seen.range(of: #"http://[^ \n]+/v1"#, options: .regularExpression) {
                    base = String(seen[range])
                    return
                }
            }
            process.terminate()
            throw TraceToolError("serve-model did not start: \(seen)")
        }

        /// SIGTERM, then the exit status and the rest of stderr.
        func stop() -> (Int32, String) {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            let rest = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            return (process.terminationStatus, seen + rest)
        }
    }

    @Test("the openai client chats, streams and lists models; metrics and health answer; SIGTERM stops it",
          .enabled(if: ready, "run Scripts/agent-venv and warden model pull"))
    func openAIClient() throws {
        let server = try Server(["--listen", "127.0.0.1:0", "--api-key", "sekret", "--threads", "2"])
        let result = try WardenTool.runProcess(Self.python, [Self.probe, server.base, "sekret"], timeout: 300)
        let (status, log) = server.stop()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(status == 0, "\(log)")
        #expect(log.contains("SIGTERM, stopping"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect((json["models"] as? [String])?.contains("smollm2-135m") == true)
        let concurrent = try #require(json["concurrent"] as? [[String: Any]])
        #expect(concurrent.count == 4)
        for answer in concurrent {
            #expect((answer["completion"] as? Int ?? 0) >= 1)
            #expect((answer["prompt"] as? Int ?? 0) > 5)
        }
        // Greedy answers do not depend on what else was in the batch.
        #expect((json["repeat"] as? [String: Any])?["text"] as? String == concurrent[0]["text"] as? String)
        let stream = try #require(json["stream"] as? [String: Any])
        #expect(!(stream["text"] as? String ?? "").isEmpty && (stream["completion"] as? Int ?? 0) >= 1)
        #expect(json["wrong_key"] as? Int == 401)
        #expect(json["unknown_model"] as? Int == 403 || json["unknown_model"] as? Int == 404)
        let metrics = try #require(json["metrics"] as? [String])
        #expect(metrics.contains { $0.hasPrefix("warden_pool_") }, "\(metrics)")
        #expect((json["health"] as? [String: Any])?["status"] as? String == "ok")
    }

    static let badArguments: [([String], Int32, String)] = [
        (["--listen", "nowhere"], 2, "HOST:PORT"),
        (["--threads", "0"], 2, "--threads"),
        (["--api-key", ""], 2, "must not be empty"),
        (["--bogus"], 2, "unexpected argument"),
        (["--policy", "/nonexistent/policy.json"], 2, "/nonexistent/policy.json"),
        (["--config", "/nonexistent/models.json"], 2, "/nonexistent/models.json"),
        (["--listen", "256.1.1.1:80"], 1, "256.1.1.1"),
    ]

    @Test("bad arguments and configuration are refused with a clear message", arguments: badArguments)
    func refused(_ arguments: [String], _ status: Int32, _ words: String) throws {
        let result = try WardenTool.run(["serve-model"] + arguments, timeout: 60)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.contains(words), "\(result.stderr)")
    }
}
