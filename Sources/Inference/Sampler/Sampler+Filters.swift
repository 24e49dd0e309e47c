import Glibc

extension Sampler {
    /// Applies min-p and top-p to the candidates (top-p leaves them sorted by logit, descending).
    ///
    /// Both filters keep a prefix of the sorted list and both compare probabilities normalised over
    /// the same top-k set, so applying min-p first (it needs no sort and usually leaves a handful of
    /// tokens) gives the same result as llama.cpp's top-p-then-min-p order while sorting far less.
    mutating func sortAndCut() {
        guard let maxLogit = values.max() else { return }
        var total = 0.0
        for v in values { total += exp(Double(v - maxLogit)) }
        if parameters.minP > 0 {
            // p_i >= min_p * p_max  <=>  logit_i >= max + log(min_p)
            let floor = maxLogit + logf(parameters.minP)
            filter { _, value in value >= floor }
        }
        guard parameters.topP < 1 else { return }
        // The nucleus is usually a few hundred tokens at most: sort only the best 256 first, and the
        // whole list only when they do not reach top_p.
        if values.count > 1024, let keep = nucleus(of: topCandidates(256), maxLogit: maxLogit, total: total) {
            (ids, values) = (Array(keep.ids), Array(keep.values))
            return
        }
        sortDescending()
        let keep = nucleus(of: (ids, values), maxLogit: maxLogit, total: total)?.ids.count ?? values.count
        ids.removeLast(ids.count - keep)
        values.removeLast(values.count - keep)
    }

    /// The shortest prefix of sorted candidates whose probability reaches top_p, or nil if none does.
    private func nucleus(of sorted: (ids: [Int32], values: [Float]), maxLogit: Float,
                         total: Double) -> (ids: ArraySlice<Int32>, values: ArraySlice<Float>)? {
        var cumulative = 0.0
        for (index, value) in sorted.values.enumerated() {
            cumulative += exp(Double(value - maxLogit)) / total
            if cumulative >= Double(parameters.topP) {
                return (sorted.ids[...index], sorted.values[...index])
            }
        }
        return nil
    }

    /// The best `count` candidates, sorted by logit descending (ties by id).
    private func topCandidates(_ count: Int) -> (ids: [Int32], values: [Float]) {
        var heap = CandidateHeap(capacity: count)
        for index in ids.indices { heap.offer(ids[index], values[index]) }
        let (topIDs, topValues) = heap.contents()
        let order = topIDs.indices.sorted {
            topValues[$0] != topValues[$1] ? topValues[$0] > topValues[$1] : topIDs[$0] < topIDs[$1]
        }
        return (order.map { topIDs[$0] }, order.map { topValues[$0] })
    }

    /// Temperature, softmax, and one draw: the first candidate whose cumulative probability passes u.
    mutating func draw() -> Int32 {
        guard let first = ids.first, let maxLogit = values.max() else { return 0 }
        let scale = 1 / Double(parameters.temperature)
        let weights = values.map { exp((Double($0) - Double(maxLogit)) * scale) }
        let total = weights.reduce(0, +)
        let u = random.nextUnit() * total
        var cumulative = 0.0
        for index in weights.indices {
            cumulative += weights[index]
            if u < cumulative { return ids[index] }
        }
        return ids.last ?? first
    }

    private mutating func filter(_ keep: (Int32, Float) -> Bool) {
        var write = 0
        for read in ids.indices where keep(ids[read], values[read]) {
            ids[write] = ids[read]
            values[write] = values[read]
            write += 1
        }
        ids.removeLast(ids.count - write)
        values.removeLast(values.count - write)
    }

    /// Sorts by logit descending, ties by id, as one sort of packed integer keys (no comparator
    /// closure: this is the one O(V log V) step, when top-p needs the whole vocabulary sorted).
    private mutating func sortDescending() {
        var keys = [UInt64](repeating: 0, count: ids.count)
        for index in ids.indices {
            let bits = values[index].bitPattern
            let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            keys[index] = UInt64(~ordered) << 32 | UInt64(UInt32(bitPattern: ids[index]))
        }
        keys.sort()
        for (index, key) in keys.enumerated() {
            let ordered = ~UInt32(truncatingIfNeeded: key >> 32)
            let bits = ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered
            values[index] = Float(bitPattern: bits)
            ids[index] = Int32(bitPattern: UInt32(truncatingIfNeeded: key))
        }
    }
}

/// Keeps the k largest (logit, id) pairs seen, as a min-heap on (logit, -id).
struct CandidateHeap {
    private var ids: [Int32] = []
    private var values: [Float] = []
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        ids.reserveCapacity(min(capacity, 4096))
        values.reserveCapacity(min(capacity, 4096))
    }

    @inline(__always)
    private func less(_ a: Int, _ b: Int) -> Bool {
        values[a] != values[b] ? values[a] < values[b] : ids[a] > ids[b]
    }

    mutating func offer(_ id: Int32, _ value: Float) {
        if ids.count < capacity {
            ids.append(id)
            values.append(value)
            var child = ids.count - 1
            while child > 0, less(child, (child - 1) / 2) {
                swap(child, (child - 1) / 2)
                child = (child - 1) / 2
            }
            return
        }
        guard capacity > 0, value > values[0] || (value == values[0] && id < ids[0]) else { return }
        ids[0] = id
        values[0] = value
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < ids.count && less(left, smallest) { smallest = left }
            if right < ids.count && less(right, smallest) { smallest = right }
            if smallest == parent { return }
            swap(parent, smallest)
            parent = smallest
        }
    }

    @inline(__always)
    private mutating func swap(_ a: Int, _ b: Int) {
        ids.swapAt(a, b)
        values.swapAt(a, b)
    }

    func contents() -> ([Int32], [Float]) { (ids, values) }
}
