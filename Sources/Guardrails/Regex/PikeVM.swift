/// A linear-time regex: Thompson NFA simulated Pike-style (one thread per instruction per position),
/// so hostile patterns such as `(a+)+$` cost O(text × program), never exponential.
///
/// Matches are leftmost-first (Perl/RE2 priority: greedy quantifiers prefer longer, alternation
/// prefers the left branch) and non-overlapping. A match is capped at `maxMatchBytes`: a thread
/// older than that is dropped, which bounds both the streaming hold-back and the work spent
/// extending a match (so finding all matches stays linear too).
public struct LinearRegex: Sendable {
    /// The longest match a search reports.
    public static let maxMatchBytes = 4096

    let program: RegexProgram
    /// The longest possible match in bytes (capped at `maxMatchBytes`).
    public let maxLength: Int

    /// Compiles `pattern`; the error names the unsupported construct and its offset.
    public init(_ pattern: String) throws(GuardrailError) {
        let node = try RegexParser.parse(pattern)
        guard node.minLength > 0 else {
            throw GuardrailError("the pattern can match the empty string, which would match everywhere", at: 0)
        }
        program = try RegexProgram.compile(node)
        maxLength = min(node.maxLength ?? Self.maxMatchBytes, Self.maxMatchBytes)
    }

    /// The result of a search: matches, and where a match still in progress at the end began.
    public struct Matches: Sendable {
        public var ranges: [Range<Int>] = []
        /// The earliest start of a thread alive at the end of the text (streaming holds back from
        /// there); nil when nothing is in progress.
        public var pendingFrom: Int?
    }

    /// All matches in `text[from..<text.count]`. Bytes before `from` are context for `\b` and `^`;
    /// `final` says the text really ends there (else `$`/`\b` at the end count as undecided).
    public func matches(in text: UnsafeBufferPointer<UInt8>, from: Int = 0, final: Bool = true) -> Matches {
        var vm = PikeVM(program: program, text: text, final: final)
        return vm.run(from: from, anchored: false)
    }

    /// The end of the match that starts exactly at `start`, if any (leftmost-first priorities).
    public func prefixMatch(in text: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
        var matcher = PrefixMatcher(self, text: text)
        return matcher.match(at: start)
    }

    /// Convenience for tests and tools: matches in a string.
    public func matches(in text: String) -> [Range<Int>] {
        var copy = Array(text.utf8)
        return copy.withUnsafeMutableBufferPointer { matches(in: UnsafeBufferPointer($0)).ranges }
    }
}

/// Anchored matching at many offsets of one text, reusing the thread lists between calls.
public struct PrefixMatcher {
    var vm: PikeVM

    public init(_ regex: LinearRegex, text: UnsafeBufferPointer<UInt8>) {
        vm = PikeVM(program: regex.program, text: text, final: true)
    }

    /// The end of the match that starts exactly at `start`, if any.
    public mutating func match(at start: Int) -> Int? {
        guard start < vm.text.count, vm.program.firstBytes.contains(vm.text[start]) else { return nil }
        return vm.run(from: start, anchored: true).ranges.first?.upperBound
    }

}

/// A list of threads: each instruction at most once, in priority order. Manually allocated
/// storage: the VM's inner loop writes these on every step, and array writes would pay a
/// uniqueness check each time.
final class ThreadList {
    let pcs: UnsafeMutablePointer<Int32>
    let starts: UnsafeMutablePointer<Int>
    let sparse: UnsafeMutablePointer<Int32>
    var count = 0

    init(size: Int) {
        let capacity = max(1, size)
        pcs = .allocate(capacity: capacity); starts = .allocate(capacity: capacity)
        sparse = .allocate(capacity: capacity)
        sparse.initialize(repeating: 0, count: capacity)
    }

    deinit { pcs.deallocate(); starts.deallocate(); sparse.deallocate() }

    @inline(__always) func contains(_ pc: Int32) -> Bool {
        let index = Int(sparse[Int(pc)])
        return index < count && pcs[index] == pc
    }

    @inline(__always) func insert(_ pc: Int32, start: Int) {
        sparse[Int(pc)] = Int32(count); pcs[count] = pc; starts[count] = start; count += 1
    }
}

/// The explicit stack of the epsilon closure (each instruction is pushed at most twice per closure).
final class PCStack {
    let items: UnsafeMutablePointer<Int32>
    var count = 0
    init(size: Int) { items = .allocate(capacity: max(4, 2 * size + 2)) }
    deinit { items.deallocate() }
    @inline(__always) func push(_ pc: Int32) { items[count] = pc; count += 1 }
    @inline(__always) func pop() -> Int32? {
        guard count > 0 else { return nil }
        count -= 1
        return items[count]
    }
}

