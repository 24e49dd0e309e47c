/// The shape checks behind `SecretsDetector`'s keywords, each at a keyword's start offset.
enum TokenRules {
    static func alnum(_ byte: UInt8) -> Bool { Bytes.isAlnum(byte) }
    static func token(_ byte: UInt8) -> Bool { Bytes.isWord(byte) || byte == 0x2D }
    static func base64url(_ byte: UInt8) -> Bool { Bytes.isWord(byte) || byte == 0x2D }

    /// No word byte (or `-`) just before `start`: a token does not begin mid-word.
    @inline(__always) static func boundaryBefore(_ text: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
        start == 0 || !(Bytes.isWord(text[start - 1]) || text[start - 1] == 0x2D)
    }

    /// `prefix` bytes (lowercase, as written by the issuer) then `minimum...maximum` bytes of `accept`,
    /// not followed by another `accept` byte, with entropy that rules out `xxxx` placeholders.
    static func prefixed(_ text: UnsafeBufferPointer<UInt8>, at start: Int, prefix: Int, minimum: Int, maximum: Int,
                         _ accept: (UInt8) -> Bool) -> Range<Int>? {
        guard boundaryBefore(text, start), start + prefix <= text.count else { return nil }
        for index in start..<(start + prefix) where Bytes.isUpper(text[index]) { return nil }
        let bodyStart = start + prefix
        let end = Bytes.run(text, from: bodyStart, limit: maximum + 1, accept)
        let length = end - bodyStart
        guard length >= minimum, length <= maximum else { return nil }
        guard Bytes.entropy(text, bodyStart..<end) >= 3.0 else { return nil }
        return start..<end
    }

    /// `(AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z2-7]{16}` between word boundaries, not an `...EXAMPLE` key.
    static func awsAccessKey(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard boundaryBefore(text, start), start + 20 <= text.count else { return nil }
        for index in start..<(start + 4) where !(Bytes.isUpper(text[index]) || Bytes.isDigit(text[index])) { return nil }
        for index in (start + 4)..<(start + 20) {
            let byte = text[index]
            guard Bytes.isUpper(byte) || (byte >= 0x32 && byte <= 0x37) else { return nil }
        }
        if start + 20 < text.count, Bytes.isWord(text[start + 20]) { return nil }
        if Bytes.hasPrefix(text, at: start + 13, "EXAMPLE") { return nil }
        guard Bytes.entropy(text, start..<(start + 20)) >= 3.0 else { return nil }
        return start..<(start + 20)
    }

    /// `eyJ...` `.` `ey...` `.` optional signature: a JSON Web Token.
    static func jwt(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard boundaryBefore(text, start), Bytes.hasPrefix(text, at: start, "eyJ") else { return nil }
        let headerEnd = Bytes.run(text, from: start, limit: 1024, base64url)
        guard headerEnd - start >= 17, headerEnd < text.count, text[headerEnd] == 0x2E,
              Bytes.hasPrefix(text, at: headerEnd + 1, "ey") else { return nil }
        let payloadEnd = Bytes.run(text, from: headerEnd + 1, limit: 4096, base64url)
        guard payloadEnd - headerEnd - 1 >= 17 else { return nil }
        var end = payloadEnd
        if end < text.count, text[end] == 0x2E {
            let signatureEnd = Bytes.run(text, from: end + 1, limit: 1024, base64url)
            if signatureEnd - end - 1 >= 10 { end = Bytes.run(text, from: signatureEnd, limit: 2) { $0 == 0x3D } }
        }
        guard Bytes.entropy(text, start..<end) >= 3.0 else { return nil }
        return start..<end
    }

    /// `xox[baprseo]-` then a digit group of at least 8 and a token of at least 24 bytes in all.
    static func slack(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard boundaryBefore(text, start), start + 5 <= text.count, Bytes.hasPrefix(text, at: start, "xox") else { return nil }
        let digitsEnd = Bytes.run(text, from: start + 5, limit: 16, Bytes.isDigit)
        guard digitsEnd - start - 5 >= 8 else { return nil }
        let end = Bytes.run(text, from: start + 5, limit: 200, token)
        guard end - start >= 24 else { return nil }
        return start..<end
    }

    /// `xapp-<digit>-<ID>-<digits>-<hex>`.
    static func slackApp(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard boundaryBefore(text, start), Bytes.hasPrefix(text, at: start, "xapp-") else { return nil }
        let end = Bytes.run(text, from: start + 5, limit: 200, token)
        guard end - start >= 30 else { return nil }
        var dashes = 0
        for index in (start + 5)..<end where text[index] == 0x2D { dashes += 1 }
        return dashes >= 3 ? start..<end : nil
    }

