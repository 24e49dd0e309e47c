import Glibc
import Specs
import Supervisor
import TraceStore

/// One line or JSON object per run for `warden trace ls`; lines are made from the JSON form, which
/// is also what a daemon answers, so both paths print the same.
enum TraceListing {
    static func line(_ run: JSONValue) -> String {
        let status = run[member: "status"]?.cell ?? "?"
        let counted = status == "open" ? "open" : "\(status), \(run[member: "records"]?.cell ?? "?") records"
        let agent = run[member: "agent"]?.cell ?? ""
        let start: UInt64 = { if case .number(let n)? = run[member: "start_ns"] { return n.uint64 ?? 0 }; return 0 }()
        return "\(run[member: "run"]?.cell ?? "?")  \(utc(start))  \(counted)\(agent.isEmpty ? "" : "  agent \(agent)")"
    }

    static func json(_ run: IndexedRun) -> JSONValue { TraceForms.listing(run) }

    /// `2026-12-02 19:10:44Z`.
    static func utc(_ nanoseconds: UInt64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}

/// Writes text to standard output.
func writeOut(_ text: String) {
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        bytes = bytes.dropFirst(n)
    }
}

/// Creates or replaces a file with `text`.
func writeFile(_ path: String, _ text: String) throws {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw TraceError(.io, "cannot create the output file", file: path, errno: errno) }
    defer { close(fd) }
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { throw TraceError(.io, "cannot write the output file", file: path, errno: errno) }
        bytes = bytes.dropFirst(n)
    }
}
