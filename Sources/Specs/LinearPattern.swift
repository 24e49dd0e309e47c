/// A regular-expression subset matched in linear time (Thompson's construction, simulated as a set
/// of NFA states: O(text × program), no backtracking), for `pattern` in tool-argument schemas.
///
/// Supported (ECMA-262 spellings, as JSON Schema uses): literals, `.`, classes `[a-z0-9_]` and
/// `[^...]`, `\d \D \w \W \s \S`, escaped punctuation, `\n \r \t`, groups `(...)` and `(?:...)`,
/// `|`, `* + ?` and `{n}`, `{n,}`, `{n,m}` (lazy forms accepted: for matching they mean the same),
/// `^` and `$`. Not supported, refused at load: backreferences, lookaround, `\b`, named groups.
/// The match is a search (JSON Schema patterns are not implicitly anchored).
public struct LinearPattern: Sendable {
    public struct SyntaxError: Error, Sendable { public let message: String }

    /// One character test.
    enum Test: Sendable {
        case scalar(Unicode.Scalar)
        case any
        case set([ClosedRange<UInt32>], negated: Bool)

        func accepts(_ c: Unicode.Scalar) -> Bool {
            switch self {
            case .scalar(let s): return s == c
            case .any: return c != "\n" && c != "\r"
            case .set(let ranges, let negated): return ranges.contains { $0.contains(c.value) } != negated
            }
        }
    }

    enum Instruction: Sendable {
        case test(Test), split(Int, Int), jump(Int), atStart, atEnd, match
    }

    /// The pattern as written.
    public let source: String
    let program: [Instruction]

    /// The largest compiled program accepted (bounded repetition multiplies its operand).
    static let maximumProgram = 20_000

    public init(_ source: String) throws(SyntaxError) {
        var parser = PatternParser(Array(source.unicodeScalars))
        let node = try parser.parse()
        var compiler = PatternCompiler()
        try compiler.emit(node)
        compiler.program.append(.match)
        self.source = source
        program = compiler.program
    }

    /// Whether the pattern matches anywhere in `text`.
    public func search(_ text: String) -> Bool {
        let scalars = Array(text.unicodeScalars)
        var current = StateSet(capacity: program.count), next = StateSet(capacity: program.count)
        for position in 0...scalars.count {
            if add(0, position, scalars.count, &current) { return true }
            guard position < scalars.count else { break }
            next.clear()
            for pc in current.members {
                if case .test(let test) = program[pc], test.accepts(scalars[position]),
                   add(pc + 1, position + 1, scalars.count, &next) { return true }
            }
            swap(&current, &next)
        }
        return false
    }

    /// Follows the empty transitions from `start` into `set`; true when `match` is reachable.
    private func add(_ start: Int, _ position: Int, _ count: Int, _ set: inout StateSet) -> Bool {
        var stack = [start]
        while let pc = stack.popLast() {
            guard set.insert(pc) else { continue }
            switch program[pc] {
            case .match: return true
            case .jump(let target): stack.append(target)
            case .split(let a, let b): stack.append(b); stack.append(a)
            case .atStart: if position == 0 { stack.append(pc + 1) }
            case .atEnd: if position == count { stack.append(pc + 1) }
            case .test: break
            }
        }
        return false
    }
}

/// A sparse set of program counters (Briggs–Torczon): O(1) insert and clear.
struct StateSet {
    var dense: [Int], sparse: [Int], count = 0
    init(capacity: Int) { dense = [Int](repeating: 0, count: capacity); sparse = dense }
    mutating func insert(_ pc: Int) -> Bool {
        let i = sparse[pc]
        if i < count && dense[i] == pc { return false }
        sparse[pc] = count; dense[count] = pc; count += 1
        return true
    }
    mutating func clear() { count = 0 }
    var members: ArraySlice<Int> { dense[0..<count] }
}

/// The parsed pattern.
indirect enum PatternNode {
    case empty, test(LinearPattern.Test), start, end
    case sequence([PatternNode]), alternatives([PatternNode])
    case repeated(PatternNode, min: Int, max: Int?)
}

/// Compiles a node to instructions; bounded repetition is unrolled, so the size is capped.
struct PatternCompiler {
    var program: [LinearPattern.Instruction] = []

    mutating func emit(_ node: PatternNode) throws(LinearPattern.SyntaxError) {
        guard program.count < LinearPattern.maximumProgram else {
            throw LinearPattern.SyntaxError(message: "pattern too large once repetitions are expanded")
        }
        switch node {
        case .empty: break
        case .test(let test): program.append(.test(test))
        case .start: program.append(.atStart)
        case .end: program.append(.atEnd)
        case .sequence(let nodes): for node in nodes { try emit(node) }
        case .alternatives(let nodes): try emitAlternatives(nodes[...])
        case .repeated(let node, let min, let max): try emitRepeat(node, min: min, max: max)
        }
    }

    mutating func emitAlternatives(_ nodes: ArraySlice<PatternNode>) throws(LinearPattern.SyntaxError) {
        guard let first = nodes.first else { return }
        if nodes.count == 1 { try emit(first); return }
        let split = program.count
        program.append(.split(split + 1, 0))
        try emit(first)
        let jump = program.count
        program.append(.jump(0))
        program[split] = .split(split + 1, program.count)
        try emitAlternatives(nodes.dropFirst())
        program[jump] = .jump(program.count)
    }

    mutating func emitRepeat(_ node: PatternNode, min: Int, max: Int?) throws(LinearPattern.SyntaxError) {
        for _ in 0..<min { try emit(node) }
        guard let max else {
            let split = program.count
            program.append(.split(split + 1, 0))
            try emit(node)
            program.append(.jump(split))
            program[split] = .split(split + 1, program.count)
            return
        }
        var holes: [Int] = []
        for _ in min..<max {
            holes.append(program.count)
            program.append(.split(program.count + 1, 0))
            try emit(node)
        }
        for hole in holes { program[hole] = .split(hole + 1, program.count) }
    }
}