    /// `hooks.slack.com/(services|workflows|triggers)/` then 40 or more path bytes.
    static func slackWebhook(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        var cursor = start + 16
        guard Bytes.hasPrefix(text, at: start, "hooks.slack.com/") else { return nil }
        if Bytes.hasPrefix(text, at: cursor, "services/") { cursor += 9 }
        else if Bytes.hasPrefix(text, at: cursor, "workflows/") || Bytes.hasPrefix(text, at: cursor, "triggers/") {
            cursor += text[cursor] == 0x77 ? 10 : 9
        } else { return nil }
        let end = Bytes.run(text, from: cursor, limit: 120) { Bytes.isAlnum($0) || $0 == 0x2F || $0 == 0x2B || $0 == 0x5F }
        guard end - cursor >= 40 else { return nil }
        var begin = start
        for scheme in ["https://", "http://"] where Bytes.hasPrefixFolded(text, at: start - scheme.utf8.count, Array(scheme.utf8)) {
            begin = start - scheme.utf8.count
        }
        return begin..<end
    }

    /// `AIza` then 35 bytes of `[A-Za-z0-9_-]`.
    static func google(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard boundaryBefore(text, start), Bytes.hasPrefix(text, at: start, "AIza") else { return nil }
        let end = Bytes.run(text, from: start + 4, limit: 36, token)
        guard end - start == 39, Bytes.entropy(text, start..<end) >= 3.0 else { return nil }
        return start..<end
    }

    /// `sk-ant-...` (Anthropic) or `sk-...`/`sk-proj-...` (OpenAI): OpenAI keys carry `T3BlbkFJ`
    /// (base64 "OpenAI"); others need 32+ bytes of mixed-case alphanumerics with high entropy.
    static func skKey(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> (String, Range<Int>)? {
        guard boundaryBefore(text, start), Bytes.hasPrefix(text, at: start, "sk-") else { return nil }
        let end = Bytes.run(text, from: start + 3, limit: 300, token)
        let body = (start + 3)..<end
        guard body.count >= 32 else { return nil }
        if Bytes.hasPrefix(text, at: start, "sk-ant-") {
            return Bytes.entropy(text, body) >= 3.5 ? ("anthropic_key", start..<end) : nil
        }
        var upper = false, lower = false, digit = false, marker = false
        for index in body {
            let byte = text[index]
            upper = upper || Bytes.isUpper(byte); lower = lower || Bytes.isLower(byte); digit = digit || Bytes.isDigit(byte)
            if byte == 0x54, Bytes.hasPrefix(text, at: index, "T3BlbkFJ") { marker = true }
        }
        guard marker || (upper && lower && digit && Bytes.entropy(text, body) >= 4.0) else { return nil }
        return ("openai_key", start..<end)
    }
}

/// `-----BEGIN ... PRIVATE KEY-----` blocks, to the matching END line or the end of the base64 body.
enum PrivateKeyRule {
    static func header(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        guard Bytes.hasPrefix(text, at: start, "-----BEGIN") else { return nil }
        let labelEnd = Bytes.run(text, from: start + 10, limit: 100) { Bytes.isUpper($0) || Bytes.isDigit($0) || $0 == 0x20 || $0 == 0x5F || $0 == 0x2D }
        // The label run swallowed the trailing dashes: back up to find "PRIVATE KEY-----".
        var cursor = labelEnd
        while cursor > start + 10, text[cursor - 1] == 0x2D { cursor -= 1 }
        var labelStop = cursor
        if labelStop - start >= 16, Bytes.hasPrefix(text, at: labelStop - 6, " BLOCK") { labelStop -= 6 }
        guard labelStop - start >= 21, Bytes.hasPrefix(text, at: labelStop - 11, "PRIVATE KEY"),
              Bytes.hasPrefix(text, at: cursor, "-----") else { return nil }
        return cursor + 5
    }

    static func match(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Range<Int>? {
        guard let bodyStart = header(text, at: start) else { return nil }
        let limit = min(text.count, start + SecretsDetector.privateKeyCap)
        var index = bodyStart
        while index + 8 <= limit {
            if text[index] == 0x2D, Bytes.hasPrefix(text, at: index, "-----END") {
                guard index - bodyStart >= 64 else { return nil }
                let close = Bytes.run(text, from: index + 8, limit: limit - index - 8) { $0 != 0x0A && $0 != 0x2D }
                let dashes = Bytes.run(text, from: close, limit: 5) { $0 == 0x2D }
                return start..<dashes
            }
            index += 1
        }
        // No END line within the cap: cover the base64 body that follows.
        let body = Bytes.run(text, from: bodyStart, limit: limit - bodyStart) {
            Bytes.isAlnum($0) || $0 == 0x2B || $0 == 0x2F || $0 == 0x3D || Bytes.isSpace($0) || $0 == 0x3A || $0 == 0x2D
        }
        return body - bodyStart >= 64 ? start..<body : nil
    }

    /// True when the block at `start` has no END line yet (a stream must wait for it).
    static func isOpen(_ text: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        if header(text, at: start) == nil {
            // Undecided only while the header line is still incomplete.
            return Bytes.run(text, from: start, limit: 130) { $0 != 0x0A } == text.count
        }
        guard let range = match(text, at: start) else { return true }
        return range.upperBound >= text.count - 1 || !Bytes.hasPrefix(text, at: range.upperBound - 5, "-----")
    }
}
