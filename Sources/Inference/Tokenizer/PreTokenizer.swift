/// Splits text into the pieces BPE works on, as llama.cpp does for the model's `tokenizer.ggml.pre`.
///
/// - `gpt2`: the GPT-2 regex `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
/// - `smollm`: first `\p{N}` (every digit its own piece, the gaps between kept), then the GPT-2 regex
///   inside each piece (llama-vocab.cpp, `LLAMA_VOCAB_PRE_TYPE_SMOLLM`).
///
/// The regex is matched by hand over Unicode scalars, following llama.cpp's
/// `unicode_regex_split_custom_gpt2` step for step (its lookahead `(?!\S)` leaves the last space of a
/// run to the next word, except at the end of a piece).
struct PreTokenizer: Sendable {
    /// The pre-tokenizers this engine implements.
    enum Kind: String, Sendable, CaseIterable {
        case gpt2
        case smollm
    }

    let kind: Kind

    /// Splits UTF-8 `bytes` and returns the byte ranges of the pieces, in order, covering all of it.
    func split(_ bytes: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        let scalars = ScalarRun(bytes)
        var pieces: [Range<Int>] = []
        pieces.reserveCapacity(scalars.count / 3 + 1)
        switch kind {
        case .gpt2:
            splitGPT2(scalars, 0..<scalars.count, into: &pieces)
        case .smollm:
            var start = 0
            for index in 0..<scalars.count where scalars.classes[index].contains(.number) {
                splitGPT2(scalars, start..<index, into: &pieces)
                pieces.append(scalars.offsets[index]..<scalars.offsets[index + 1])
                start = index + 1
            }
            splitGPT2(scalars, start..<scalars.count, into: &pieces)
        }
        return pieces
    }

    /// The GPT-2 regex over the scalars in `range`; appends byte ranges.
    private func splitGPT2(_ s: ScalarRun, _ range: Range<Int>, into pieces: inout [Range<Int>]) {
        let end = range.upperBound
        var pos = range.lowerBound
        var pieceStart = pos
        func emit(_ upTo: Int) {
            if upTo > pieceStart { pieces.append(s.offsets[pieceStart]..<s.offsets[upTo]) }
            pieceStart = upTo
        }
        func classes(_ at: Int) -> ScalarClass? { at < end ? s.classes[at] : nil }

        while pos < end {
            let cpt = s.values[pos]
            if let length = contractionLength(s, at: pos, end: end) {
                pos += length
                emit(pos)
                continue
            }
            let leadingSpace = cpt == 0x20
            let head = leadingSpace ? classes(pos + 1) : classes(pos)
            if let head, head.contains(.letter) || head.contains(.number) {
                // ` ?\p{L}+` or ` ?\p{N}+`
                let wanted: ScalarClass = head.contains(.letter) ? .letter : .number
                if leadingSpace { pos += 1 }
                while let c = classes(pos), c.contains(wanted) { pos += 1 }
                emit(pos)
                continue
            }
            if let head, head.isDisjoint(with: [.letter, .number, .whitespace]) {
                // ` ?[^\s\p{L}\p{N}]+`
                if leadingSpace { pos += 1 }
                while let c = classes(pos), c.isDisjoint(with: [.letter, .number, .whitespace]) { pos += 1 }
                emit(pos)
                continue
            }
            var spaces = 0
            while let c = classes(pos + spaces), c.contains(.whitespace) { spaces += 1 }
            if spaces > 1 && pos + spaces < end {
                // `\s+(?!\S)`: the run minus its last space, which starts the next piece.
                pos += spaces - 1
            } else {
                // `\s+`, or no rule matched: one scalar.
                pos += max(spaces, 1)
            }
            emit(pos)
        }
    }

    /// The length of `'s|'t|'re|'ve|'m|'ll|'d` at `pos` (case-sensitive, like llama.cpp), if any.
    private func contractionLength(_ s: ScalarRun, at pos: Int, end: Int) -> Int? {
        guard s.values[pos] == 0x27, pos + 1 < end else { return nil }
        let next = s.values[pos + 1]
        if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 { return 2 }  // s t m d
        guard pos + 2 < end else { return nil }
        let third = s.values[pos + 2]
        if (next == 0x72 && third == 0x65) || (next == 0x76 && third == 0x65) || (next == 0x6C && third == 0x6C) {
            return 3  // re ve ll
        }
        return nil
    }
}

/// A UTF-8 buffer decoded once into scalar values, their classes and their byte offsets.
struct ScalarRun {
    var values: [UInt32] = []
    var classes: [ScalarClass] = []
    /// `offsets[i]` is the byte offset of scalar `i`; `offsets[count]` is the byte length.
    var offsets: [Int] = []

    var count: Int { values.count }

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        values.reserveCapacity(bytes.count)
        classes.reserveCapacity(bytes.count)
        offsets.reserveCapacity(bytes.count + 1)
        var index = 0
        while index < bytes.count {
            let (value, length) = Self.decode(bytes, at: index)
            values.append(value)
            classes.append(ScalarClass.of(value))
            offsets.append(index)
            index += length
        }
        offsets.append(bytes.count)
    }

    /// Decodes one scalar; a malformed byte counts as one scalar of its own (U+FFFD's class).
    @inline(__always)
    private static func decode(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let lead = b[i]
        if lead < 0x80 { return (UInt32(lead), 1) }
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 0
        guard length > 0, i + length <= b.count else { return (0xFFFD, 1) }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for k in 1..<length {
            let byte = b[i + k]
            guard byte & 0xC0 == 0x80 else { return (0xFFFD, 1) }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return (value, length)
    }
}
