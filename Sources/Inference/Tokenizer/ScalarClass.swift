/// The character classes the GPT-2 pre-tokenizer regex uses: `\p{L}`, `\p{N}` and `\s`.
///
/// llama.cpp (src/unicode.cpp) classifies by Unicode general category (L*, N*) and the White_Space
/// property; Swift's `Unicode.Scalar.Properties` carries both. ASCII, by far the common case, is
/// answered from a table so pre-tokenizing a few kilobytes stays in the microseconds.
struct ScalarClass: OptionSet, Sendable {
    let rawValue: UInt8
    static let letter = ScalarClass(rawValue: 1)
    static let number = ScalarClass(rawValue: 2)
    static let whitespace = ScalarClass(rawValue: 4)

    /// The classes of one scalar value.
    @inline(__always)
    static func of(_ value: UInt32) -> ScalarClass {
        if value < 128 { return asciiTable[Int(value)] }
        return nonASCII(value)
    }

    private static let asciiTable: [ScalarClass] = (0..<128).map { nonASCII(UInt32($0)) }

    private static func nonASCII(_ value: UInt32) -> ScalarClass {
        guard let scalar = Unicode.Scalar(value) else { return [] }
        let properties = scalar.properties
        var classes: ScalarClass = properties.isWhitespace ? .whitespace : []
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            classes.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            classes.insert(.number)
        default:
            break
        }
        return classes
    }
}
