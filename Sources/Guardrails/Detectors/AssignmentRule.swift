/// `password = "..."`-style assignments (code, config, JSON, YAML, env files): a keyword somewhere in
/// the key, an operator, and a value with enough entropy that it is not a placeholder or a variable.
/// The finding covers the value only, so a redaction keeps the key readable.
enum AssignmentRule {
    static let placeholders: [[UInt8]] = [
        "xxxx", "****", "....", "<", "${", "{{", "%(", "changeme", "example", "placeholder", "your_", "your-",
        "redacted", "dummy", "sample", "process.env", "os.environ", "getenv", "secrets.", "env[", "env.",
    ].map { Array($0.utf8) }

    static func generic(_ text: UnsafeBufferPointer<UInt8>, keywordAt start: Int, entropy threshold: Double) -> (String, Range<Int>)? {
        guard let (value, keyEnd) = value(text, keywordAt: start) else { return nil }
        guard value.count >= 8, Bytes.entropy(text, value) >= threshold, !isPlaceholder(text, value) else { return nil }
        if value.count == 40, isAWSSecretKeyName(text, start..<keyEnd),
           value.allSatisfy({ Bytes.isAlnum(text[$0]) || text[$0] == 0x2F || text[$0] == 0x2B }) {
            return ("aws_secret_key", value)
        }
        return ("generic_secret", value)
    }

    /// Where the assigned value lies, and where the key ends; nil when this is not an assignment.
    static func value(_ text: UnsafeBufferPointer<UInt8>, keywordAt start: Int) -> (Range<Int>, Int)? {
        // The rest of the key: identifier bytes (db_password_hash, api-key.prod).
        var cursor = Bytes.run(text, from: start, limit: 40) { Bytes.isWord($0) || $0 == 0x2D || $0 == 0x2E }
        let keyEnd = cursor
        if cursor < text.count, text[cursor] == 0x22 || text[cursor] == 0x27 { cursor += 1 }
        cursor = Bytes.run(text, from: cursor, limit: 4) { $0 == 0x20 || $0 == 0x09 }
        guard cursor < text.count else { return nil }
        // Operators: = : := => ; not == or != (comparisons).
        switch text[cursor] {
        case 0x3D:
            if cursor + 1 < text.count, text[cursor + 1] == 0x3D { return nil }
            cursor += cursor + 1 < text.count && text[cursor + 1] == 0x3E ? 2 : 1
        case 0x3A:
            cursor += cursor + 1 < text.count && text[cursor + 1] == 0x3D ? 2 : 1
        default: return nil
        }
        cursor = Bytes.run(text, from: cursor, limit: 4) { $0 == 0x20 || $0 == 0x09 }
        guard cursor < text.count else { return nil }
        let quote = text[cursor]
        if quote == 0x22 || quote == 0x27 || quote == 0x60 {
            let end = Bytes.run(text, from: cursor + 1, limit: 151) { $0 != quote && $0 != 0x0A && $0 != 0x5C }
            guard end < text.count, text[end] == quote, end - cursor - 1 <= 150 else { return nil }
            return ((cursor + 1)..<end, keyEnd)
        }
        let end = Bytes.run(text, from: cursor, limit: 151) {
            !Bytes.isSpace($0) && $0 != 0x2C && $0 != 0x3B && $0 != 0x29 && $0 != 0x7D && $0 != 0x5D && $0 != 0x22 && $0 != 0x27
        }
        guard end - cursor <= 150 else { return nil }
        // An unquoted call or subscript is code, not a literal secret.
        for index in cursor..<min(end + 1, text.count) where text[index] == 0x28 || text[index] == 0x5B { return nil }
        // A bare identifier or attribute path (`get_token`, `settings.api_key`) is a reference.
        var letters = 0, others = 0
        for index in cursor..<end {
            let byte = text[index]
            if Bytes.isAlpha(byte) { letters += 1 } else if byte != 0x5F && byte != 0x2E && byte != 0x2D { others += 1 }
        }
        guard letters > 0, others > 0 else { return nil }
        return (cursor..<end, keyEnd)
    }

    static func isPlaceholder(_ text: UnsafeBufferPointer<UInt8>, _ value: Range<Int>) -> Bool {
        // $VAR ${VAR} {x} <x>, and printf/Windows forms %s %(name)s %VAR%.
        let first = text[value.lowerBound], last = text[value.upperBound - 1]
        if first == 0x24 || first == 0x7B || first == 0x3C { return true }
        if first == 0x25, last == 0x25 || value.count <= 3 || text[value.lowerBound + 1] == 0x28 { return true }
        for index in value {
            for word in placeholders where Bytes.lower(text[index]) == word[0] && Bytes.hasPrefixFolded(text, at: index, word) {
                if index + word.count <= value.upperBound { return true }
            }
        }
        return false
    }

    static func isAWSSecretKeyName(_ text: UnsafeBufferPointer<UInt8>, _ key: Range<Int>) -> Bool {
        let from = max(0, key.lowerBound - 16)
        for index in from..<key.upperBound where Bytes.hasPrefixFolded(text, at: index, Array("secret_access_key".utf8))
            || Bytes.hasPrefixFolded(text, at: index, Array("secretaccesskey".utf8)) {
            return index < key.upperBound
        }
        return false
    }
}
