import Glibc

extension Sampler {
    /// Sorts the candidates by logit (descending, ties by id) and applies min-p and top-p.
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
        sortDescending()
        if parameters.topP < 1 {
            var cumulative = 0.0
            var keep = values.count
            for (index, value) in values.enumerated() {
                cumulative += exp(Double(value - maxLogit)) / total
                if cumulative >= Double(parameters.topP) {
                    keep = index + 1
                    break
                }
            }
            ids.removeLast(ids.count - keep)
            values.removeLast(values.count - keep)
        }
    }

    /// Temperature, softmax, and one draw: the first candidate whose cumulative probability passes u.
    mutating func draw() -> Int32 {
        guard let first = ids.first, let maxLogit = values.first else { return 0 }
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

    private mutating func sortDescending() {
        let order = ids.indices.sorted { values[$0] != values[$1] ? values[$0] > values[$1] : ids[$0] < ids[$1] }
        ids = order.map { ids[$0] }
        values = order.map { values[$0] }
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
