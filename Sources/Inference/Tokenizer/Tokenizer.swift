/// A GPT-2-style byte-level BPE tokenizer built from a model's vocabulary, token types and merges
/// (GGUF `tokenizer.ggml.*`), encoding and decoding exactly as llama.cpp does for `gpt2` vocabularies.
///
/// Encoding: special tokens are cut out of the text first (longest first), then every other fragment
/// is pre-tokenized (``PreTokenizer``), each piece's bytes become byte tokens, and BPE merges them.
public struct Tokenizer: Sendable {
    /// llama.cpp's token types (`llama_token_type`), as stored in `tokenizer.ggml.token_type`.
    public enum TokenType: Int32, Sendable {
        case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    /// Number of tokens in the vocabulary.
    public let vocabularySize: Int
    /// The end-of-sequence token (`<|im_end|>` for SmolLM2).
    public let eosID: Int32
    /// The beginning-of-sequence token, if the model has one.
    public let bosID: Int32?
    /// Whether prompts start with the BOS token (`tokenizer.ggml.add_bos_token`).
    public let addsBOS: Bool
    /// Tokens that end a generation, computed as llama.cpp does (EOS, EOT, and end-like control texts).
    public let endOfGenerationIDs: Set<Int32>

    let preTokenizer: PreTokenizer
    let merges: BPEMerges
    /// The token of each raw byte, or -1 when the vocabulary has none (llama.cpp drops such bytes).
    let byteTokens: [Int32]
    /// The bytes each token decodes to, flattened; `pieceOffsets[id]..<pieceOffsets[id + 1]`.
    let pieceBytes: [UInt8]
    let pieceOffsets: [Int32]
    let types: [TokenType]
    /// Tokens matched as whole strings in the input: control and user-defined ones, longest first.
    let specials: [SpecialToken]
    let tokenTexts: [String]

    struct SpecialToken: Sendable {
        var bytes: [UInt8]
        var id: Int32
        /// Control (and unknown) tokens are matched only where special parsing is on.
        var needsParseSpecial: Bool
    }

    /// Builds a tokenizer from vocabulary strings, their llama.cpp types, `"A B"` merges in rank order,
    /// and the pre-tokenizer name (`tokenizer.ggml.pre`).
    public init(tokens: [String], types rawTypes: [Int32], merges mergeLines: [String], preTokenizer: String,
                eosID: Int32, bosID: Int32? = nil, addsBOS: Bool = false, eotID: Int32? = nil) throws(InferenceError) {
        guard !tokens.isEmpty else { throw InferenceError(.tokenizer, "tokenizer: the vocabulary is empty") }
        guard rawTypes.isEmpty || rawTypes.count == tokens.count else {
            throw InferenceError(.tokenizer, "tokenizer: \(rawTypes.count) token types for \(tokens.count) tokens")
        }
        guard let kind = PreTokenizer.Kind(rawValue: preTokenizer) else {
            let known = PreTokenizer.Kind.allCases.map(\.rawValue).joined(separator: ", ")
            throw InferenceError(.tokenizer, "tokenizer: pre-tokenizer '\(preTokenizer)' is not supported (supported: \(known))")
        }
        for (name, id) in [("eos", Optional(eosID)), ("bos", bosID), ("eot", eotID)] {
            if let id, id < 0 || Int(id) >= tokens.count {
                throw InferenceError(.tokenizer, "tokenizer: \(name) token id \(id) is outside the vocabulary of \(tokens.count)")
            }
        }
        vocabularySize = tokens.count
        self.eosID = eosID
        self.bosID = bosID
        self.addsBOS = addsBOS
        self.preTokenizer = PreTokenizer(kind: kind)
        tokenTexts = tokens
        types = rawTypes.isEmpty ? Array(repeating: .normal, count: tokens.count)
            : rawTypes.map { TokenType(rawValue: $0) ?? .undefined }

        var idOfText: [String: Int32] = [:]
        idOfText.reserveCapacity(tokens.count)
        for (id, text) in tokens.enumerated() where idOfText[text] == nil { idOfText[text] = Int32(id) }

        byteTokens = (0..<256).map { idOfText[ByteLevelAlphabet.text(ofByte: UInt8($0))] ?? -1 }
        self.merges = try Self.buildMerges(mergeLines, idOfText: idOfText)
        (pieceBytes, pieceOffsets) = Self.buildPieces(tokens, types)
        specials = Self.buildSpecials(tokens, types)
        endOfGenerationIDs = Self.endOfGeneration(tokens, eosID: eosID, eotID: eotID)
    }

