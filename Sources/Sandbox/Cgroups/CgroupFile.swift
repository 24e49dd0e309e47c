import Glibc

/// Small-file I/O for cgroupfs: whole-file reads, single-write writes, `key value` parsing.
///
/// cgroupfs control files must be written in one `write(2)` (a split write is two commands), and
/// report errors such as EBUSY or EINVAL from that write, so these helpers return the errno.
enum CgroupFile {
    /// Reads a whole (small) file, or nil if it cannot be opened or read.
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            bytes.append(contentsOf: buffer[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes `text` to an existing control file in one write; returns 0 or the errno.
    @discardableResult
    static func write(_ path: String, _ text: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        return write(fd: fd, text)
    }

    /// Writes `text` to an open control file in one write; returns 0 or the errno.
    static func write(fd: Int32, _ text: String) -> Int32 {
        var bytes = Array(text.utf8)
        while true {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return errno }
            return n == bytes.count ? 0 : EIO
        }
    }

    /// The integer after `key` in a `key value` per line file (memory.events, pids.events, cpu.stat).
    static func field(_ key: String, in text: String?) -> UInt64? {
        guard let text else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2 && parts[0] == key { return UInt64(parts[1]) }
        }
        return nil
    }

    /// A file holding one unsigned integer (memory.max_usage_in_bytes, cpuacct.usage).
    static func number(_ path: String) -> UInt64? {
        guard let text = read(path) else { return nil }
        return UInt64(text.split(separator: "\n").first ?? "")
    }

    /// The pids listed in a cgroup.procs / tasks file.
    static func pids(_ path: String) -> [Int32] {
        guard let text = read(path) else { return [] }
        return text.split(separator: "\n").compactMap { Int32($0) }
    }

    /// True if `path` exists.
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
