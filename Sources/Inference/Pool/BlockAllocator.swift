/// One worker's KV arena bookkeeping: which blocks are free, which are held (and by how many
/// sequences), and which hold a cached prefix that a later request with the same tokens can reuse.
///
/// Prefix caching follows vLLM v1's automatic prefix caching, with the identity made exact: a full
/// block is cached under (its parent block in the chain, its `blockSize` token ids), so the cache is a
/// trie of blocks whose edges compare the tokens themselves; a hash only picks the dictionary bucket
/// and never decides a match on its own. A block whose last holder frees it stays cached and becomes
/// evictable; when no free block is left the least recently used evictable block is evicted (with the
/// cached blocks below it in the trie, which can no longer be reached). Not thread-safe: the worker
/// that owns the arena is its only user.
struct BlockAllocator {
    /// Positions per block.
    let blockSize: Int
    /// Blocks in the arena.
    let blockCount: Int
    /// Whether full blocks are cached and matched.
    let prefixCaching: Bool

    private var refcounts: [Int]
    /// Uncached blocks nobody holds.
    private var freeList: [Int32]
    /// For a cached block: its tokens and its parent (-1 for a chain's first block).
    private var cachedTokens: [[Int32]?]
    private var parents: [Int32]
    /// Children of each cached block, and of the root (the chains' first blocks).
    private var children: [[[Int32]: Int32]]
    private var rootChildren: [[Int32]: Int32] = [:] {
        didSet { chainStartsVersion &+= 1 }
    }
    /// Changes whenever a chain's first block is cached or evicted (so the worker republishes them).
    private(set) var chainStartsVersion = 0
    /// Evictable blocks (cached, refcount 0), least recently used first: a doubly linked list.
    private var lruPrevious: [Int32]
    private var lruNext: [Int32]
    private var lruHead: Int32 = -1
    private var lruTail: Int32 = -1
    private var inLRU: [Bool]

    /// Blocks held by at least one sequence.
    private(set) var usedCount = 0
    /// Blocks held by more than one sequence.
    private(set) var sharedCount = 0
    /// Blocks registered in the prefix cache (held or evictable).
    private(set) var cachedCount = 0
    /// Cached blocks nobody holds (reclaimable on demand).
    private(set) var evictableCount = 0
    /// Cached blocks evicted to make room.
    private(set) var evictions = 0

    init(blockSize: Int, blockCount: Int, prefixCaching: Bool) {
        self.blockSize = max(1, blockSize)
        self.blockCount = max(0, blockCount)
        self.prefixCaching = prefixCaching
        refcounts = Array(repeating: 0, count: self.blockCount)
        // Handed out from the end: block 0 first.
        freeList = (0..<Int32(self.blockCount)).reversed()
        cachedTokens = Array(repeating: nil, count: self.blockCount)
        parents = Array(repeating: -1, count: self.blockCount)
        children = Array(repeating: [:], count: self.blockCount)
        lruPrevious = Array(repeating: -1, count: self.blockCount)
        lruNext = Array(repeating: -1, count: self.blockCount)
        inLRU = Array(repeating: false, count: self.blockCount)
    }

    /// Blocks that can be handed out now: free plus evictable.
    var availableCount: Int { freeList.count + evictableCount }
    /// Uncached blocks nobody holds.
    var freeCount: Int { freeList.count }

    /// How many sequences hold `block`.
    func refcount(of block: Int32) -> Int { refcounts[Int(block)] }
    /// Whether `block` is registered in the prefix cache.
    func isCached(_ block: Int32) -> Bool { cachedTokens[Int(block)] != nil }

    /// The first blocks' tokens of every cached chain (what other workers route by).
    var chainStarts: Set<[Int32]> { Set(rootChildren.keys) }

    /// Whether a cached chain begins with `tokens` (one block's worth).
    func holdsChainStart(_ tokens: [Int32]) -> Bool { rootChildren[tokens] != nil }

    /// A block for one holder: a free one, else the least recently used evictable one; nil when every
    /// block is held.
    mutating func allocate() -> Int32? {
        if freeList.isEmpty, lruHead >= 0 { evict(lruHead) }
        guard let block = freeList.popLast() else { return nil }
        hold(block)
        return block
    }

