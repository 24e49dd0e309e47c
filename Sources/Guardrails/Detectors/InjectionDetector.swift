/// Prompt-injection heuristics: a scored rule set. Each rule is a keyword (the prefilter) and a
/// case-insensitive pattern for the linear-time engine anchored at the keyword; a text whose rule
/// scores sum to the threshold or more is an injection, and every matching rule becomes a finding.
/// Each rule counts once per text: one weak signal repeated does not add up to an attack.
/// Invisible-character smuggling (Unicode tag characters, bidi overrides, runs of zero-width
/// characters) is scored by a byte scan.
///
/// Streaming scores each hold-back window on its own (a stream does not keep the whole text).
public struct InjectionDetector: Detector {
    public let name = "injection"
    public let maxMatchBytes = 256
    public let threshold: Int

    struct Rule: Sendable {
        let name: String
        let score: Int
        let regex: LinearRegex
    }

    /// (rule, score, keywords, pattern). Patterns start with their keyword.
    static let table: [(String, Int, [String], String)] = [
        ("ignore_instructions", 5, ["ignore", "disregard", "forget", "override", "skip", "bypass"],
         #"(?i)\b(ignore|disregard|forget|override|skip|bypass)\s+(all\s+|any\s+|every\s+|of\s+)*(the\s+|your\s+|my\s+|these\s+|those\s+)?(previous|prior|above|preceding|earlier|former|original|initial|system|developer|safety)\s+(instructions?|prompts?|directions?|rules|guidelines|messages|context|commands|guardrails|restrictions|policies)"#),
        ("ignore_everything", 4, ["ignore", "disregard", "forget"],
         #"(?i)\b(ignore|disregard|forget)\s+(everything|all|anything)\s+(above|before|previously|prior|you\s+(were|have\s+been)\s+told)"#),
        ("ignore_given_rules", 5, ["ignore", "disregard", "forget"],
         #"(?i)\b(ignore|disregard|forget)\s+(all\s+|any\s+|of\s+)*(the\s+|your\s+)?(rules|instructions|prompts|guidelines|directives|programming)(\s+and\s+\w+)?\s+(given|you\s+(were\s+)?given|you\s+got|you\s+have|provided|before|till|until|so\s+far|from\s+(openai|your))"#),
        ("not_bound", 4, ["not bound by", "not be bound by", "no longer bound by", "not limited by", "not restricted by", "free from any", "not subject to"],
         #"(?i)(not\s+(be\s+)?|no\s+longer\s+)?(bound|limited|restricted|subject|free)\s+(by|to|from)\s+(any\s+|the\s+|openai'?s?\s+|its\s+)?(\w+\s+)?(rules|restrictions|guidelines|polic(y|ies)|ethics|morals|filters|limitations|constraints|censorship)"#),
        ("abide_refusal", 2, ["abide by", "adhere to", "comply with"],
         #"(?i)(abide\s+by|adhere\s+to|comply\s+with)\s+(any\s+|the\s+)?(openai|content\s+polic|ethical|moral|safety)"#),
        ("openai_policy", 3, ["openai"],
         #"(?i)openai('|’)?s?\s+(content\s+|usage\s+)?(polic(y|ies)|rules|restrictions|guidelines|filters|limitations)"#),
        ("persona_setup", 2, ["you are going to", "i want you to", "you will now", "play the role", "play the character", "take on the role", "immerse yourself", "you are to act"],
         #"(?i)(you\s+are\s+going\s+to\s+(pretend|act|play|be\s+\w+\s+which)|i\s+want\s+you\s+to\s+(act|take\s+on|pretend|play|simulate|answer\s+every)|you\s+will\s+now\s+(act|pretend|simulate|be)|play\s+the\s+(role|character)|take\s+on\s+the\s+(role|persona)|immerse\s+yourself|you\s+are\s+to\s+act)"#),
        ("amoral", 2, ["amoral", "unfiltered", "uncensored", "unfiltred"],
         #"(?i)(amoral|unfilte?red|uncensored)\b"#),
        ("regardless_of_ethics", 3, ["regardless of", "without any regard", "without regard", "no regard"],
         #"(?i)(regardless\s+of|without\s+(any\s+)?regards?\s+(for|to)|no\s+regard\s+for)\s+(\w+[\s,]+){0,3}?(legal|illegal|ethic|moral|consequence|laws|rules|harm|danger)"#),
        ("never_refuse", 3, ["never refuse", "never reject", "cannot refuse", "can't refuse", "not allowed to refuse", "never decline", "never say no", "will never tell", "never tell me"],
         #"(?i)(never\s+(refuse|reject|decline|say\s+no)|cannot\s+refuse|can't\s+refuse|not\s+allowed\s+to\s+refuse|(will\s+)?never\s+tell\s+me\s+(that\s+)?(it|you|he|she)\s+(can'?t|cannot))"#),
        ("dual_response", 2, ["two ways", "two distinct", "two different", "two responses", "2 responses", "two separate", "both responses"],
         #"(?i)(two|2|both)\s+(distinct\s+|different\s+|separate\s+)?(ways|manners|responses|answers)"#),
        ("new_instructions", 4, ["new instruction", "updated instruction", "real instruction", "actual instruction"],
         #"(?i)(new|updated|real|actual)\s+instructions?\s*(:|are\b|follow)"#),
        ("role_override", 4, ["you are now", "you are no longer", "from now on"],
         #"(?i)(you\s+are\s+(now|no\s+longer)\s+(an?\s+(ai|assistant|model|language\s+model|chatbot|unrestricted|unfiltered|different|new)|in\s+\w+\s+mode|going\s+to|free|bound|restricted|limited|called|named|dan\b|chatgpt|gpt)|from\s+now\s+on,?\s+you\s+(are|will|must|shall)\b)"#),
        ("dan_name", 2, ["dan"], #"DAN\b"#),
        ("unrestricted_persona", 5, ["act as", "pretend", "roleplay", "role-play", "role play", "simulate"],
         #"(?i)(act\s+as|pretend\s+(to\s+be|you\s+are)|role-?\s?play\s+as|simulate)\s+(an?\s+)?[\w\s-]{0,30}(unrestricted|unfiltered|uncensored|jailbroken|evil|amoral|without\s+(any\s+)?(restrictions|limits|filters|rules|ethics))"#),
        ("dan", 5, ["do anything now", "dan mode", "developer mode", "god mode"],
         #"(?i)(do\s+anything\s+now|(dan|developer|god)\s+mode\s+(enabled|activated|on)|(dan|developer|god)\s+mode\b)"#),
        ("jailbreak_word", 2, ["jailbr"], #"(?i)jailbr(eak|oken)"#),
        ("no_restrictions", 3, ["without", "no ethical", "no moral", "free from", "free of"],
         #"(?i)(without\s+(any\s+)?(ethical\s+|moral\s+|content\s+)?(restrictions|limitations|filters|censorship|guidelines|safeguards)|no\s+(ethical|moral)\s+(guidelines|constraints|restrictions|boundaries)|free\s+(from|of)\s+(all\s+)?(restrictions|limitations|rules|censorship))"#),
        ("stay_in_character", 3, ["stay in character", "remain in character", "break character"],
         #"(?i)((stay|remain)\s+in\s+character|never\s+break\s+character)"#),
        ("system_marker", 4, ["<|", "[system", "[inst", "<system", "system prompt:", "system:"],
         #"(<\|(im_start|system|endoftext|start_header_id)\|?>?|\[/?(SYSTEM|INST)\]|<\/?system>|^(?i:system\s*:)|(?i:system\s+prompt\s*:))"#),
        ("instruction_heading", 2, ["### system", "### instruction", "## system", "## instruction"],
         #"(?im)###?\s*(system|instruction)s?\s*(prompt|message|override)?\s*:?\s*$"#),
        ("prompt_exfiltration", 4, ["reveal", "print", "show", "output", "repeat", "leak", "display", "tell me", "what is your", "what are your"],
         #"(?i)(reveal|print|show|output|repeat|leak|display|tell\s+me|what\s+(is|are))\s+(me\s+)?(your|the)\s+(full\s+|entire\s+|original\s+|exact\s+)?(system\s+prompt|initial\s+(prompt|instructions)|hidden\s+(prompt|instructions)|secret\s+instructions|instructions\s+(above|verbatim)|(pre-?)?prompt\s+verbatim)"#),
        ("data_exfiltration", 4, ["send", "post", "upload", "forward", "exfiltrate", "email", "transmit"],
         #"(?i)(send|post|upload|forward|exfiltrate|email|transmit)\s+(all\s+|the\s+|this\s+|your\s+|any\s+|my\s+)*(data|files?|conversation|credentials|secrets|api\s*keys?|passwords|tokens|contents?|chat\s+history|environment\s+variables|ssh\s+keys?)\s+to\s+(https?://|\S+@|http|the\s+following|this\s+(url|address|server|endpoint))"#),
        ("markdown_exfiltration", 3, ["!["],
         #"!\[[^\]\n]{0,80}\]\(https?://[^)\s]{0,200}\?[^)\s]{0,200}=(\{|\$|%7B)"#),
        ("pipe_to_shell", 3, ["curl", "wget"],
         #"(?i)(curl|wget)\s[^\n|]{0,200}\|\s*(sudo\s+)?(ba|z)?sh\b"#),
        ("hidden_instruction", 3, ["<!--"],
         #"(?i)<!--\s*(ignore|system|instruction|assistant|ai\b|note\s+to\s+(the\s+)?(ai|assistant|model))"#),
        ("encoded_payload", 3, ["decode", "decipher"],
         #"(?i)(decode|decipher)\s+(this|the\s+following|it)\b[^\n]{0,60}(base64|rot13|hex)"#),
    ]

    /// Compiled in table order (nil only if a built-in pattern failed to compile; a test checks none does).
    static let rules: [Rule?] = table.map { entry in
        (try? LinearRegex(entry.3)).map { Rule(name: entry.0, score: entry.1, regex: $0) }
    }
    /// Keyword → rules to try there.
    static let keywordRules: [[Int]] = table.enumerated().flatMap { index, entry in entry.2.map { _ in [index] } }
    static let smuggling: [[UInt8]] = [[0xF3, 0xA0, 0x80], [0xF3, 0xA0, 0x81], [0xE2, 0x80, 0xAA], [0xE2, 0x80, 0xAB],
                                       [0xE2, 0x80, 0xAC], [0xE2, 0x80, 0xAD], [0xE2, 0x80, 0xAE], [0xE2, 0x81, 0xA6],
                                       [0xE2, 0x81, 0xA7], [0xE2, 0x81, 0xA8], [0xE2, 0x81, 0xA9], [0xE2, 0x80, 0x8B],
                                       [0xE2, 0x80, 0x8C], [0xE2, 0x80, 0x8D], [0xE2, 0x81, 0xA0]]
    static let automaton = KeywordAutomaton(bytes: table.flatMap { $0.2.map { Array($0.utf8) } } + smuggling)

    /// Whether base64 blobs are decoded and scanned (off inside a decoded blob: one level only).
    let decodesPayloads: Bool

    public init(threshold: Int = 4) { self.init(threshold: threshold, decodesPayloads: true) }

    init(threshold: Int, decodesPayloads: Bool) { self.threshold = threshold; self.decodesPayloads = decodesPayloads }

    public func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, final: Bool) throws(GuardrailError) -> [Finding] {
        var findings: [Finding] = []
        var score = 0
        var counted = Set<String>()
        var zeroWidth = 0
        let ruleKeywords = Self.keywordRules.count
        var matchers = [PrefixMatcher?](repeating: nil, count: Self.rules.count)
        Self.automaton.scan(text, from: from) { id, start in
            if id >= ruleKeywords {
                let (rule, points) = Self.smugglingRule(id - ruleKeywords, &zeroWidth)
                guard points > 0 else { return }
                if counted.insert(rule).inserted || rule == "unicode_tags" { score += points }
                findings.append(Finding(detector: name, rule: rule, range: start..<min(text.count, start + (id - ruleKeywords < 2 ? 4 : 3))))
                return
            }
            let index = Self.keywordRules[id][0]
            guard let rule = Self.rules[index], findings.last.map({ $0.range.upperBound <= start }) ?? true else { return }
            if matchers[index] == nil { matchers[index] = PrefixMatcher(rule.regex, text: text) }
            guard let end = matchers[index]?.match(at: start) else { return }
            if counted.insert(rule.name).inserted { score += rule.score }
            findings.append(Finding(detector: name, rule: rule.name, range: start..<end))
        }
        if decodesPayloads {
            for run in encodedInjections(text, from: from) {
                findings.append(Finding(detector: name, rule: "encoded_injection", range: run))
                if counted.insert("encoded_injection").inserted { score += 5 }
            }
        }
        return score >= threshold ? GuardrailFindings.sortedDisjoint(findings) : []
    }

    /// Base64 runs whose decoded text the rules score as an injection.
    func encodedInjections(_ text: UnsafeBufferPointer<UInt8>, from: Int) -> [Range<Int>] {
        let inner = InjectionDetector(threshold: threshold, decodesPayloads: false)
        return EncodedPayloads.runs(text, from: from).filter { run in
            guard let decoded = EncodedPayloads.decodeText(text, run) else { return false }
            let findings = decoded.withUnsafeBufferPointer { try? inner.scan($0, from: 0, final: true) }
            return !(findings ?? []).isEmpty
        }
    }

    /// Tag characters score 5 each (there is no legitimate use in prose); bidi overrides 2;
    /// zero-width characters score only from the third on (single ones occur in real text).
    static func smugglingRule(_ index: Int, _ zeroWidth: inout Int) -> (String, Int) {
        switch index {
        case 0, 1: return ("unicode_tags", 5)
        case 2...10: return ("bidi_override", 2)
        default:
            zeroWidth += 1
            return zeroWidth >= 3 ? ("invisible_text", 1) : ("invisible_text", 0)
        }
    }
}
