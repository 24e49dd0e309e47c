extension Tokenizer {
    /// Encodes `text` into token ids. With `parseSpecial`, control-token strings in the text (such as
    /// `<|im_start|>`) become their ids; without it they are tokenized as ordinary text.
    /// No BOS is added unless the model asks for it (`addsBOS`).
    public func encode(_ text: String, parseSpecial: Bool = false) -> [Int32] {
        let utf8 = Array(text.utf8)
        return utf8.withUnsafeBufferPointer { encode($0, specialAllowed: { _ in parseSpecial }) }
    }

    /// Encodes UTF-8 bytes; a control token is matched only where `specialAllowed` accepts its byte range.
    func encode(_ bytes: UnsafeBufferPointer<UInt8>, specialAllowed: (Range<Int>) -> Bool) -> [Int32] {
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        if addsBOS, let bosID { output.append(bosID) }
        var scratch = MergeScratch()
        var symbols: [Int32] = []
        for fragment in partitionSpecials(bytes, specialAllowed: specialAllowed) {
            switch fragment {
            case .token(let id):
                output.append(id)
            case .text(let range):
                let slice = UnsafeBufferPointer(rebasing: bytes[range])
                for piece in preTokenizer.split(slice) {
                    symbols.removeAll(keepingCapacity: true)
                    for index in piece { symbols.append(byteTokens[Int(slice[index])]) }
                    merges.merge(&symbols, scratch: &scratch)
                    // A byte with no token of its own is dropped, as llama.cpp does.
                    for id in symbols where id >= 0 { output.append(id) }
                }
            }
        }
        return output
    }

    enum Fragment: Equatable {
        case text(Range<Int>)
        case token(Int32)
    }

    /// Cuts special-token strings out of the text, longest token first, each across every remaining
    /// text fragment left to right (llama.cpp's `tokenizer_st_partition`).
    func partitionSpecials(_ bytes: UnsafeBufferPointer<UInt8>, specialAllowed: (Range<Int>) -> Bool) -> [Fragment] {
        var fragments: [Fragment] = bytes.isEmpty ? [] : [.text(0..<bytes.count)]
        for special in specials {
            guard let first = special.bytes.first else { continue }
            var next: [Fragment] = []
            next.reserveCapacity(fragments.count + 2)
            for fragment in fragments {
                guard case .text(let range) = fragment else {
                    next.append(fragment)
                    continue
                }
                var start = range.lowerBound
                var cursor = range.lowerBound
                let limit = range.upperBound - special.bytes.count
                while cursor <= limit {
                    if bytes[cursor] == first && matches(bytes, at: cursor, special.bytes),
                       !special.needsParseSpecial || specialAllowed(cursor..<(cursor + special.bytes.count)) {
                        if cursor > start { next.append(.text(start..<cursor)) }
                        next.append(.token(special.id))
                        cursor += special.bytes.count
                        start = cursor
                    } else {
                        cursor += 1
                    }
                }
                if start < range.upperBound { next.append(.text(start..<range.upperBound)) }
            }
            fragments = next
        }
        return fragments
    }

    @inline(__always)
    private func matches(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, _ needle: [UInt8]) -> Bool {
        for k in 1..<needle.count where bytes[offset + k] != needle[k] { return false }
        return true
    }
}

extension Tokenizer {
    /// The raw bytes token `id` stands for; control tokens give their text only with `renderSpecial`.
    /// Out-of-range ids give no bytes.
    public func bytes(of id: Int32, renderSpecial: Bool = false) -> ArraySlice<UInt8> {
        guard id >= 0, Int(id) < vocabularySize else { return [] }
        switch types[Int(id)] {
        case .control, .unknown, .unused:
            if !renderSpecial { return [] }
        default:
            break
        }
        return pieceBytes[Int(pieceOffsets[Int(id)])..<Int(pieceOffsets[Int(id) + 1])]
    }

    /// Decodes ids to text; bytes that are not valid UTF-8 become U+FFFD.
    public func decode(_ ids: [Int32], renderSpecial: Bool = false) -> String {
        var all: [UInt8] = []
        for id in ids { all += bytes(of: id, renderSpecial: renderSpecial) }
        return String(decoding: all, as: UTF8.self)
    }

    /// The vocabulary string of token `id` (byte-level form, e.g. `Ġworld`), or nil when out of range.
    public func vocabularyText(of id: Int32) -> String? {
        id >= 0 && Int(id) < vocabularySize ? tokenTexts[Int(id)] : nil
    }

    /// The type of token `id`, or nil when out of range.
    public func tokenType(of id: Int32) -> TokenType? {
        id >= 0 && Int(id) < vocabularySize ? types[Int(id)] : nil
    }
}
