/// The key/value cache in fixed-size blocks of `blockSize` token slots. A sequence owns a list
/// of blocks (its block table); block b, slot s of layer l holds the keys of one position for
/// all KV heads. Keys are stored after QK-norm and RoPE, values as projected, in f32.
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

    public init(layers: Int, kvHeads: Int, headDim: Int, blockSize: Int = 16, blockCount: Int) {
        self.layers = layers
        self.kvHeads = kvHeads
        self.headDim = headDim
        self.blockSize = blockSize
        self.blockCount = blockCount
        let floats = blockCount * blockSize * kvHeads * headDim
        keys = (0..<layers).map { _ in .allocate(capacity: floats) }
        values = (0..<layers).map { _ in .allocate(capacity: floats) }
        free = (0..<Int32(blockCount)).reversed()
    }

    deinit {
        keys.forEach { $0.deallocate() }
        values.forEach { $0.deallocate() }
    }

    public var freeBlockCount: Int { free.count }
    public var bytesPerToken: Int { 2 * layers * kvHeads * headDim * MemoryLayout<Float>.size }

    /// Grows `sequence`'s block table so it can hold `length` positions.
    public func reserve(_ sequence: KVSequence, length: Int) throws {
        let needed = (length + blockSize - 1) / blockSize - sequence.blocks.count
        guard needed > 0 else { return }
        guard needed <= free.count else { throw ModelError.outOfCacheBlocks(needed: needed, free: free.count) }
        sequence.blocks.append(contentsOf: free.suffix(needed).reversed())
        free.removeLast(needed)
    }

    /// Returns a sequence's blocks to the pool.
    public func release(_ sequence: KVSequence) {
        free.append(contentsOf: sequence.blocks.reversed())
        sequence.blocks.removeAll()
        sequence.length = 0
    }

    /// Float offset of (block table, position) within one layer's storage.
    func slotOffset(blocks: [Int32], position: Int) -> Int {
        (Int(blocks[position / blockSize]) * blockSize + position % blockSize) * kvHeads * headDim
    }
}

/// One sequence's view of the cache: its blocks and how many positions are filled.
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

    /// Appends `tokens` as the next positions of `sequence`.
    public mutating func append(_ sequence: KVSequence, tokens newTokens: [Int], logits: LogitSelection) {
        let s = sequences.count
        sequences.append(sequence)
        let first = tokens.count
        for (i, token) in newTokens.enumerated() {
            tokens.append(token)
            positions.append(sequence.length + i)
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
