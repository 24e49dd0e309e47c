import CTraceDigest
import Glibc

/// SHA-256 (FIPS 180-4), streaming. Used to verify model files; checked against the NIST vectors.
public struct SHA256: Sendable {
    // The digest itself is CTraceDigest's (SHA-NI where the CPU has it, portable C otherwise, tested
    // against the NIST vectors there and here): one SHA-256 in the project, not one per module.
    private var context = wd_sha256_ctx()

    public init() { wd_sha256_init(&context, Int32(WD_DIGEST_HARDWARE)) }

    /// Adds bytes to the message.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        wd_sha256_update(&context, base, bytes.count)
    }

    /// Adds bytes to the message.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let array = Array(bytes)
        array.withUnsafeBytes { update($0) }
    }

    /// The 32-byte digest of everything added.
    public consuming func finalize() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: 32)
        digest.withUnsafeMutableBufferPointer { out in
            guard let base = out.baseAddress else { return }
            wd_sha256_final(&context, base)
        }
        return digest
    }

    /// The lowercase hex SHA-256 of `bytes`.
    public static func hex<Bytes: Sequence>(of bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var hash = SHA256()
        hash.update(bytes)
        return hexString(hash.finalize())
    }

    /// Lowercase hex of a digest.
    public static func hexString(_ digest: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(digest.count * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

extension SHA256 {
    /// The lowercase hex SHA-256 of a file, read in 1 MiB chunks.
    public static func hex(ofFile path: String) throws(InferenceError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw InferenceError(.io, "cannot open: \(String(cString: strerror(errno)))", path: path)
        }
        defer { close(fd) }
        var hash = SHA256()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        while true {
            let n = read(fd, buffer.baseAddress, buffer.count)
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw InferenceError(.io, "cannot read: \(String(cString: strerror(errno)))", path: path) }
            if n == 0 { break }
            hash.update(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        }
        return hexString(hash.finalize())
    }
}
