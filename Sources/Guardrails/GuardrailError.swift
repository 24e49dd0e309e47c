/// A guardrail configuration problem: a deny-list pattern the linear-time engine cannot compile.
/// `offset` is the byte offset in the pattern where the problem is.
public struct GuardrailError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int

    public init(_ message: String, at offset: Int) { self.message = message; self.offset = offset }

    public var description: String { "at pattern offset \(offset): \(message)" }
}
