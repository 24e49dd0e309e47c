// GPUBench's output: one JSON object written to --out (what Scripts/gpu-check collects and
// BENCHMARKS.md quotes) and a short table on stdout. Non-finite numbers become null.
#if canImport(Glibc)
import Glibc
#endif
import Specs

/// A JSON object built in order.
struct Report {
    private(set) var object = JSONObject()

    subscript(key: String) -> JSONValue? {
        get { object[key] }
        set { object[key] = newValue }
    }

    static func number(_ value: Double) -> JSONValue {
        guard value.isFinite, let number = JSONNumber(value) else { return .null }
        return .number(number)
    }

    static func number(_ value: Int) -> JSONValue { .number(JSONNumber(value)) }

    static func object(_ members: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(members)) }

    /// The report as pretty JSON text, newline-terminated.
    var text: String { JSONWriter.pretty(.object(object)) + "\n" }

    /// Writes the report to `path` (replacing it); the error names the path and errno.
    func write(to path: String) -> String? {
        let bytes = Array(text.utf8)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "cannot write \(path): \(String(cString: strerror(errno)))" }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return "cannot write \(path): \(String(cString: strerror(errno)))" }
            written += n
        }
        return nil
    }
}

/// Fixed-width table rows for stdout.
enum Table {
    static func row(_ cells: [String], widths: [Int]) -> String {
        zip(cells, widths).map { cell, width in
            cell.count >= width ? cell : String(repeating: " ", count: width - cell.count) + cell
        }.joined(separator: "  ")
    }

    static func format(_ value: Double, _ digits: Int = 1) -> String {
        guard value.isFinite else { return "-" }
        var factor = 1.0
        for _ in 0..<digits { factor *= 10 }
        let scaled = (value * factor).rounded() / factor
        var text = String(scaled)
        if let dot = text.firstIndex(of: ".") {
            let decimals = text.distance(from: dot, to: text.endIndex) - 1
            if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
            if digits == 0 { text = String(text[..<dot]) }
        }
        return text
    }
}

/// Writes a line to stderr.
func printError(_ message: String) {
    let line = Array((message.hasSuffix("\n") ? message : message + "\n").utf8)
    _ = line.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
}
