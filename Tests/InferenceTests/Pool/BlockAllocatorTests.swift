import Testing
@testable import Inference

@Suite("Pool: KV block allocator and prefix cache")
struct BlockAllocatorTests {
    @Test("allocates every block once, refuses when all are held, frees by refcount")
    func allocateAndFree() throws {
        var allocator = BlockAllocator(blockSize: 4, blockCount: 3, prefixCaching: true)
        let blocks = (0..<3).compactMap { _ in allocator.allocate() }
        #expect(Set(blocks).count == 3)
        #expect(allocator.allocate() == nil)
        #expect(allocator.usedCount == 3 && allocator.availableCount == 0)
        allocator.free([blocks[1]])
        #expect(allocator.usedCount == 2 && allocator.freeCount == 1)
        #expect(allocator.allocate() == blocks[1])
    }

    @Test("a match holds the cached chain, shares it, and never covers the last token")
    func matchSharesAndLeavesLastToken() throws {
        var allocator = BlockAllocator(blockSize: 4, blockCount: 8, prefixCaching: true)
        let tokens: [Int32] = Array(1...12)
        let table = (0..<3).compactMap { _ in allocator.allocate() }
        #expect(allocator.register(blocks: table, tokens: tokens, computed: 12) == 3)
        #expect(allocator.cachedCount == 3)
        // The whole prompt is cached, but the last block is left to compute (logits are needed).
        let matched = allocator.match(tokens)
        #expect(matched == Array(table.prefix(2)))
        #expect(allocator.sharedCount == 2)
        #expect(allocator.refcount(of: table[0]) == 2)
        // One more token: all three blocks match.
        #expect(allocator.match(tokens + [99]) == table)
        // A different token inside block 2 stops the match after block 1.
        var other = tokens + [5]
        other[5] = 42
        #expect(allocator.match(other) == [table[0]])
    }

    @Test("identity is the chain: the same tokens after a different prefix do not match")
    func chainIdentity() throws {
        var allocator = BlockAllocator(blockSize: 2, blockCount: 8, prefixCaching: true)
        let first = (0..<2).compactMap { _ in allocator.allocate() }
        allocator.register(blocks: first, tokens: [1, 2, 3, 4], computed: 4)
        #expect(allocator.match([9, 9, 3, 4, 5]) == [])
        #expect(allocator.match([1, 2, 3, 4, 5]) == first)
        #expect(allocator.match([1, 2, 3, 5, 5]) == [first[0]])
    }

    @Test("freed cached blocks are evicted least recently used first, descendants with them")
    func lruEviction() throws {
        var allocator = BlockAllocator(blockSize: 2, blockCount: 4, prefixCaching: true)
        // Two chains of two blocks each: A (older) and B (newer), both freed and cached.
        let a = (0..<2).compactMap { _ in allocator.allocate() }
        allocator.register(blocks: a, tokens: [1, 1, 2, 2], computed: 4)
        allocator.free(a)
        let b = (0..<2).compactMap { _ in allocator.allocate() }
        allocator.register(blocks: b, tokens: [3, 3, 4, 4], computed: 4)
        allocator.free(b)
        #expect(allocator.freeCount == 0 && allocator.evictableCount == 4 && allocator.cachedCount == 4)
        // Touch A again: B becomes the least recently used chain.
        allocator.free(allocator.match([1, 1, 2, 2, 0]))
        // The first allocation evicts B's tail block (freed last-first, so the tail is older).
        let taken = allocator.allocate()
        #expect(taken == b[1])
        #expect(allocator.match([3, 3, 4, 4, 0]) == [b[0]])
        allocator.free([b[0]])
        #expect(allocator.match([1, 1, 2, 2, 0]) == a)
        allocator.free(a)
        // Evicting B's head next; then A's tail, then A's head. Evicting a parent drops its children.
        _ = allocator.allocate()
        #expect(allocator.match([3, 3, 4, 4, 0]) == [])
        #expect(allocator.evictions == 2)
    }

    @Test("evicting a parent uncaches a held child registered below it, which is freed plainly")
    func orphanedChildren() throws {
        var allocator = BlockAllocator(blockSize: 2, blockCount: 3, prefixCaching: true)
        let allocated = allocator.allocate()
        let parent = try #require(allocated)
        allocator.register(blocks: [parent], tokens: [1, 2], computed: 2)
        allocator.free([parent])
        // A sequence with the same first block computed privately continues the chain below it.
        let own = (0..<2).compactMap { _ in allocator.allocate() }
        #expect(allocator.register(blocks: own, tokens: [1, 2, 3, 4], computed: 4) == 2)
        #expect(!allocator.isCached(own[0]) && allocator.isCached(own[1]))
        // The arena is full: the next allocation evicts the cached parent, and its child goes too.
        let evicting = allocator.allocate()
        #expect(evicting == parent)
        #expect(!allocator.isCached(own[1]))
        allocator.free([own[1]])
        #expect(allocator.cachedCount == 0 && allocator.evictableCount == 0)
    }

    @Test("with prefix caching off nothing is matched or cached")
    func cachingOff() throws {
        var allocator = BlockAllocator(blockSize: 2, blockCount: 4, prefixCaching: false)
        let table = (0..<2).compactMap { _ in allocator.allocate() }
        #expect(allocator.register(blocks: table, tokens: [1, 2, 3, 4], computed: 4) == 0)
        allocator.free(table)
        #expect(allocator.match([1, 2, 3, 4, 5]) == [] && allocator.freeCount == 4)
    }
}
