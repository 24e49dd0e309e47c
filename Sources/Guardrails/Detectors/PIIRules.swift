/// The shape and checksum tests behind `PIIDetector`, each at a candidate offset.
enum PIIRules {
    static func emailLocal(_ byte: UInt8) -> Bool {
        Bytes.isAlnum(byte) || byte == 0x2E || byte == 0x5F || byte == 0x25 || byte == 0x2B || byte == 0x2D
    }

    /// `local@domain.tld` around the `@` at `at`.
    static func email(_ text: UnsafeBufferPointer<UInt8>, at: Int) -> Range<Int>? {
        var start = at
        while start > 0, at - start < 64, emailLocal(text[start - 1]) { start -= 1 }
        while start < at, !Bytes.isAlnum(text[start]) { start += 1 }
        guard start < at else { return nil }
        var end = at + 1, lastDot = -1, labelLength = 0
        while end < text.count, end - at < 254 {
            let byte = text[end]
            if Bytes.isAlnum(byte) || byte == 0x2D { labelLength += 1 }
            else if byte == 0x2E, labelLength > 0, end + 1 < text.count, Bytes.isAlnum(text[end + 1]) { lastDot = end; labelLength = 0 }
            else { break }
            end += 1
        }
        guard lastDot > at + 1, end - lastDot - 1 >= 2 else { return nil }
        for index in (lastDot + 1)..<end where !Bytes.isAlpha(text[index]) { return nil }
        return start..<end
    }

    /// Dotted quad, each part 0–255, not part of a longer dotted number (a version string).
    static func ipv4(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        var cursor = start
        for part in 0..<4 {
            let end = Bytes.run(text, from: cursor, limit: 4, Bytes.isDigit)
            guard end > cursor, end - cursor <= 3 else { return nil }
            var value = 0
            for index in cursor..<end { value = value * 10 + Int(text[index] - 0x30) }
            guard value <= 255 else { return nil }
            cursor = end
            if part < 3 {
                guard cursor < text.count, text[cursor] == 0x2E else { return nil }
                cursor += 1
            }
        }
        if cursor < text.count, Bytes.isAlnum(text[cursor]) { return nil }
        if cursor + 1 < text.count, text[cursor] == 0x2E, Bytes.isDigit(text[cursor + 1]) { return nil }
        return start..<cursor
    }

    /// `ddd-dd-dddd` (or spaces) with valid area (not 000, 666, 9xx), group (not 00), serial (not 0000).
    static func ssn(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard start + 11 <= text.count else { return nil }
        let separator = text[start + 3]
        guard separator == 0x2D || separator == 0x20, text[start + 6] == separator else { return nil }
        var digits: [Int] = []
        for offset in [0, 1, 2, 4, 5, 7, 8, 9, 10] {
            let byte = text[start + offset]
            guard Bytes.isDigit(byte) else { return nil }
            digits.append(Int(byte - 0x30))
        }
        if start + 11 < text.count, Bytes.isAlnum(text[start + 11]) || text[start + 11] == separator && start + 12 < text.count && Bytes.isDigit(text[start + 12]) { return nil }
        let area = digits[0] * 100 + digits[1] * 10 + digits[2]
        let group = digits[3] * 10 + digits[4]
        let serial = digits[5] * 1000 + digits[6] * 100 + digits[7] * 10 + digits[8]
        guard area != 0, area != 666, area < 900, group != 0, serial != 0 else { return nil }
        return start..<(start + 11)
    }

    /// 13–19 digits, optionally grouped by one kind of separator, with a card-network prefix and a
    /// valid Luhn checksum.
    static func card(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        // Network prefixes: 2 and 5 (Mastercard), 3 (Amex, Diners, JCB), 4 (Visa), 6 (Discover,
        // Maestro, UnionPay), 1800 (15-digit JCB).
        guard "23456".utf8.contains(text[start]) || Bytes.hasPrefix(text, at: start, "1800"),
              digitCount(text, from: start) >= 13 else { return nil }
        var digits = SIMD32<UInt8>(), count = 0
        var cursor = start, separator: UInt8 = 0, end = start
        while cursor < text.count, count < 20 {
            let byte = text[cursor]
            if Bytes.isDigit(byte) { digits[count] = byte - 0x30; count += 1; cursor += 1; end = cursor; continue }
            guard byte == 0x20 || byte == 0x2D, separator == 0 || separator == byte,
                  cursor + 1 < text.count, Bytes.isDigit(text[cursor + 1]) else { break }
            separator = byte; cursor += 1
        }
        guard count >= 13, count <= 19 else { return nil }
        if end < text.count, Bytes.isAlnum(text[end]) { return nil }
        return luhn(digits, count: count) ? start..<end : nil
    }

    /// Digits in the run of digits and number separators (space - . ( )) at `start`: a cheap
    /// bound checked before the exact parse, since most digit runs in text are short numbers.
    @inline(__always) static func digitCount(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        var count = 0, index = start
        while index < text.count, index - start < 40 {
            let byte = text[index]
            if Bytes.isDigit(byte) { count += 1 } else if !(byte == 0x20 || byte == 0x2D || byte == 0x2E || byte == 0x28 || byte == 0x29) { break }
            index += 1
        }
        return count
    }

