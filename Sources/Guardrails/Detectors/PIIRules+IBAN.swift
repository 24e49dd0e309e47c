/// IBAN and IPv6 shapes.
extension PIIRules {
    /// IBAN lengths by country (ISO 13616 registry).
    static let ibanLengths: [UInt16: Int] = {
        let table = "AD24 AE23 AL28 AT20 AZ28 BA20 BE16 BG22 BH22 BR29 BY28 CH21 CR22 CY28 CZ24 DE22 DK18 DO28 EE20 EG29 ES24 FI18 FO18 FR27 GB22 GE22 GI23 GL18 GR27 GT28 HR21 HU28 IE22 IL23 IQ23 IS26 IT27 JO30 KW30 KZ20 LB28 LC32 LI21 LT20 LU20 LV21 MC27 MD24 ME22 MK19 MR27 MT31 MU30 NL18 NO15 PK24 PL28 PS29 PT25 QA29 RO24 RS22 SA24 SC31 SE24 SI19 SK24 SM27 ST25 SV28 TL23 TN24 TR26 UA29 VA22 VG24 XK20"
        var lengths: [UInt16: Int] = [:]
        for entry in table.split(separator: " ") {
            let bytes = Array(entry.utf8)
            lengths[UInt16(bytes[0]) << 8 | UInt16(bytes[1])] = Int(String(entry.dropFirst(2))) ?? 0
        }
        return lengths
    }()

    /// Country code, check digits, BBAN (optionally in groups of four separated by single spaces),
    /// of the country's length, with `mod 97 == 1`.
    static func iban(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard start + 15 <= text.count, Bytes.isUpper(text[start + 1]), Bytes.isDigit(text[start + 2]), Bytes.isDigit(text[start + 3]),
              let length = ibanLengths[UInt16(text[start]) << 8 | UInt16(text[start + 1])] else { return nil }
        var characters: [UInt8] = []
        var cursor = start, end = start
        while cursor < text.count, characters.count < length {
            let byte = text[cursor]
            if Bytes.isUpper(byte) || Bytes.isDigit(byte) { characters.append(byte); cursor += 1; end = cursor; continue }
            guard byte == 0x20, characters.count % 4 == 0, cursor + 1 < text.count, Bytes.isAlnum(text[cursor + 1]) else { break }
            cursor += 1
        }
        guard characters.count == length else { return nil }
        if end < text.count, Bytes.isAlnum(text[end]) { return nil }
        // Move the first four characters to the end, letters as 10..35, remainder mod 97.
        var remainder = 0
        for byte in characters[4...] + characters[..<4] {
            if Bytes.isDigit(byte) { remainder = (remainder * 10 + Int(byte - 0x30)) % 97 }
            else { remainder = (remainder * 100 + Int(byte - 0x41 + 10)) % 97 }
        }
        return remainder == 1 ? start..<end : nil
    }

    static func ipv6Byte(_ byte: UInt8) -> Bool { Bytes.isHex(byte) || byte == 0x3A || byte == 0x2E }

    /// An IPv6 address around the `:` at `colon`: up to 8 groups of 1–4 hex digits, one `::`, an
    /// optional dotted-quad tail. Needs two or more groups with 4+ hex digits in all, so `std::vector`,
    /// `a::b` and clock times are not addresses.
    static func ipv6(_ text: UnsafeBufferPointer<UInt8>, colonAt colon: Int) -> Range<Int>? {
        var start = colon
        while start > 0, colon - start < 40, ipv6Byte(text[start - 1]) { start -= 1 }
        let end = Bytes.run(text, from: colon, limit: 45, ipv6Byte)
        if start > 0, Bytes.isAlnum(text[start - 1]) || text[start - 1] == 0x5F { return nil }
        if end < text.count, Bytes.isAlnum(text[end]) || text[end] == 0x5F { return nil }
        var trimmedEnd = end
        while trimmedEnd > start, text[trimmedEnd - 1] == 0x2E { trimmedEnd -= 1 }
        return validIPv6(text, start..<trimmedEnd) ? start..<trimmedEnd : nil
    }

    static func validIPv6(_ text: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        var groups = 0, hexDigits = 0, doubleColon = false, index = range.lowerBound, longGroup = false
        if Bytes.hasPrefix(text, at: index, "::") { doubleColon = true; index += 2 }
        while index < range.upperBound {
            let groupEnd = Bytes.run(text, from: index, limit: range.upperBound - index, Bytes.isHex)
            if groupEnd < range.upperBound, text[groupEnd] == 0x2E {
                // Embedded IPv4 tail counts as two groups.
                guard let quad = ipv4(text, at: index), quad.upperBound == range.upperBound else { return false }
                groups += 2; hexDigits += 4; index = range.upperBound; break
            }
            let length = groupEnd - index
            guard length >= 1, length <= 4 else { return false }
            groups += 1; hexDigits += length; longGroup = longGroup || length >= 3
            index = groupEnd
            if index == range.upperBound { break }
            guard text[index] == 0x3A else { return false }
            if index + 1 < range.upperBound, text[index + 1] == 0x3A {
                guard !doubleColon else { return false }
                doubleColon = true; index += 2
            } else if index + 1 == range.upperBound {
                return false
            } else {
                index += 1
            }
        }
        guard groups <= 8, hexDigits >= 4, groups >= 2 else { return false }
        return doubleColon ? groups < 8 && longGroup : groups == 8
    }
}
