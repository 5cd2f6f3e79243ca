import Engine
import Models
import Testing

@Suite("Radix prefix cache")
struct RadixCacheTests {
    /// Tokens of `blocks` full blocks of 4, block i filled with base + i.
    func tokens(_ blocks: [Int], extra: Int = 0) -> [Int] {
        blocks.flatMap { [Int](repeating: $0, count: 4) } + [Int](repeating: 999, count: extra)
    }

    @Test("match finds the longest cached prefix in whole blocks")
    func matchWholeBlocks() {
        let tree = RadixCache(blockSize: 4)
        #expect(tree.match(tokens([1, 2])[...]).blocks.isEmpty, "an empty tree matches nothing")
        let inserted = tree.insert(tokens([1, 2, 3], extra: 2)[...], blocks: [10, 11, 12, 13][...])
        #expect(inserted.adopted == [10, 11, 12], "only the 3 full blocks are cached; the partial 4th stays private")
        #expect(inserted.node.depth == 3)
        #expect(tree.nodeCount == 3 && tree.evictableCount == 3)
        #expect(tree.match(tokens([1, 2, 3, 4])[...]).blocks == [10, 11, 12])
        #expect(tree.match(tokens([1, 2], extra: 3)[...]).blocks == [10, 11], "a partial block never matches")
        #expect(tree.match(tokens([1, 5, 3])[...]).blocks == [10], "matching stops at the first differing block")
        #expect(tree.match((tokens([1]) + [1, 1, 1])[...]).blocks == [10])
        #expect(tree.match([1, 1, 1][...]).blocks.isEmpty, "fewer tokens than a block match nothing")
    }

    @Test("inserting a cached prefix again keeps the cached blocks")
    func duplicateInsert() {
        let tree = RadixCache(blockSize: 4)
        _ = tree.insert(tokens([1, 2])[...], blocks: [10, 11][...])
        let again = tree.insert(tokens([1, 2, 3])[...], blocks: [20, 21, 22][...])
        #expect(again.adopted == [22], "blocks 20 and 21 duplicate cached ones and stay the caller's")
        #expect(tree.match(tokens([1, 2, 3])[...]).blocks == [10, 11, 22])
        let branch = tree.insert(tokens([1, 7])[...], blocks: [30, 31][...])
        #expect(branch.adopted == [31])
        #expect(tree.nodeCount == 4)
        #expect(Set(tree.allBlocks) == [10, 11, 22, 31])
    }

    @Test("insert continues below a node the caller already holds")
    func insertBelow() {
        let tree = RadixCache(blockSize: 4)
        let first = tree.insert(tokens([1, 2])[...], blocks: [10, 11][...])
        let more = tree.insert(tokens([1, 2, 3, 4])[...], blocks: [10, 11, 12, 13][...], below: first.node)
        #expect(more.adopted == [12, 13])
        #expect(more.node.depth == 4)
        #expect(more.node.parent?.parent === first.node)
    }

    @Test("locked nodes are not evicted; unlocking makes them evictable")
    func locking() {
        let tree = RadixCache(blockSize: 4)
        let a = tree.insert(tokens([1, 2, 3])[...], blocks: [10, 11, 12][...]).node
        _ = tree.insert(tokens([5])[...], blocks: [50][...])
        tree.lock(a)
        #expect(tree.evictableCount == 1, "the locked path (3 nodes) is not evictable")
        #expect(tree.unlockedNodes(onPathTo: a) == 0)
        #expect(tree.evict(10) == [50], "only the unlocked leaf goes")
        #expect(tree.nodeCount == 3)
        tree.lock(a)
        tree.unlock(a)
        #expect(tree.evictableCount == 0, "still locked once")
        tree.unlock(a)
        #expect(tree.evictableCount == 3)
        #expect(tree.unlockedNodes(onPathTo: a) == 3)
        #expect(tree.evict(10) == [12, 11, 10], "a parent is evicted after its last child, leaves first")
        #expect(tree.nodeCount == 0 && tree.evictableCount == 0)
    }

    @Test("eviction takes least recently used leaves first")
    func lruOrder() {
        let tree = RadixCache(blockSize: 4)
        _ = tree.insert(tokens([1, 2])[...], blocks: [10, 11][...])  // oldest
        _ = tree.insert(tokens([3, 4])[...], blocks: [30, 31][...])
        _ = tree.insert(tokens([5, 6])[...], blocks: [50, 51][...])
        _ = tree.match(tokens([1, 2])[...])  // now the most recent
        #expect(tree.evict(1) == [31], "the [3,4] path is least recently used")
        #expect(tree.evict(2) == [30, 51], "then its parent (now a leaf, same age) before the younger [5,6]")
        #expect(tree.evict(10) == [50, 11, 10])
        #expect(tree.evict(1).isEmpty)
    }

    @Test("a shared parent outlives its children while any is recent")
    func sharedParent() {
        let tree = RadixCache(blockSize: 4)
        _ = tree.insert(tokens([1, 2])[...], blocks: [10, 11][...])
        _ = tree.insert(tokens([1, 3])[...], blocks: [10, 13][...])
        _ = tree.insert(tokens([9])[...], blocks: [90][...])
        #expect(tree.nodeCount == 4)
        #expect(tree.evict(2) == [11, 13], "the two leaves under [1] are older than [9]")
        #expect(tree.evict(1) == [10], "[1] became a leaf with the age of its latest use, older than [9]")
    }
}

@Suite("Reference-counted KV blocks")
struct PagedKVCacheTests {
    @Test("a block is free again only when its last holder releases it")
    func referenceCounts() throws {
        let cache = PagedKVCache(layers: 1, kvHeads: 1, headDim: 2, blockSize: 4, blockCount: 4)
        let a = KVSequence(), b = KVSequence()
        try cache.reserve(a, length: 9)
        #expect(a.blocks.count == 3 && cache.freeBlockCount == 1)
        // b shares a's first two (full) blocks, then gets its own.
        for block in a.blocks.prefix(2) { cache.retain(block) }
        b.blocks = Array(a.blocks.prefix(2))
        b.length = 8
        try cache.reserve(b, length: 9)
        #expect(cache.freeBlockCount == 0)
        #expect(cache.referenceCount(a.blocks[0]) == 2 && cache.referenceCount(b.blocks[2]) == 1)
        #expect(throws: ModelError.outOfCacheBlocks(needed: 1, free: 0)) { try cache.reserve(a, length: 13) }
        cache.release(a)
        #expect(cache.freeBlockCount == 1, "only a's private block is freed; the shared two live on in b")
        #expect(a.blocks.isEmpty && a.length == 0)
        cache.release(b)
        #expect(cache.freeBlockCount == 4)
        #expect(Set(cache.freeBlocks).count == 4)
    }
}
