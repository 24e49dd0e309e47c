import Testing
@testable import TraceStore
import TestSupport

@Suite("CTraceDigest: SHA-256 and CRC-32C")
struct DigestTests {
    /// FIPS 180-2 appendix B vectors (and the empty string).
    static let shaVectors: [(String, String)] = [
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
        ("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
         "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"),
    ]

    @Test("SHA-256 matches the NIST vectors, portable and hardware", arguments: shaVectors)
    func nistVectors(message: String, expected: String) {
        for hardware in [false, true] {
            var hasher = SHA256Hasher(hardware: hardware)
            hasher.update(Array(message.utf8))
            #expect(hasher.finalize().hex == expected, "hardware: \(hardware)")
        }
        #expect(Hex.encode(ReferenceDigest.sha256(Array(message.utf8))) == expected)
    }

    @Test("SHA-256 of one million 'a' (NIST), fed in uneven pieces")
    func millionA() {
        for hardware in [false, true] {
            var hasher = SHA256Hasher(hardware: hardware)
            let piece = [UInt8](repeating: UInt8(ascii: "a"), count: 997)
            var left = 1_000_000
            while left > 0 {
                hasher.update(piece.prefix(min(left, piece.count)))
                left -= min(left, piece.count)
            }
            #expect(hasher.finalize().hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        }
    }

    @Test("the hardware path is in use where the CPU has SHA-NI")
    func hardwareSelected() {
        let hasher = SHA256Hasher()
        #expect(hasher.usesHardware == (CRC32C.hardwareFeatures & 2 != 0))
    }

    @Test("SHA-256 agrees with the Swift reference on random lengths around block boundaries")
    func randomAgainstReference() {
        var random = SeededGenerator(seed: 7)
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 127, 128, 129, 300, 1000] + (0..<20).map({ _ in Int.random(in: 0...3000, using: &random) }) {
            let data = random.bytes(length)
            let expected = ReferenceDigest.sha256(data)
            for hardware in [false, true] {
                var hasher = SHA256Hasher(hardware: hardware)
                hasher.update(data)
                #expect(hasher.finalize().bytes == expected, "length \(length) hardware \(hardware)")
            }
            #expect(SHA256Digest(hashing: data).bytes == expected)
        }
    }

    /// RFC 3720 appendix B.4 CRC-32C examples, plus the standard check value.
    static let crcVectors: [([UInt8], UInt32)] = [
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0..<32).map { UInt8($0) }, 0x46DD_794E),
        ((0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
        ([0x01, 0xC0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
          0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18,
          0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], 0xD996_3A56),
        (Array("123456789".utf8), 0xE306_9283),
    ]

    @Test("CRC-32C matches the RFC 3720 vectors, portable and hardware", arguments: crcVectors)
    func rfc3720(data: [UInt8], expected: UInt32) {
        #expect(CRC32C.checksum(data, hardware: false) == expected)
        #expect(CRC32C.checksum(data, hardware: true) == expected)
        #expect(ReferenceDigest.crc32c(data) == expected)
    }

    @Test("CRC-32C agrees with the Swift reference on random data, and continues across pieces")
    func crcRandom() {
        var random = SeededGenerator(seed: 11)
        for _ in 0..<40 {
            let data = random.bytes(Int.random(in: 0...2000, using: &random))
            let expected = ReferenceDigest.crc32c(data)
            #expect(CRC32C.checksum(data, hardware: false) == expected)
            #expect(CRC32C.checksum(data, hardware: true) == expected)
            let cut = data.isEmpty ? 0 : Int.random(in: 0...data.count, using: &random)
            let first = CRC32C.checksum(Array(data[..<cut]))
            #expect(CRC32C.checksum(Array(data[cut...]), continuing: first) == expected)
        }
    }
}
