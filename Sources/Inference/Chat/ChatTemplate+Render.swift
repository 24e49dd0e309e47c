extension ChatTemplate {
    /// Renders `messages` as the Jinja template would, recording which bytes the template wrote.
    ///
    /// As in the template, the default system turn is inserted only when there is a first message and
    /// it is not a system message. Roles outside ``ChatMessage/roles`` are refused.
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool = true) throws(InferenceError) -> ChatPrompt {
        var builder = PromptBuilder()
        for (index, message) in messages.enumerated() {
            guard ChatMessage.roles.contains(message.role) else {
                throw InferenceError(.chatTemplate, """
                    messages[\(index)].role: '\(message.role)' is not one of \(ChatMessage.roles.sorted().joined(separator: ", "))
                    """)
            }
            if index == 0, message.role != "system", let defaultSystemPrompt {
                builder.template(turnPrefix + "system" + roleSeparator + defaultSystemPrompt + turnSuffix)
            }
            builder.template(turnPrefix + message.role + roleSeparator)
            builder.content(message.content)
            builder.template(turnSuffix)
        }
        if addGenerationPrompt {
            guard hasGenerationPrompt else {
                throw InferenceError(.chatTemplate, "chat template has no generation prompt (add_generation_prompt)")
            }
            builder.template(turnPrefix + "assistant" + roleSeparator)
        }
        return ChatPrompt(text: builder.text, templateRanges: builder.ranges)
    }
}

/// Accumulates prompt text and the byte ranges the template wrote (adjacent ones joined).
private struct PromptBuilder {
    var text = ""
    var ranges: [Range<Int>] = []
    private var length = 0

    mutating func template(_ part: String) {
        let count = part.utf8.count
        guard count > 0 else { return }
        if let last = ranges.last, last.upperBound == length {
            ranges[ranges.count - 1] = last.lowerBound..<(length + count)
        } else {
            ranges.append(length..<(length + count))
        }
        text += part
        length += count
    }

    mutating func content(_ part: String) {
        text += part
        length += part.utf8.count
    }
}
