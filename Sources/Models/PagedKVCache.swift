/// The key/value cache in fixed-size blocks of `blockSize` token slots. A sequence owns a list
/// of blocks (its block table); block b, slot s of layer l holds the keys of one position for
/// all KV heads. Keys are stored after QK-norm and RoPE, values as projected, in f32.
///
/// Blocks are reference-counted so that several sequences (and a prefix cache) can share the
/// full blocks of a common prefix. A shared block is never written again: a sequence writes
/// only at positions past what it holds, and only full blocks are shared, so no copy-on-write
/// is needed. A block returns to the free list when its last reference is released.
public final class PagedKVCache: @unchecked Sendable {
    public let layers: Int
    public let kvHeads: Int
    public let headDim: Int
    public let blockSize: Int
    public let blockCount: Int
    /// Per layer: [blockCount, blockSize, kvHeads, headDim].
    let keys: [UnsafeMutablePointer<Float>]
    let values: [UnsafeMutablePointer<Float>]
    private var free: [Int32]
    private var references: [Int32]

    public init(layers: Int, kvHeads: Int, headDim: Int, blockSize: Int = 16, blockCount: Int) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.blockSize = blockSize
        self.blockCount = blockCount
        // Allocated, not initialised: pages are committed as blocks are first written.
        let floats = blockCount * blockSize * kvHeads * headDim
        keys = (0..<layers).map { _ in .allocate(capacity: floats) }
        values = (0..<layers).map { _ in .allocate(capacity: floats) }
        free = (0..<Int32(blockCount)).reversed()
        references = [Int32](repeating: 0, count: blockCount)
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    public var freeBlockCount: Int { free.count }
    /// The free list, for consistency checks.
    public var freeBlocks: [Int32] { free }
    /// Blocks needed to hold `length` positions.
    public func blocksNeeded(forLength length: Int) -> Int { (length + blockSize - 1) / blockSize }

    /// How many holders (sequences, prefix cache) reference `block`; 0 means it is free.
    public func referenceCount(_ block: Int32) -> Int { Int(references[Int(block)]) }

    /// Takes `count` free blocks, each with one reference.
    public func allocate(_ count: Int) throws -> [Int32] {
        guard count > 0 else { return [] }
        guard count <= free.count else { throw ModelError.outOfCacheBlocks(needed: count, free: free.count) }
        let blocks = Array(free.suffix(count).reversed())
        free.removeLast(count)
        for b in blocks { references[Int(b)] = 1 }
        return blocks
    }

    /// Adds a reference to an allocated block (another holder shares it).
    public func retain(_ block: Int32) {
        precondition(references[Int(block)] > 0, "retaining free block \(block)")
        references[Int(block)] += 1
    }

    /// Drops one reference; the block is free again when none are left.
    public func release(block: Int32) {
        precondition(references[Int(block)] > 0, "releasing free block \(block)")
        references[Int(block)] -= 1
        if references[Int(block)] == 0 { free.append(block) }
    }

    /// Grows `sequence`'s block table so it can hold `length` positions.
    public func reserve(_ sequence: KVSequence, length: Int) throws {
        let needed = blocksNeeded(forLength: length) - sequence.blocks.count
        guard needed > 0 else { return }
        sequence.blocks.append(contentsOf: try allocate(needed))
    }

    /// Drops a sequence's references to its blocks; blocks no one else holds are free again.
    public func release(_ sequence: KVSequence) {
        for block in sequence.blocks.reversed() { release(block: block) }
        sequence.blocks.removeAll()
        sequence.length = 0
    }

    /// Float offset of (block table, position) within one layer's storage.
    func slotOffset(blocks: [Int32], position: Int) -> Int {
        (Int(blocks[position / blockSize]) * blockSize + position % blockSize) * kvHeads * headDim
    }
}

/// One sequence's view of the cache: its blocks and how many positions are filled. Leading
/// blocks may be shared with other sequences (a cached prefix); `length` then starts at the
/// shared prefix's length.
public final class KVSequence: @unchecked Sendable {
    public var blocks: [Int32] = []
    public var length = 0
    public init() {}
}

/// A batch of tokens from one or more sequences, processed in one forward pass. Tokens of a
/// sequence are consecutive positions continuing from what its cache already holds, so
/// prefill, decode, batched decode and speculative verification are all the same call.
public struct ForwardBatch {
    public var tokens: [Int] = []
    public var positions: [Int] = []
    /// Per token: index into `sequences`.
    public var sequenceIndex: [Int] = []
    public var sequences: [KVSequence] = []
    /// Token rows whose logits are wanted, in output order.
    public var logitRows: [Int] = []

    public init() {}

    /// Appends `tokens` as the next positions of `sequence`, or at positions from `start` on
    /// (the MTP layer's pass over positions the main model has just computed).
    public mutating func append(_ sequence: KVSequence, tokens newTokens: [Int], startingAt start: Int? = nil,
                                logits: LogitSelection) {
        let s = sequences.count
        sequences.append(sequence)
        let first = tokens.count, start = start ?? sequence.length
        for (i, token) in newTokens.enumerated() {
            tokens.append(token)
            positions.append(start + i)
            sequenceIndex.append(s)
        }
        switch logits {
        case .none: break
        case .last: if !newTokens.isEmpty { logitRows.append(tokens.count - 1) }
        case .all: logitRows.append(contentsOf: first..<tokens.count)
        }
    }

    public enum LogitSelection { case none, last, all }
}