struct PikeVM {
    let program: RegexProgram
    let text: UnsafeBufferPointer<UInt8>
    let final: Bool
    var current: ThreadList
    var next: ThreadList
    var visited: ThreadList
    let stack: PCStack
    var pendingFrom: Int?

    init(program: RegexProgram, text: UnsafeBufferPointer<UInt8>, final: Bool) {
        self.program = program; self.text = text; self.final = final
        current = ThreadList(size: program.insts.count); next = ThreadList(size: program.insts.count)
        visited = ThreadList(size: program.insts.count); stack = PCStack(size: program.insts.count)
    }

    mutating func run(from: Int, anchored: Bool) -> LinearRegex.Matches {
        var current = self.current, next = self.next
        defer { self.current = current; self.next = next }
        current.count = 0; next.count = 0; pendingFrom = nil
        var result = LinearRegex.Matches()
        let end = text.count
        var best: Range<Int>?
        var position = from
        while true {
            if best == nil, anchored, position > from, current.count == 0 { break }
            if best == nil, !anchored || position == from {
                if current.count == 0, !anchored {
                    while position < end, !program.firstBytes.contains(text[position]) { position += 1 }
                    if position >= end { break }
                }
                addThread(to: current, pc: 0, start: position, at: position)
            }
            if position >= end, !final { notePending(current) }
            if let found = step(from: current, to: next, at: position) { best = found }
            swap(&current, &next)
            if let found = best, current.count == 0 {
                result.ranges.append(found)
                best = nil
                position = found.upperBound
                continue
            }
            if position >= end { break }
            position += 1
        }
        if let best { result.ranges.append(best) }
        result.pendingFrom = pendingFrom
        return result
    }

    /// Threads waiting for a byte at the end need more text: a stream holds from their start.
    mutating func notePending(_ list: ThreadList) {
        for index in 0..<list.count where program.insts[Int(list.pcs[index])].op == .byte {
            pendingFrom = min(pendingFrom ?? Int.max, list.starts[index])
        }
    }

    /// Advances every thread of `current` over the byte at `position` into `next`, in priority
    /// order; returns the match of the first thread that reached `match` (lower ones are cut).
    @inline(__always) mutating func step(from current: ThreadList, to next: ThreadList, at position: Int) -> Range<Int>? {
        next.count = 0
        let end = text.count
        for index in 0..<current.count {
            let pc = current.pcs[index], start = current.starts[index]
            let inst = program.insts[Int(pc)]
            if inst.op == .match { return start..<position }
            guard position < end, position - start < LinearRegex.maxMatchBytes,
                  program.sets[Int(inst.x)].contains(text[position]) else { continue }
            addThread(to: next, pc: pc + 1, start: start, at: position + 1)
        }
        return nil
    }

    /// Follows empty transitions from `pc` at `position`, adding byte and match instructions to `list`.
    mutating func addThread(to list: ThreadList, pc: Int32, start: Int, at position: Int) {
        visited.count = 0
        stack.count = 0
        stack.push(pc)
        while let pc = stack.pop() {
            guard !list.contains(pc), !visited.contains(pc) else { continue }
            visited.insert(pc, start: start)
            let inst = program.insts[Int(pc)]
            switch inst.op {
            case .byte, .match: list.insert(pc, start: start)
            case .jump: stack.push(inst.x)
            case .split: stack.push(inst.y); stack.push(inst.x)
            case .assertion:
                switch assertion(RegexProgram.assertions[Int(inst.x)], at: position) {
                case true?: stack.push(pc + 1)
                case false?: break
                case nil: pendingFrom = min(pendingFrom ?? Int.max, start)
                }
            }
        }
    }

    /// Whether an assertion holds at `position`; nil when it depends on text not yet seen.
    func assertion(_ kind: RegexAssertion, at position: Int) -> Bool? {
        let atEnd = position >= text.count
        if atEnd && !final && kind != .textStart && kind != .lineStart { return nil }
        let before: UInt8? = position > 0 ? text[position - 1] : nil
        let after: UInt8? = atEnd ? nil : text[position]
        switch kind {
        case .textStart: return position == 0
        case .textEnd: return atEnd
        case .lineStart: return before == nil || before == 0x0A
        case .lineEnd: return after == nil || after == 0x0A
        case .wordBoundary, .notWordBoundary:
            let isWord = { (byte: UInt8?) -> Bool in byte.map { ByteSet.word.contains($0) } ?? false }
            let boundary = isWord(before) != isWord(after)
            return kind == .wordBoundary ? boundary : !boundary
        }
    }
}
