/// GPT-2's byte-level alphabet: every byte 0...255 is written as one printable Unicode scalar, so a
/// vocabulary of strings can hold arbitrary bytes (openai/gpt-2 encoder.py, `bytes_to_unicode`).
///
/// Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) stand for themselves; the other 68 bytes
/// are numbered in order from U+0100, so a space is `Ġ` (U+0120) and a newline `Ċ` (U+010A).
enum ByteLevelAlphabet {
    /// The scalar value that stands for each byte.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if isPrintable(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte each alphabet scalar stands for (indexed by scalar value, 0..<324), or -1.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    private static func isPrintable(_ byte: Int) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// The raw bytes a vocabulary string stands for, or nil when it holds a scalar outside the alphabet.
    static func bytes(of text: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            let value = Int(scalar.value)
            guard value < byteForScalar.count, byteForScalar[value] >= 0 else { return nil }
            out.append(UInt8(byteForScalar[value]))
        }
        return out
    }

    /// The vocabulary string that stands for one raw byte.
    static func text(ofByte byte: UInt8) -> String {
        String(Character(Unicode.Scalar(scalarForByte[Int(byte)]) ?? "?"))
    }
}
