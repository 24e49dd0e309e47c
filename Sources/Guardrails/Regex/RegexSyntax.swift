/// A set of byte values, the unit the regex engine matches (UTF-8 is matched byte by byte).
struct ByteSet: Hashable, Sendable {
    var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: ByteSet, b: ByteSet) -> Bool { a.words == b.words }
    func hash(into hasher: inout Hasher) { hasher.combine(words.0); hasher.combine(words.1); hasher.combine(words.2); hasher.combine(words.3) }

    @inline(__always) func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    mutating func insert(_ range: ClosedRange<UInt8>) { for byte in range { insert(byte) } }
    mutating func formUnion(_ other: ByteSet) {
        words = (words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3)
    }

    /// The ASCII bytes not in this set (bytes ≥ 0x80 are handled as whole UTF-8 sequences elsewhere).
    var asciiComplement: ByteSet { ByteSet(words: (~words.0, ~words.1, 0, 0)) }
    var isEmpty: Bool { words == (0, 0, 0, 0) }

    /// Adds the other case of every ASCII letter in the set.
    var caseFolded: ByteSet {
        var result = self
        for byte in UInt8(0x41)...UInt8(0x5A) where contains(byte) || contains(byte | 0x20) {
            result.insert(byte); result.insert(byte | 0x20)
        }
        return result
    }

    init() {}
    init(words: (UInt64, UInt64, UInt64, UInt64)) { self.words = words }
    init(_ byte: UInt8) { insert(byte) }

    static let all = ByteSet(words: (~0, ~0, ~0, ~0))
    static let digits: ByteSet = { var set = ByteSet(); set.insert(0x30...0x39); return set }()
    static let word: ByteSet = {
        var set = digits; set.insert(0x41...0x5A); set.insert(0x61...0x7A); set.insert(0x5F); return set
    }()
    static let space: ByteSet = { var set = ByteSet(); for byte: UInt8 in [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D] { set.insert(byte) }; return set }()
}

/// Zero-width assertions.
enum RegexAssertion: Sendable {
    case textStart, textEnd, lineStart, lineEnd, wordBoundary, notWordBoundary
}

/// The parsed form of a pattern.
indirect enum RegexNode: Sendable {
    case empty
    /// One byte from the set.
    case bytes(ByteSet)
    /// One whole UTF-8 character: any (`.`), or any non-ASCII plus the given ASCII set (negated classes).
    case utf8Char(ascii: ByteSet)
    case sequence([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, min: Int, max: Int?, greedy: Bool)
    case assertion(RegexAssertion)

    /// The longest match in bytes, or nil when unbounded.
    var maxLength: Int? {
        switch self {
        case .empty, .assertion: return 0
        case .bytes: return 1
        case .utf8Char: return 4
        case .sequence(let nodes):
            var total = 0
            for node in nodes { guard let length = node.maxLength else { return nil }; total += length }
            return total
        case .alternation(let nodes):
            var best = 0
            for node in nodes { guard let length = node.maxLength else { return nil }; best = Swift.max(best, length) }
            return best
        case .repetition(let node, _, let max, _):
            guard let max, let length = node.maxLength else { return node.maxLength == 0 ? 0 : nil }
            return max * length
        }
    }

    /// The shortest match in bytes (a deny-list pattern must not match the empty string).
    var minLength: Int {
        switch self {
        case .empty, .assertion: return 0
        case .bytes, .utf8Char: return 1
        case .sequence(let nodes): return nodes.reduce(0) { $0 + $1.minLength }
        case .alternation(let nodes): return nodes.map(\.minLength).min() ?? 0
        case .repetition(let node, let min, _, _): return min * node.minLength
        }
    }
}
