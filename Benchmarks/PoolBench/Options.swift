#if canImport(Glibc)
import Glibc
#endif
import BenchSupport

struct BenchOptions {
    var mode = ""
    var model = ""
    var threads = 2
    var runs = 3
    var gen = 128
    var promptLength = 128
    var promptIDs: [Int32] = []
    var streams: [Int] = [1, 4, 8, 16]
    var quiet = 9
    var requests = 4
    var agents = 16

    static func parse() -> BenchOptions {
        var o = BenchOptions()
        var args = CommandLine.arguments.dropFirst().makeIterator()
        o.mode = args.next() ?? ""
        while let a = args.next() {
            let v = args.next() ?? ""
            switch a {
            case "--model": o.model = v
            case "--threads": o.threads = Int(v) ?? 2
            case "--runs": o.runs = Int(v) ?? 3
            case "--gen": o.gen = Int(v) ?? 128
            case "--prompt-len": o.promptLength = Int(v) ?? 128
            case "--prompt-ids": o.promptIDs = readIDs(v)
            case "--streams": o.streams = v.split(separator: ",").compactMap { Int($0) }
            case "--quiet": o.quiet = Int(v) ?? 9
            case "--requests": o.requests = Int(v) ?? 4
            case "--agents": o.agents = Int(v) ?? 16
            default: fail("unknown option \(a)")
            }
        }
        if o.model.isEmpty { fail("usage: PoolBench throughput|fairness|prefix --model PATH [options]") }
        if o.promptIDs.isEmpty { o.promptIDs = (0..<(o.promptLength + 7 * 16 + 64)).map { Int32(1000 + ($0 * 7919) % 40000) } }
        return o
    }

    static func fail(_ message: String) -> Never { BenchSupport.fail("PoolBench", message) }

    static func readIDs(_ path: String) -> [Int32] {
        guard let ids = readTokenIDs(path) else { fail("cannot open \(path)") }
        return ids
    }
}

func json(_ pairs: [(String, String)]) -> String {
    "{" + pairs.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
}

func list(_ v: [Double]) -> String { "[" + v.map { String($0) }.joined(separator: ", ") + "]" }

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
