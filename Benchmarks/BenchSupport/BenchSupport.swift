// What the benchmark drivers share: the clock, medians and percentiles, token-id files, and the
// way a driver gives up (a message on stderr, exit status 2).
#if canImport(Glibc)
import Glibc
#endif

/// Seconds on the monotonic clock.
public func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// The median (the mean of the middle two for an even count); 0 for no values.
public func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return 0 }
    let s = values.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

/// The nearest-rank percentile `p` (0...100); 0 for no values.
public func percentile(_ values: [Double], _ p: Double) -> Double {
    guard !values.isEmpty else { return 0 }
    let s = values.sorted()
    let rank = Int((p / 100 * Double(s.count)).rounded(.up))
    return s[max(0, min(s.count - 1, rank - 1))]
}

/// Writes "DRIVER: message" to stderr and exits with status 2.
public func fail(_ driver: String, _ message: String) -> Never {
    let line = Array("\(driver): \(message)\n".utf8)
    _ = write(2, line, line.count)
    exit(2)
}

/// Comma- or whitespace-separated token ids from a file (what inference_peer.py writes); nil if the
/// file cannot be opened.
public func readTokenIDs(_ path: String) -> [Int32]? {
    guard let f = fopen(path, "r") else { return nil }
    defer { fclose(f) }
    var text = ""
    var buf = [CChar](repeating: 0, count: 4096)
    while fgets(&buf, 4096, f) != nil { text += String(decoding: buf.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) }
    return text.split { ", \n[]".contains($0) }.compactMap { Int32($0) }
}