    /// Drops one hold on each block, last block first so a chain's tail is evicted before its head.
    mutating func free(_ blocks: [Int32]) {
        for block in blocks.reversed() {
            let index = Int(block)
            precondition(refcounts[index] > 0, "block \(block) freed more often than held")
            refcounts[index] -= 1
            if refcounts[index] == 1 { sharedCount -= 1 }
            guard refcounts[index] == 0 else { continue }
            usedCount -= 1
            if cachedTokens[index] != nil {
                appendToLRU(block)
            } else {
                freeList.append(block)
            }
        }
    }

    /// The longest chain of cached full blocks that begins `tokens`, each now held once more. It never
    /// covers the last token: the caller must compute at least one position to get logits.
    mutating func match(_ tokens: [Int32]) -> [Int32] {
        guard prefixCaching, tokens.count > 1 else { return [] }
        let limit = (tokens.count - 1) / blockSize
        var matched: [Int32] = []
        var parent: Int32 = -1
        while matched.count < limit {
            let start = matched.count * blockSize
            let key = Array(tokens[start..<(start + blockSize)])
            guard let block = parent < 0 ? rootChildren[key] : children[Int(parent)][key] else { break }
            if inLRU[Int(block)] { removeFromLRU(block) }
            hold(block)
            matched.append(block)
            parent = block
        }
        return matched
    }

    /// Registers the full blocks of a sequence whose first `computed` positions hold `tokens`' KV
    /// (`blocks` is its table). A block whose content is already cached elsewhere stays private; the
    /// chain continues under the cached one, since KV depends on the tokens, not on which block holds
    /// them. Returns how many leading blocks are now covered, for the caller to skip next time.
    @discardableResult
    mutating func register(blocks: [Int32], tokens: [Int32], computed: Int) -> Int {
        guard prefixCaching else { return 0 }
        let full = min(computed / blockSize, blocks.count)
        var parent: Int32 = -1
        for index in 0..<full {
            let start = index * blockSize
            let key = Array(tokens[start..<(start + blockSize)])
            if let existing = parent < 0 ? rootChildren[key] : children[Int(parent)][key] {
                parent = existing
                continue
            }
            let block = blocks[index]
            // Already cached at another place in the trie (its old parent was evicted and it was
            // dropped, or it is a matched block under a different chain): leave the rest private.
            guard cachedTokens[Int(block)] == nil else { return index }
            cachedTokens[Int(block)] = key
            parents[Int(block)] = parent
            if parent < 0 { rootChildren[key] = block } else { children[Int(parent)][key] = block }
            cachedCount += 1
            parent = block
        }
        return full
    }

    // MARK: - Internals

    private mutating func hold(_ block: Int32) {
        let index = Int(block)
        refcounts[index] += 1
        if refcounts[index] == 1 { usedCount += 1 }
        if refcounts[index] == 2 { sharedCount += 1 }
    }

    /// Removes `block` from the cache; its now unreachable descendants go too (those nobody holds
    /// become free). An evictable block becomes free.
    private mutating func evict(_ block: Int32) {
        evictions += 1
        uncache(block)
    }

    private mutating func uncache(_ block: Int32) {
        let index = Int(block)
        guard let key = cachedTokens[index] else { return }
        let parent = parents[index]
        if parent < 0 { rootChildren[key] = nil } else { children[Int(parent)][key] = nil }
        cachedTokens[index] = nil
        parents[index] = -1
        cachedCount -= 1
        let orphans = children[index].values
        children[index] = [:]
        for child in orphans { uncache(child) }
        if inLRU[index] {
            removeFromLRU(block)
            freeList.append(block)
        }
    }

    private mutating func appendToLRU(_ block: Int32) {
        let index = Int(block)
        inLRU[index] = true
        evictableCount += 1
        lruPrevious[index] = lruTail
        lruNext[index] = -1
        if lruTail >= 0 { lruNext[Int(lruTail)] = block } else { lruHead = block }
        lruTail = block
    }

    private mutating func removeFromLRU(_ block: Int32) {
        let index = Int(block)
        inLRU[index] = false
        evictableCount -= 1
        let previous = lruPrevious[index], next = lruNext[index]
        if previous >= 0 { lruNext[Int(previous)] = next } else { lruHead = next }
        if next >= 0 { lruPrevious[Int(next)] = previous } else { lruTail = previous }
        lruPrevious[index] = -1
        lruNext[index] = -1
    }
}
