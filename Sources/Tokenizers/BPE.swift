import Foundation

/// Byte-level BPE over one pre-tokenized piece.
///
/// Merge order is the references': repeatedly merge the adjacent pair with the lowest rank,
/// leftmost on ties, until no adjacent pair merges. tiktoken (`_byte_pair_merge`) rescans for the
/// minimum each step; HF `tokenizers` (`Word::merge_all`) pops a heap keyed by (rank, position).
/// Both pick the global (rank, leftmost) minimum, so one engine serves both: a rescanning loop
/// for short pieces (cheaper) and a heap for long ones (tiktoken's rescan is quadratic, which hurts
/// on long CJK runs that the pre-tokenizer keeps as one piece).
///
/// A tiktoken rank file becomes a pair table by splitting every token at every point where both
/// halves are tokens: tiktoken merges two parts exactly when their concatenation is a token, with
/// that token's rank as priority.
struct BPEModel: Sendable {
    let vocab: ByteTokenTable
    let merges: PairTable
    /// Token id of each single byte; -1 when the vocabulary lacks it.
    let byteIds: [Int32]
    /// `merges.lookup` for every pair of single-byte tokens (b1 << 8 | b2), or empty when some
    /// byte has no token. Every piece starts as byte tokens, so its first n-1 lookups hit this
    /// 512 KB table instead of missing cache in the large pair table.
    let bytePairs: [UInt64]
    /// Emit a piece that is itself a token without merging (tiktoken always; HF `ignore_merges`).
    let wholePieceFirst: Bool
    /// HF `unk_token` for bytes without a token (-1: such bytes are dropped, as HF does).
    let unkId: Int32
    let fuseUnk: Bool

    /// Pieces longer than this go to the heap-based merge.
    static let heapThreshold = 48
    /// Pieces up to this length are cached per encode call.
    static let cacheMaxLength = 128

    init(vocab: ByteTokenTable, merges: PairTable, wholePieceFirst: Bool, unkId: Int32 = -1, fuseUnk: Bool = false) {
        self.vocab = vocab
        self.merges = merges
        self.wholePieceFirst = wholePieceFirst
        self.unkId = unkId
        self.fuseUnk = fuseUnk
        var ids = [Int32](repeating: -1, count: 256)
        for b in 0..<256 { ids[b] = vocab.id(for: [UInt8(b)]) }
        self.byteIds = ids
        var pairs: [UInt64] = []
        if !ids.contains(-1) {
            pairs = [UInt64](repeating: UInt64.max, count: 65536)
            for a in 0..<256 {
                for b in 0..<256 { pairs[a << 8 | b] = merges.lookup(ids[a], ids[b]) }
            }
        }
        self.bytePairs = pairs
    }

    /// Appends the ids of one piece to `out`.
    @inline(__always)
    func encode(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [Int], cache: inout PieceCache) {
        let n = piece.count
        if n == 0 { return }
        if n == 1 {
            let id = byteIds[Int(piece[0])]
            if id >= 0 { out.append(Int(id)) } else if unkId >= 0 { out.append(Int(unkId)) }
            return
        }
        if wholePieceFirst {
            let id = vocab.id(for: piece)
            if id >= 0 { out.append(Int(id)); return }
        }
        if n <= BPEModel.cacheMaxLength, cache.lookup(piece, into: &out) { return }
        let before = out.count
        if n <= BPEModel.heapThreshold {
            mergeSmall(piece, into: &out)
        } else {
            mergeHeap(piece, into: &out)
        }
        if n <= BPEModel.cacheMaxLength { cache.insert(piece, ids: out[before...]) }
    }