    /// The Luhn checksum of the first `count` digits.
    static func luhn(_ digits: SIMD32<UInt8>, count: Int) -> Bool {
        var sum = 0
        for offset in 0..<count {
            var value = Int(digits[count - 1 - offset])
            if offset % 2 == 1 { value *= 2; if value > 9 { value -= 9 } }
            sum += value
        }
        return sum % 10 == 0
    }

    static func luhn(_ digits: [UInt8]) -> Bool {
        var packed = SIMD32<UInt8>()
        for (index, digit) in digits.prefix(32).enumerated() { packed[index] = digit }
        return luhn(packed, count: min(32, digits.count))
    }

    /// Phone numbers: `+` and 8–15 digits (international), or a North American 10-digit number
    /// written `(ddd) ddd-dddd`, `ddd-ddd-dddd`, `ddd.ddd.dddd`, or bare after a context word.
    static func phone(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        let international = text[start] == 0x2B
        guard digitCount(text, from: international ? start + 1 : start) >= 8 else { return nil }
        let shape = PhoneShape(text, from: international ? start + 1 : start)
        let count = shape.count
        // An extension ("x123", as in 555-0132x45) belongs to the number; other letters end it badly.
        var end = shape.end
        if end + 1 < text.count, text[end] == 0x78, Bytes.isDigit(text[end + 1]) {
            end = Bytes.run(text, from: end + 1, limit: 6, Bytes.isDigit)
        }
        if end < text.count, Bytes.isAlnum(text[end]) { return nil }
        guard count > 0, shape.groupCount > 0 else { return nil }
        if international {
            // The last group has two or more digits: +35236450.6 is a number, not a phone.
            guard shape.groups[shape.groupCount - 1] >= 2 else { return nil }
            return count >= 8 && count <= 15 && shape.groupCount >= 2 || count >= 10 && count <= 13 ? start..<end : nil
        }
        // European national formats: a trunk prefix 0 (0118 496 0982, 05 45 23 28 60, (02328) 60129),
        // or the 00 international prefix; grouped, so bare IDs do not qualify.
        if count >= 10, shape.digits[0] == 0, shape.groupCount >= 2, shape.allGroups(atLeast: 2) {
            if shape.digits[1] == 0 ? count <= 15 : count <= 11 { return start..<end }
        }
        // North American numbers: 10 digits (after an optional leading 1), area code and exchange 2-9.
        let skip = count == 11 && shape.digits[0] == 1 ? 1 : 0
        guard count - skip == 10, shape.digits[skip] >= 2, shape.digits[skip + 3] >= 2 else { return nil }
        let groups = shape.groupList(droppingLeadingOne: skip == 1)
        let formatted = groups == [3, 3, 4] && (shape.parens || shape.separators >= 2)
        guard formatted || (groups == [10] && hasContext(text, before: start, words: phoneWords)) else { return nil }
        return start..<end
    }

    /// Digits of a phone-like run, grouped by single separators (space, `-`, `.`, parentheses).
    /// Fixed-size storage: this runs at every number in the text.
    struct PhoneShape {
        var digits = SIMD16<UInt8>(), count = 0
        var groups = SIMD16<UInt8>(), groupCount = 0
        var end: Int, parens = false, separators = 0

        init(_ text: UnsafeBufferPointer<UInt8>, from start: Int) {
            var cursor = start, current: UInt8 = 0
            end = start
            while cursor < text.count, count < 16 {
                let byte = text[cursor]
                if Bytes.isDigit(byte) { digits[count] = byte - 0x30; count += 1; current += 1; cursor += 1; end = cursor; continue }
                let isSeparator = byte == 0x20 || byte == 0x2D || byte == 0x2E || byte == 0x28 || byte == 0x29
                guard isSeparator, cursor + 1 < text.count else { break }
                let next = text[cursor + 1]
                guard Bytes.isDigit(next) || (byte == 0x29 && next == 0x20) || (byte != 0x28 && next == 0x28) else { break }
                if byte == 0x28 || byte == 0x29 { parens = true }
                if current > 0 { appendGroup(current); current = 0 }
                separators += 1; cursor += 1
            }
            if current > 0 { appendGroup(current) }
        }

        mutating func appendGroup(_ length: UInt8) {
            guard groupCount < 16 else { return }
            groups[groupCount] = length; groupCount += 1
        }

        func allGroups(atLeast minimum: UInt8) -> Bool {
            for index in 0..<groupCount where groups[index] < minimum { return false }
            return true
        }

        /// The group lengths, without a leading group that is just the country code 1.
        func groupList(droppingLeadingOne: Bool) -> [Int] {
            var list: [Int] = []
            for index in 0..<groupCount { list.append(Int(groups[index])) }
            if droppingLeadingOne, list.first == 1 { list.removeFirst() }
            return list
        }
    }

    static let phoneWords: [[UInt8]] = ["phone", "tel", "mobile", "cell", "call", "fax", "sms", "whatsapp", "contact"].map { Array($0.utf8) }

    /// True when one of `words` (lowercase) occurs in the 40 bytes before `start`.
    static func hasContext(_ text: UnsafeBufferPointer<UInt8>, before start: Int, words: [[UInt8]]) -> Bool {
        let from = max(0, start - 40)
        for index in from..<start {
            for word in words where Bytes.lower(text[index]) == word[0] && Bytes.hasPrefixFolded(text, at: index, word) { return true }
        }
        return false
    }
}
