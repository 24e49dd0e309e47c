/// A compiled pattern: a Thompson NFA as a flat instruction list, run by `PikeVM`.
struct RegexProgram: Sendable {
    enum Op: UInt8, Sendable { case byte, split, jump, assertion, match }

    /// `byte`: x = index into `sets`; `split`: x preferred, y alternative; `jump`: x; `assertion`: x = kind.
    struct Inst: Sendable {
        var op: Op
        var x: Int32
        var y: Int32
    }

    /// Programs above this many instructions are rejected (counted repetition expands the body).
    static let maxInstructions = 20_000
    static let assertions: [RegexAssertion] = [.textStart, .textEnd, .lineStart, .lineEnd, .wordBoundary, .notWordBoundary]

    var insts: [Inst] = []
    var sets: [ByteSet] = []
    /// Bytes that can begin a match (a search skips others while no thread is alive).
    var firstBytes = ByteSet()

    /// Compiles `node`; errors when the program would be too large.
    static func compile(_ node: RegexNode) throws(GuardrailError) -> RegexProgram {
        var program = RegexProgram()
        try program.emit(node)
        program.append(Inst(op: .match, x: 0, y: 0))
        program.firstBytes = program.computeFirstBytes()
        return program
    }

    mutating func append(_ inst: Inst) { insts.append(inst) }

    mutating func emitSet(_ set: ByteSet) {
        let index: Int
        if let existing = sets.firstIndex(of: set) { index = existing } else { index = sets.count; sets.append(set) }
        append(Inst(op: .byte, x: Int32(index), y: 0))
    }

    mutating func emit(_ node: RegexNode) throws(GuardrailError) {
        guard insts.count <= Self.maxInstructions else {
            throw GuardrailError("pattern too large once repetitions are expanded (over \(Self.maxInstructions) instructions)", at: 0)
        }
        switch node {
        case .empty: break
        case .bytes(let set): emitSet(set)
        case .utf8Char(let ascii): try emit(Self.utf8Alternatives(ascii))
        case .sequence(let nodes): for item in nodes { try emit(item) }
        case .alternation(let branches): try emitAlternation(branches)
        case .repetition(let body, let min, let max, let greedy): try emitRepetition(body, min: min, max: max, greedy: greedy)
        case .assertion(let kind):
            let index = Self.assertions.firstIndex(of: kind) ?? 0
            append(Inst(op: .assertion, x: Int32(index), y: 0))
        }
    }

    /// One UTF-8 character whose ASCII members are `ascii`, or any well-formed multi-byte sequence.
    static func utf8Alternatives(_ ascii: ByteSet) -> RegexNode {
        var cont = ByteSet(); cont.insert(0x80...0xBF)
        var lead2 = ByteSet(); lead2.insert(0xC2...0xDF)
        var lead3 = ByteSet(); lead3.insert(0xE0...0xEF)
        var lead4 = ByteSet(); lead4.insert(0xF0...0xF4)
        var branches: [RegexNode] = [
            .sequence([.bytes(lead2), .bytes(cont)]),
            .sequence([.bytes(lead3), .bytes(cont), .bytes(cont)]),
            .sequence([.bytes(lead4), .bytes(cont), .bytes(cont), .bytes(cont)]),
        ]
        if !ascii.isEmpty { branches.insert(.bytes(ascii), at: 0) }
        return .alternation(branches)
    }

    mutating func emitAlternation(_ branches: [RegexNode]) throws(GuardrailError) {
        var jumps: [Int] = []
        for (index, branch) in branches.enumerated() {
            if index < branches.count - 1 {
                let split = insts.count
                append(Inst(op: .split, x: Int32(split + 1), y: 0))
                try emit(branch)
                jumps.append(insts.count)
                append(Inst(op: .jump, x: 0, y: 0))
                insts[split].y = Int32(insts.count)
            } else {
                try emit(branch)
            }
        }
        for jump in jumps { insts[jump].x = Int32(insts.count) }
    }

    mutating func emitRepetition(_ body: RegexNode, min: Int, max: Int?, greedy: Bool) throws(GuardrailError) {
        for _ in 0..<min { try emit(body) }
        guard let max else {
            // L: split(body, out); body; jump L
            let split = insts.count
            append(Inst(op: .split, x: 0, y: 0))
            try emit(body)
            append(Inst(op: .jump, x: Int32(split), y: 0))
            let out = Int32(insts.count)
            insts[split].x = greedy ? Int32(split + 1) : out
            insts[split].y = greedy ? out : Int32(split + 1)
            return
        }
        var splits: [Int] = []
        for _ in min..<Swift.max(min, max) {
            splits.append(insts.count)
            append(Inst(op: .split, x: 0, y: 0))
            try emit(body)
        }
        let out = Int32(insts.count)
        for split in splits {
            insts[split].x = greedy ? Int32(split + 1) : out
            insts[split].y = greedy ? out : Int32(split + 1)
        }
    }

    /// The union of byte sets reachable from the start through empty transitions.
    func computeFirstBytes() -> ByteSet {
        var result = ByteSet()
        var seen = [Bool](repeating: false, count: insts.count)
        var stack = [0]
        while let pc = stack.popLast() {
            guard !seen[pc] else { continue }
            seen[pc] = true
            let inst = insts[pc]
            switch inst.op {
            case .byte: result.formUnion(sets[Int(inst.x)])
            case .split: stack.append(Int(inst.y)); stack.append(Int(inst.x))
            case .jump: stack.append(Int(inst.x))
            case .assertion: stack.append(pc + 1)
            case .match: return .all
            }
        }
        return result
    }
}
