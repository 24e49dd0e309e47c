/// Byte-pair merging over token ids: repeatedly merge the adjacent pair with the lowest merge rank,
/// the leftmost pair first among equal ranks, until no pair has a merge (llama.cpp's
/// `llm_tokenizer_bpe_session`, which orders its queue by rank, then by left position).
///
/// Pairs are looked up by id, not by string: a merge `"A B"` is stored as `(id(A), id(B)) → (rank,
/// id(AB))`, so a word never has to be turned back into strings while it is being merged.
struct BPEMerges: Sendable {
    /// `(left << 32 | right)` → `(rank << 32 | merged id)`.
    private let table: [UInt64: UInt64]

    init(table: [UInt64: UInt64]) { self.table = table }

    /// Number of merges that can apply.
    var count: Int { table.count }

    @inline(__always)
    private func lookup(_ left: Int32, _ right: Int32) -> (rank: UInt32, merged: Int32)? {
        guard left >= 0, right >= 0,
              let entry = table[UInt64(UInt32(left)) << 32 | UInt64(UInt32(right))] else { return nil }
        return (UInt32(truncatingIfNeeded: entry >> 32), Int32(truncatingIfNeeded: entry & 0xFFFF_FFFF))
    }

    /// Merges `symbols` (one id per byte; -1 for a byte with no token) in place of the result.
    func merge(_ symbols: inout [Int32], scratch: inout MergeScratch) {
        let n = symbols.count
        guard n > 1 else { return }
        scratch.reset(count: n)
        for i in 0..<(n - 1) { push(symbols, i, i + 1, &scratch) }
        while let candidate = scratch.heap.popMin() {
            let left = Int(candidate.left), right = Int(candidate.right)
            // Stale entries: a side was merged away, or the pair changed since it was queued.
            guard scratch.next[left] == right, symbols[left] == candidate.leftID,
                  symbols[right] == candidate.rightID, let found = lookup(symbols[left], symbols[right])
            else { continue }
            symbols[left] = found.merged
            symbols[right] = -2
            let after = scratch.next[right]
            scratch.next[left] = after
            if after < n { scratch.prev[after] = left }
            if scratch.prev[left] >= 0 { push(symbols, scratch.prev[left], left, &scratch) }
            if after < n { push(symbols, left, after, &scratch) }
        }
        var write = 0
        for read in 0..<n where symbols[read] != -2 {
            symbols[write] = symbols[read]
            write += 1
        }
        symbols.removeLast(n - write)
    }

    @inline(__always)
    private func push(_ symbols: [Int32], _ left: Int, _ right: Int, _ scratch: inout MergeScratch) {
        guard let found = lookup(symbols[left], symbols[right]) else { return }
        scratch.heap.push(MergeCandidate(rank: found.rank, left: Int32(left), right: Int32(right),
                                         leftID: symbols[left], rightID: symbols[right]))
    }
}

/// One queued pair: ordered by merge rank, then by position (leftmost first).
struct MergeCandidate {
    var rank: UInt32
    var left: Int32
    var right: Int32
    var leftID: Int32
    var rightID: Int32

    @inline(__always)
    func precedes(_ other: MergeCandidate) -> Bool {
        rank != other.rank ? rank < other.rank : left < other.left
    }
}

/// Buffers reused across the words of one `encode` call.
struct MergeScratch {
    var prev: [Int] = []
    var next: [Int] = []
    var heap = MinHeap()

    mutating func reset(count n: Int) {
        prev.removeAll(keepingCapacity: true)
        next.removeAll(keepingCapacity: true)
        for i in 0..<n {
            prev.append(i - 1)
            next.append(i + 1)
        }
        heap.items.removeAll(keepingCapacity: true)
    }
}

/// A binary min-heap of merge candidates.
struct MinHeap {
    var items: [MergeCandidate] = []

    mutating func push(_ item: MergeCandidate) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popMin() -> MergeCandidate? {
        guard let first = items.first else { return nil }
        let last = items.removeLast()
        guard !items.isEmpty else { return first }
        items[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < items.count && items[left].precedes(items[smallest]) { smallest = left }
            if right < items.count && items[right].precedes(items[smallest]) { smallest = right }
            if smallest == parent { break }
            items.swapAt(parent, smallest)
            parent = smallest
        }
        return first
    }
}
