/// A case-insensitive Aho-Corasick automaton over ASCII keywords: the prefilter that makes rule
/// scanning cost one table load per byte when nothing is there (the gitleaks design: keyword, then
/// pattern, then entropy).
///
/// The transition table is dense over byte classes (the bytes that occur in keywords, folded to
/// lowercase, plus one class for everything else), so it stays a few KiB and in cache.
struct KeywordAutomaton: Sendable {
    /// Byte → column.
    let classes: [UInt8]
    let columns: Int
    /// state * columns + column → next state.
    let transitions: [Int32]
    /// For each state, the keyword ids that end there (own and via failure links).
    let outputs: [[Int32]]
    /// Keyword lengths by id.
    let lengths: [Int]
    /// Whether any keyword ends in a state.
    let terminal: [Bool]
    /// `transitions` as row offsets with a terminal flag in the sign bit (see `init`).
    let rows: [Int32]

    init(_ keywords: [String]) { self.init(bytes: keywords.map { Array($0.utf8) }) }

    init(bytes keywords: [[UInt8]]) {
        let (classes, columns) = Self.byteClasses(keywords)
        var (goto, outputs) = Self.trie(keywords, classes: classes, columns: columns)
        let table = Self.complete(goto: &goto, outputs: &outputs, columns: columns)
        self.classes = classes; self.columns = columns
        self.outputs = outputs; self.lengths = keywords.map(\.count)
        self.terminal = outputs.map { !$0.isEmpty }
        // The scan loop's table: each entry is the target's row offset (state * columns), with the
        // sign bit set when keywords end there, so a step is one add and one load.
        let terminal = self.terminal
        rows = table.map { target in
            let offset = Int32(Int(target) * columns)
            return terminal[Int(target)] ? offset | Int32.min : offset
        }
        self.transitions = table
    }

    /// One column per distinct keyword byte (both cases of a letter share one), column 0 for the rest.
    static func byteClasses(_ keywords: [[UInt8]]) -> ([UInt8], Int) {
        var classes = [UInt8](repeating: 0, count: 256)
        var columns = 1
        for keyword in keywords {
            for byte in keyword where classes[Int(Bytes.lower(byte))] == 0 {
                let folded = Bytes.lower(byte)
                classes[Int(folded)] = UInt8(columns)
                if Bytes.isLower(folded) { classes[Int(folded - 0x20)] = UInt8(columns) }
                columns += 1
            }
        }
        return (classes, columns)
    }

    /// The keyword trie: `goto[state][column]` (-1: none) and the keyword ids ending at each state.
    static func trie(_ keywords: [[UInt8]], classes: [UInt8], columns: Int) -> ([[Int32]], [[Int32]]) {
        var goto: [[Int32]] = [[Int32](repeating: -1, count: columns)]
        var outputs: [[Int32]] = [[]]
        for (id, keyword) in keywords.enumerated() {
            var state = 0
            for byte in keyword {
                let column = Int(classes[Int(byte)])
                if goto[state][column] < 0 {
                    goto[state][column] = Int32(goto.count)
                    goto.append([Int32](repeating: -1, count: columns)); outputs.append([])
                }
                state = Int(goto[state][column])
            }
            outputs[state].append(Int32(id))
        }
        return (goto, outputs)
    }

    /// Failure links in breadth-first order, folded into a complete transition table; each state's
    /// outputs gain those of its failure state.
    static func complete(goto: inout [[Int32]], outputs: inout [[Int32]], columns: Int) -> [Int32] {
        var table = [Int32](repeating: 0, count: goto.count * columns)
        var fail = [Int](repeating: 0, count: goto.count)
        var queue: [Int] = []
        for column in 0..<columns {
            let target = goto[0][column]
            if target > 0 { table[column] = target; queue.append(Int(target)) }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]; head += 1
            outputs[state] += outputs[fail[state]].filter { !outputs[state].contains($0) }
            for column in 0..<columns {
                let target = goto[state][column]
                if target >= 0 {
                    fail[Int(target)] = Int(table[fail[state] * columns + column])
                    table[state * columns + column] = target
                    queue.append(Int(target))
                } else {
                    table[state * columns + column] = table[fail[state] * columns + column]
                }
            }
        }
        return table
    }

    /// Calls `hit(keywordID, startOffset)` for every keyword occurrence in `text[from...]`.
    @inline(__always) func scan(_ text: UnsafeBufferPointer<UInt8>, from: Int, _ hit: (Int, Int) -> Void) {
        classes.withUnsafeBufferPointer { classes in
            rows.withUnsafeBufferPointer { rows in
                var row = 0
                var index = from
                let count = text.count
                while index < count {
                    let next = rows[row &+ Int(classes[Int(text[index])])]
                    index &+= 1
                    row = Int(next & Int32.max)
                    if next < 0 {
                        for id in outputs[row / columns] { hit(Int(id), index - lengths[Int(id)]) }
                    }
                }
            }
        }
    }
}
