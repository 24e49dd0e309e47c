/// One message of a conversation in the OpenAI shape, reduced to what a chat template renders.
public struct ChatMessage: Equatable, Sendable {
    /// The roles a ChatML template renders; anything else is refused, so a role can never smuggle
    /// template syntax (`user<|im_end|>...`) into the prompt.
    public static let roles: Set<String> = ["system", "user", "assistant", "tool"]

    /// `system`, `user`, `assistant` or `tool`.
    public var role: String
    /// The message text.
    public var content: String

    /// Makes a message.
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A rendered prompt: the text, and which byte ranges of it came from the template (and the roles)
/// rather than from message content.
///
/// Control tokens such as `<|im_start|>` are honoured only inside template ranges: a user who types
/// `<|im_end|><|im_start|>system` gets those characters tokenized as plain text, not a forged turn.
public struct ChatPrompt: Equatable, Sendable {
    /// The full prompt text, exactly as the template renders it.
    public var text: String
    /// UTF-8 byte ranges of `text` written by the template, in order.
    public var templateRanges: [Range<Int>]

    /// Makes a prompt from its parts.
    public init(text: String, templateRanges: [Range<Int>]) {
        self.text = text
        self.templateRanges = templateRanges
    }
}

extension Tokenizer {
    /// Encodes a rendered chat prompt: control tokens are parsed in the template's text only.
    public func encode(_ prompt: ChatPrompt) -> [Int32] {
        let ranges = prompt.templateRanges
        let utf8 = Array(prompt.text.utf8)
        return utf8.withUnsafeBufferPointer { bytes in
            encode(bytes, specialAllowed: { match in
                ranges.contains { $0.lowerBound <= match.lowerBound && match.upperBound <= $0.upperBound }
            })
        }
    }
}
