/// Typed reads for the value kinds specs and policies share: byte sizes, durations, CPU counts,
/// sandbox paths, host paths, errno names and names.
extension JSONReader {
    /// A byte count: an integer, or a string with an IEC unit ("512MiB", "64 KiB", "1GiB").
    func byteSize(in range: ClosedRange<UInt64>) throws(SpecError) -> UInt64 {
        let bytes: UInt64
        switch value {
        case .number(let number):
            guard number.isInteger, let parsed = number.uint64 else {
                throw specError("expected a whole number of bytes or a size such as \"512MiB\", found \(number.literal)")
            }
            bytes = parsed
        case .string(let text):
            bytes = try parseSize(text)
        default:
            throw specError("expected a size such as \"512MiB\" or a number of bytes, found \(value.kindDescription)", code: .schema)
        }
        guard range.contains(bytes) else {
            throw specError("\(bytes) bytes is out of range (\(SizeText.format(range.lowerBound))...\(SizeText.format(range.upperBound)))")
        }
        return bytes
    }

    private func parseSize(_ text: String) throws(SpecError) -> UInt64 {
        let trimmed = text.filter { $0 != " " }
        let digits = trimmed.prefix(while: { $0.isASCII && $0.isNumber })
        let unit = trimmed.dropFirst(digits.count)
        let multipliers: [String: UInt64] = ["": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40]
        guard !digits.isEmpty, let count = UInt64(digits), let multiplier = multipliers[String(unit)] else {
            throw specError("\"\(text)\" is not a size; write a whole number with B, KiB, MiB, GiB or TiB (e.g. \"512MiB\")")
        }
        let (product, overflow) = count.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { throw specError("\"\(text)\" overflows a 64-bit byte count") }
        return product
    }

    /// A non-negative decimal with at most `scale` digits after the point, as an integer count of
    /// 1/10^scale units (seconds → milliseconds with scale 3; CPUs → millicpus with scale 3).
    func fixedPoint(scale: Int, in range: ClosedRange<Int64>, unit: String) throws(SpecError) -> Int64 {
        let number: JSONNumber
        do { number = try self.number() } catch { throw SpecError(error) }
        let literal = number.literal
        let parts = literal.split(separator: ".", omittingEmptySubsequences: false)
        guard !literal.contains("e"), !literal.contains("E"), !literal.hasPrefix("-"), parts.count <= 2,
              let whole = Int64(parts[0]) else {
            throw specError("expected a non-negative decimal number of \(unit), found \(literal)")
        }
        let fraction = parts.count == 2 ? String(parts[1]) : ""
        guard fraction.count <= scale else { throw specError("\(literal): at most \(scale) digits after the point") }
        var factor: Int64 = 1
        for _ in 0..<scale { factor *= 10 }
        let padded = fraction + String(repeating: "0", count: scale - fraction.count)
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: factor)
        guard !overflow, let small = Int64(padded.isEmpty ? "0" : padded) else { throw specError("\(literal) is too large") }
        let total = scaled + small
        guard range.contains(total) else {
            throw specError("\(literal) \(unit) is out of range (\(Self.decimal(range.lowerBound, scale))...\(Self.decimal(range.upperBound, scale)))")
        }
        return total
    }

    static func decimal(_ value: Int64, _ scale: Int) -> String {
        var factor: Int64 = 1
        for _ in 0..<scale { factor *= 10 }
        let fraction = value % factor
        if fraction == 0 { return String(value / factor) }
        var digits = String(fraction)
        digits = String(repeating: "0", count: scale - digits.count) + digits
        while digits.hasSuffix("0") { digits.removeLast() }
        return "\(value / factor).\(digits)"
    }

    /// A whole number within `range` (as Int), with a SpecError on any problem.
    func count(in range: ClosedRange<Int64>) throws(SpecError) -> Int {
        do { return Int(try integer(in: range)) } catch { throw SpecError(error) }
    }

    /// A string, with a SpecError on a type mismatch; NUL characters are refused (paths and argv go to C).
    func text(allowEmpty: Bool = false) throws(SpecError) -> String {
        let text: String
        do { text = try string() } catch { throw SpecError(error) }
        if !allowEmpty && text.isEmpty { throw specError("must not be empty") }
        if text.utf8.contains(0) { throw specError("must not contain a NUL character") }
        return text
    }

    /// An absolute path inside the sandbox: starts with `/`, no `.` or `..` components.
    func sandboxPath(allowRoot: Bool = false) throws(SpecError) -> String {
        let path = try text()
        try PathRules.checkAbsolute(path, allowRoot: allowRoot) { message throws(SpecError) in throw specError(message) }
        return path
    }

    /// A name: 1–64 characters of letters, digits, `.`, `_` and `-`, starting with a letter or digit.
    func name() throws(SpecError) -> String {
        let name = try text()
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard allowed, name.utf8.count <= 64, name.first?.isLetter == true || name.first?.isNumber == true else {
            throw specError("\"\(name)\" is not a valid name (1-64 of a-z A-Z 0-9 . _ -, starting with a letter or digit)")
        }
        return name
    }
}

/// Rules for paths in specs and policies.
enum PathRules {
    /// Checks that `path` is absolute and free of `.`/`..` components and empty components.
    static func checkAbsolute(_ path: String, allowRoot: Bool,
                              fail: (String) throws(SpecError) -> Void) throws(SpecError) {
        guard path.hasPrefix("/") else { try fail("\"\(path)\" must be an absolute path (start with /)"); return }
        if path == "/" {
            if !allowRoot { try fail("\"/\" is not allowed here") }
            return
        }
        let components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        for (i, component) in components.enumerated() {
            if component == ".." { try fail("\"\(path)\" must not contain '..'") }
            if component == "." { try fail("\"\(path)\" must not contain '.' components") }
            if component.isEmpty && i != components.count - 1 { try fail("\"\(path)\" must not contain '//'") }
        }
        if path.utf8.count > 4095 { try fail("path is longer than 4095 bytes") }
    }

    /// True when `path` is `prefix` or lies under it.
    static func isWithin(_ path: String, _ prefix: String) -> Bool {
        let p = normalized(path), q = normalized(prefix)
        return q == "/" || p == q || p.hasPrefix(q + "/")
    }

    /// `path` without a trailing slash (except for the root).
    static func normalized(_ path: String) -> String {
        var path = path
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path
    }
}

/// Formatting byte counts for people.
public enum SizeText {
    /// "512MiB", "64KiB", or "1234B": the largest IEC unit that divides the count exactly.
    public static func format(_ bytes: UInt64) -> String {
        let units: [(UInt64, String)] = [(1 << 40, "TiB"), (1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size && bytes % size == 0 { return "\(bytes / size)\(name)" }
        return "\(bytes)B"
    }
}