    /// Initial symbols: one per byte, with HF's unknown-byte handling. Returns the count.
    @inline(__always)
    private func initialSymbols(_ piece: UnsafeBufferPointer<UInt8>, _ sym: UnsafeMutablePointer<Int32>) -> Int {
        var m = 0
        var lastWasUnk = false
        for b in piece {
            let id = byteIds[Int(b)]
            if id >= 0 {
                sym[m] = id; m += 1; lastWasUnk = false
            } else if unkId >= 0 {
                if !(fuseUnk && lastWasUnk) { sym[m] = unkId; m += 1 }
                lastWasUnk = true
            }
        }
        return m
    }

    private func mergeSmall(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        let n = piece.count
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: n) { symBuf in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: n) { rankBuf in
                let sym = symBuf.baseAddress!, rank = rankBuf.baseAddress!
                var m = initialSymbols(piece, sym)
                if m == 0 { return }
                if bytePairs.isEmpty {
                    for i in 0..<(m - 1) { rank[i] = merges.lookup(sym[i], sym[i + 1]) }
                } else {
                    for i in 0..<(m - 1) { rank[i] = bytePairs[Int(piece[i]) << 8 | Int(piece[i + 1])] }
                }
                while m > 1 {
                    var best = UInt64.max
                    var at = -1
                    for i in 0..<(m - 1) where rank[i] < best {
                        best = rank[i]; at = i
                    }
                    if at < 0 { break }
                    sym[at] = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
                    // Drop symbol at+1 and its pair rank.
                    var j = at + 1
                    while j < m - 1 { sym[j] = sym[j + 1]; rank[j] = rank[j + 1]; j += 1 }
                    m -= 1
                    rank[at] = at + 1 < m ? merges.lookup(sym[at], sym[at + 1]) : UInt64.max
                    if at > 0 { rank[at - 1] = merges.lookup(sym[at - 1], sym[at]) }
                }
                for i in 0..<m { out.append(Int(sym[i])) }
            }
        }
    }

    private func mergeHeap(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [Int]) {
        let n = piece.count
        // One scratch block: symbols, prev, next, merged id of the pair starting at each symbol
        // (n each); pair ranks (n) and the heap (at most 3n keys).
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 4 * n) { scratch in
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 4 * n) { wide in
                let sym = scratch.baseAddress!, prev = sym + n, next = sym + 2 * n, merged = sym + 3 * n
                let pairRank = wide.baseAddress!   // rank of the pair starting at i, or UInt64.max
                let m = initialSymbols(piece, sym)
                if m == 0 { return }
                // Heap key: rank << 32 | position of the left symbol. Positions keep their left
                // to right order, so the smallest key is the leftmost lowest-rank pair. A key is
                // stale when the pair at its position has changed since (its rank differs).
                var heap = MinHeap(storage: pairRank + n)
                @inline(__always) func setPair(_ i: Int, _ j: Int, _ known: UInt64? = nil) {
                    let v = known ?? merges.lookup(sym[i], sym[j])
                    if v == UInt64.max { pairRank[i] = UInt64.max; return }
                    pairRank[i] = v >> 32
                    merged[i] = Int32(truncatingIfNeeded: v & 0xFFFF_FFFF)
                    heap.push((v >> 32) << 32 | UInt64(i))
                }
                for i in 0..<m {
                    prev[i] = Int32(i - 1)
                    next[i] = i + 1 < m ? Int32(i + 1) : -1
                    pairRank[i] = UInt64.max
                }
                if bytePairs.isEmpty {
                    for i in 0..<(m - 1) { setPair(i, i + 1) }
                } else {
                    for i in 0..<(m - 1) { setPair(i, i + 1, bytePairs[Int(piece[i]) << 8 | Int(piece[i + 1])]) }
                }
                while let key = heap.pop() {
                    let pos = Int(key & 0xFFFF_FFFF)
                    guard pairRank[pos] == key >> 32 else { continue }  // stale
                    let nx = Int(next[pos])
                    sym[pos] = merged[pos]
                    let after = Int(next[nx])
                    next[pos] = Int32(after)
                    if after >= 0 { prev[after] = Int32(pos) }
                    pairRank[nx] = UInt64.max
                    pairRank[pos] = UInt64.max
                    let pv = Int(prev[pos])
                    if pv >= 0 { setPair(pv, pos) }
                    if after >= 0 { setPair(pos, after) }
                }
                var i = 0
                while i >= 0 {
                    out.append(Int(sym[i]))
                    i = Int(next[i])
                }
            }
        }
    }
}

