/// Base64 smuggling: instructions hidden in a base64 blob that a model is likely to decode. Long
/// base64 runs are decoded; when the result is mostly printable text and the injection rules score
/// it as an attack, the blob is an `encoded_injection` finding.
enum EncodedPayloads {
    /// Shorter runs are common (IDs, hashes) and too short to hide an instruction.
    static let minimumRun = 28
    /// Decoding stops here; an instruction fits well within it.
    static let maximumDecoded = 2048

    static let alphabet: [Int8] = {
        var table = [Int8](repeating: -1, count: 256)
        let letters = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        for (value, byte) in letters.enumerated() { table[Int(byte)] = Int8(value) }
        table[Int(UInt8(ascii: "-"))] = 62; table[Int(UInt8(ascii: "_"))] = 63  // base64url
        return table
    }()

    /// Runs of base64 characters of at least `minimumRun` bytes in `text[from...]`.
    static func runs(_ text: UnsafeBufferPointer<UInt8>, from: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        alphabet.withUnsafeBufferPointer { table in
            var index = from
            while index < text.count {
                guard table[Int(text[index])] >= 0 else { index += 1; continue }
                let start = index
                var letters = false, digits = false
                while index < text.count, table[Int(text[index])] >= 0 {
                    letters = letters || Bytes.isAlpha(text[index]); digits = digits || Bytes.isDigit(text[index])
                    index += 1
                }
                // Words and numbers are not blobs; a blob mixes letters with digits or symbols.
                if index - start >= minimumRun, letters, digits || index - start >= 64 { result.append(start..<index) }
            }
        }
        return result
    }

    /// The decoded bytes when they are mostly printable text, else nil.
    static func decodeText(_ text: UnsafeBufferPointer<UInt8>, _ run: Range<Int>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(min(maximumDecoded, run.count * 3 / 4))
        var buffer: UInt32 = 0, bits = 0
        for index in run {
            let value = alphabet[Int(text[index])]
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                if output.count >= maximumDecoded { break }
            }
        }
        let printable = output.reduce(0) { $0 + (($1 >= 0x20 && $1 < 0x7F) || $1 == 0x0A || $1 == 0x09 ? 1 : 0) }
        return output.count >= 16 && printable * 10 >= output.count * 9 ? output : nil
    }
}
