// http-bench: HTTP load generator and the servers it compares (Benchmarks/broker.sh drives it).
//
//   http-bench run MODE [--connections N] [--calls M] [--warmup W]
//       starts MODE's server in-process, runs the load against it, prints one result line
//   http-bench serve MODE            starts MODE's server and prints "port P"; runs until killed
//   http-bench load PORT [--connections N] [--calls M] [--warmup W] [--path P]
//       load against a server elsewhere (GET PATH)
//   http-bench modes                 lists the modes
import Glibc
import HTTPServer

func fail(_ message: String) -> Never {
    let line = Array(("http-bench: " + message + "\n").utf8)
    _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(2)
}

func say(_ text: String) {
    let line = Array((text + "\n").utf8)
    _ = line.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// `--name value` options after the positional arguments.
func option(_ name: String, _ fallback: Int, in arguments: [String]) -> Int {
    guard let index = arguments.firstIndex(of: "--" + name), index + 1 < arguments.count else { return fallback }
    guard let value = Int(arguments[index + 1]), value > 0 else { fail("--\(name) needs a positive number") }
    return value
}

func mode(_ name: String) -> BenchMode {
    guard let mode = BenchMode.named(name) else { fail("unknown mode '\(name)' (modes: \(BenchMode.all.map(\.name).joined(separator: ", ")))") }
    return mode
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else { fail("usage: http-bench run|serve|load|modes ...") }
let connections = option("connections", 4, in: arguments)
let calls = option("calls", 100_000, in: arguments)
let warmup = option("warmup", 1000, in: arguments)
do {
    switch command {
    case "modes":
        for mode in BenchMode.all { say("\(mode.name)\t\(mode.summary)") }
    case "run":
        guard arguments.count >= 2 else { fail("usage: http-bench run MODE [--connections N] [--calls M]") }
        let selected = mode(arguments[1])
        let server = try selected.start()
        let request = try selected.prepare?(server.port) ?? selected.request
        let generator = LoadGenerator(port: server.port, request: request, connections: connections, calls: calls, warmup: warmup)
        let result = try generator.run()
        server.stop()
        say("mode=\(selected.name) connections=\(connections) " + result.line)
    case "serve":
        guard arguments.count >= 2 else { fail("usage: http-bench serve MODE") }
        let server = try mode(arguments[1]).start()
        say("port \(server.port)")
        while true { sleep(3600) }
    case "load":
        guard arguments.count >= 2, let port = UInt16(arguments[1]) else { fail("usage: http-bench load PORT ...") }
        let path = arguments.firstIndex(of: "--path").flatMap { $0 + 1 < arguments.count ? arguments[$0 + 1] : nil } ?? "/echo"
        let generator = LoadGenerator(port: port, request: HTTPRequest(method: "GET", target: path), connections: connections, calls: calls, warmup: warmup)
        say("port=\(port) connections=\(connections) " + (try generator.run()).line)
    default:
        fail("unknown command '\(command)'")
    }
} catch {
    fail("\(error)")
}
