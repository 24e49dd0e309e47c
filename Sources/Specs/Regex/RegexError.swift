/// A pattern the linear-time engine cannot compile: what is wrong, and the byte offset in the
/// pattern where it is (deny lists and argument schemas both report it against their policy file).
public struct RegexError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int

    public init(_ message: String, at offset: Int) { self.message = message; self.offset = offset }

    public var description: String { "at pattern offset \(offset): \(message)" }
}