/// Binary min-heap of UInt64 keys over caller-provided storage (each merge pushes at most two
/// keys and removes one symbol, so n symbols need at most 3n slots).
struct MinHeap {
    private let a: UnsafeMutablePointer<UInt64>
    private var n = 0
    init(storage: UnsafeMutablePointer<UInt64>) { a = storage }

    mutating func push(_ x: UInt64) {
        var i = n
        n += 1
        while i > 0 {
            let p = (i - 1) / 2
            if a[p] <= x { break }
            a[i] = a[p]; i = p
        }
        a[i] = x
    }

    mutating func pop() -> UInt64? {
        if n == 0 { return nil }
        n -= 1
        let top = a[0]
        if n == 0 { return top }
        let last = a[n]
        var i = 0
        while true {
            var c = 2 * i + 1
            if c >= n { break }
            if c + 1 < n && a[c + 1] < a[c] { c += 1 }
            if a[c] >= last { break }
            a[i] = a[c]; i = c
        }
        a[i] = last
        return top
    }
}

/// Per-call memo of piece → ids for pieces that needed merging. It lives for one `encode` call,
/// so it needs no lock; large inputs repeat their non-vocabulary pieces often enough to pay off.
struct PieceCache {
    private var slots: [Int32] = []          // entry index + 1; 0 = empty
    private var hashes: [UInt64] = []
    private var keyRanges: [(Int32, Int32)] = []
    private var valueRanges: [(Int32, Int32)] = []
    private var keys: [UInt8] = []
    private var values: [Int32] = []
    private static let maxEntries = 1 << 15

    init() {}

    func lookup(_ piece: UnsafeBufferPointer<UInt8>, into out: inout [Int]) -> Bool {
        if slots.isEmpty { return false }
        let h = hashBytes(piece.baseAddress!, piece.count)
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: h) & mask
        while true {
            let e = Int(slots[s]) - 1
            if e < 0 { return false }
            if hashes[e] == h {
                let (ks, kl) = keyRanges[e]
                if Int(kl) == piece.count,
                   keys.withUnsafeBufferPointer({ memcmp($0.baseAddress! + Int(ks), piece.baseAddress!, piece.count) == 0 }) {
                    let (vs, vl) = valueRanges[e]
                    for i in Int(vs)..<Int(vs + vl) { out.append(Int(values[i])) }
                    return true
                }
            }
            s = (s + 1) & mask
        }
    }

    mutating func insert(_ piece: UnsafeBufferPointer<UInt8>, ids: ArraySlice<Int>) {
        if hashes.count >= PieceCache.maxEntries { return }
        if slots.isEmpty { slots = [Int32](repeating: 0, count: 1024) }
        if (hashes.count + 1) * 2 > slots.count { rehash(size: slots.count * 2) }
        let h = hashBytes(piece.baseAddress!, piece.count)
        keyRanges.append((Int32(keys.count), Int32(piece.count)))
        keys.append(contentsOf: piece)
        valueRanges.append((Int32(values.count), Int32(ids.count)))
        for id in ids { values.append(Int32(id)) }
        hashes.append(h)
        place(entry: hashes.count - 1, hash: h)
    }

    private mutating func place(entry: Int, hash: UInt64) {
        let mask = slots.count - 1
        var s = Int(truncatingIfNeeded: hash) & mask
        while slots[s] != 0 { s = (s + 1) & mask }
        slots[s] = Int32(entry + 1)
    }

    private mutating func rehash(size: Int) {
        slots = [Int32](repeating: 0, count: size)
        for (e, h) in hashes.enumerated() { place(entry: e, hash: h) }
    }
}