    private static func buildMerges(_ lines: [String], idOfText: [String: Int32]) throws(InferenceError) -> BPEMerges {
        var table: [UInt64: UInt64] = [:]
        table.reserveCapacity(lines.count)
        for (rank, line) in lines.enumerated() {
            // llama.cpp splits at the first space after the first character ("Ġ Ġ" is a valid merge).
            let utf8 = Array(line.utf8)
            guard utf8.count >= 3, let space = utf8[1...].firstIndex(of: 0x20) else {
                throw InferenceError(.tokenizer, "tokenizer: merge \(rank) '\(line)' is not two tokens separated by a space")
            }
            let left = String(decoding: utf8[..<space], as: UTF8.self)
            let right = String(decoding: utf8[(space + 1)...], as: UTF8.self)
            // A merge whose parts or result are not tokens can never fire on token ids; skip it.
            guard let l = idOfText[left], let r = idOfText[right], let m = idOfText[left + right] else { continue }
            let key = UInt64(UInt32(l)) << 32 | UInt64(UInt32(r))
            if table[key] == nil { table[key] = UInt64(rank) << 32 | UInt64(UInt32(m)) }
        }
        return BPEMerges(table: table)
    }

    private static func buildPieces(_ tokens: [String], _ types: [TokenType]) -> ([UInt8], [Int32]) {
        var bytes: [UInt8] = []
        var offsets: [Int32] = [0]
        offsets.reserveCapacity(tokens.count + 1)
        for (id, text) in tokens.enumerated() {
            switch types[id] {
            case .normal, .undefined:
                // Byte-level text maps back to raw bytes; anything outside the alphabet is kept as UTF-8.
                bytes += ByteLevelAlphabet.bytes(of: text) ?? Array(text.utf8)
            case .control, .userDefined, .unknown, .byte, .unused:
                bytes += Array(text.utf8)
            }
            offsets.append(Int32(bytes.count))
        }
        return (bytes, offsets)
    }

    private static func buildSpecials(_ tokens: [String], _ types: [TokenType]) -> [SpecialToken] {
        var specials: [SpecialToken] = []
        for (id, text) in tokens.enumerated() where !text.isEmpty {
            switch types[id] {
            case .control, .unknown: specials.append(SpecialToken(bytes: Array(text.utf8), id: Int32(id), needsParseSpecial: true))
            case .userDefined: specials.append(SpecialToken(bytes: Array(text.utf8), id: Int32(id), needsParseSpecial: false))
            default: break
            }
        }
        // Longest first, ties by id, so the order (and so the result) never depends on the sort.
        specials.sort { $0.bytes.count != $1.bytes.count ? $0.bytes.count > $1.bytes.count : $0.id < $1.id }
        return specials
    }

    /// llama.cpp's end-of-generation set: EOS, EOT, tokens whose text marks an end of turn or text,
    /// and the fill-in-the-middle pad/repo/separator tokens (llama-vocab.cpp, `special_eog_ids`).
    private static func endOfGeneration(_ tokens: [String], eosID: Int32, eotID: Int32?) -> Set<Int32> {
        let endTexts: Set<String> = [
            "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>",
            "_<EOT>", "<|end▁of▁sentence|>", "<|fim_pad|>", "<fim-pad>", "<PAD>", "<|repo_name|>",
            "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
        ]
        var ids: Set<Int32> = [eosID]
        if let eotID { ids.insert(eotID) }
        for (id, text) in tokens.enumerated() where endTexts.contains(text) { ids.insert(Int32(id)) }
        return ids
    }
}
