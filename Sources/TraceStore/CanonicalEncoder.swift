import Specs

/// The record hot path's canonical JSON writer: byte-for-byte the output of
/// `Specs.JSONWriter.canonical` (sorted keys by UTF-16 code units, no whitespace, the same escapes,
/// `-0` as `0`; a property test holds the two together), but appending runs of plain bytes in bulk
/// into one reused buffer. The general writer costs ~20 µs for a 300-byte record body; appends
/// must stay within a few µs for group commit to keep up with a plain `write` loop.
struct CanonicalEncoder {
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .number(let number):
            if number.literal == "-0" { bytes.append(UInt8(ascii: "0")) } else { bytes.append(contentsOf: number.literal.utf8) }
        case .string(let text): string(text)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (i, element) in elements.enumerated() {
                if i > 0 { bytes.append(UInt8(ascii: ",")) }
                self.value(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let object): self.object(object)
        }
    }

    mutating func object(_ object: JSONObject) {
        bytes.append(UInt8(ascii: "{"))
        let keys = object.keys, values = object.values
        if isSorted(keys) {
            // The common case (bodies are built in key order): no index array to allocate.
            for i in keys.indices { member(i, keys[i], values[i]) }
        } else {
            let order = keys.indices.sorted { Self.precedes(keys[$0], keys[$1]) }
            for (n, i) in order.enumerated() { member(n, keys[i], values[i]) }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    private mutating func member(_ position: Int, _ key: String, _ value: JSONValue) {
        if position > 0 { bytes.append(UInt8(ascii: ",")) }
        string(key)
        bytes.append(UInt8(ascii: ":"))
        self.value(value)
    }

    private func isSorted(_ keys: [String]) -> Bool {
        var index = 1
        while index < keys.count {
            if !Self.precedes(keys[index - 1], keys[index]) { return false }
            index += 1
        }
        return true
    }

    /// UTF-16 code unit order (RFC 8785). For keys without bytes >= 0xEE the UTF-8 byte order is the
    /// same and much cheaper; only U+E000 and above can order differently.
    static func precedes(_ a: String, _ b: String) -> Bool {
        if a.utf8.allSatisfy({ $0 < 0xEE }) && b.utf8.allSatisfy({ $0 < 0xEE }) {
            return a.utf8.lexicographicallyPrecedes(b.utf8)
        }
        return a.utf16.lexicographicallyPrecedes(b.utf16)
    }

    /// A quoted string with JSONWriter's escapes; runs of bytes that need none are appended at once.
    mutating func string(_ text: String) {
        var text = text
        text.withUTF8 { utf8 in
            bytes.append(UInt8(ascii: "\""))
            var runStart = 0
            var index = 0
            while index < utf8.count {
                // Skip eight plain bytes at a time (SWAR: no byte < 0x20, no '"', no '\\').
                if index + 8 <= utf8.count && !Self.needsEscape(UnsafeRawPointer(utf8.baseAddress! + index).loadUnaligned(as: UInt64.self)) {
                    index += 8
                    continue
                }
                let byte = utf8[index]
                if byte < 0x20 || byte == 0x22 || byte == 0x5C {
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<index]))
                    escape(byte)
                    runStart = index + 1
                }
                index += 1
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<utf8.count]))
            bytes.append(UInt8(ascii: "\""))
        }
    }

    /// Whether any of the eight bytes of `word` is < 0x20, '"' or '\\' (the classic has-zero-byte tricks).
    @inline(__always)
    static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let below = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote & highs
        let hasBackslash = (backslash &- ones) & ~backslash & highs
        return (below | hasQuote | hasBackslash) != 0
    }

    private mutating func escape(_ byte: UInt8) {
        bytes.append(0x5C)
        switch byte {
        case 0x22: bytes.append(0x22)
        case 0x5C: bytes.append(0x5C)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            raw("u00")
            hex.withUTF8Buffer { digits in
                bytes.append(digits[Int(byte >> 4)])
                bytes.append(digits[Int(byte & 0xF)])
            }
        }
    }

    /// Lowercase hex of `raw` (at most 32 bytes) as a JSON string, appended with one call.
    mutating func hexString(_ raw: UnsafeRawBufferPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 66) { scratch in
            var out = ScratchWriter(scratch)
            out.hexQuoted(UnsafeRawBufferPointer(rebasing: raw.prefix(32)))
            bytes.append(contentsOf: out.written)
        }
    }

    /// A non-negative integer in decimal.
    mutating func unsigned(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var out = ScratchWriter(scratch)
            out.unsigned(value)
            bytes.append(contentsOf: out.written)
        }
    }
}
