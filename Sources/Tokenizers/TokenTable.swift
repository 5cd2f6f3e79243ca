import Foundation

/// Flat, allocation-free lookup tables for the BPE hot path. Swift's `Dictionary<[UInt8], Int>`
/// would hash through generic code and allocate a key per lookup; these tables hash raw bytes in
/// place and keep everything in a few contiguous arrays.

/// A fast 64-bit hash over bytes (8 bytes per step, multiply-xorshift mixing). Not
/// cryptographic: collisions are resolved by comparing the bytes.
@inline(__always)
func hashBytes(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 &* UInt64(count &+ 1)
    var i = 0
    while i &+ 8 <= count {
        let w = p.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ w) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 31
        i &+= 8
    }
    if i < count {
        var w: UInt64 = 0
        var shift: UInt64 = 0
        while i < count {
            w |= UInt64(p.load(fromByteOffset: i, as: UInt8.self)) << shift
            shift &+= 8
            i &+= 1
        }
        h = (h ^ w) &* 0x94D0_49BB_1331_11EB
    }
    h ^= h >> 29
    h = h &* 0xBF58_476D_1CE4_E5B9
    return h ^ (h >> 32)
}

/// id ↔ bytes for a vocabulary. Every id with bytes can be decoded; only ids marked `indexed`
/// can be found from bytes (HF vocabulary strings that are not pure byte-level spellings decode
/// but can never be produced by byte-level BPE).
struct ByteTokenTable: Sendable {
    private var blob: [UInt8] = []
    /// Per id: start << 32 | length in `blob`; `UInt64.max` = no such id. One array, so a
    /// lookup costs one cache miss for the span.
    private var spans: [UInt64] = []
    /// Open addressing: high 32 bits = hash tag, low 32 bits = id + 1 (0 = empty slot).
    private var slots: [UInt64] = []
    private var mask = 0
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    /// Upper bound of ids (max id + 1).
    var idLimit: Int { spans.count }

    /// Adds `bytes` under `id`. Returns false when the bytes are already indexed (first wins).
    @discardableResult
    mutating func add(id: Int, bytes: [UInt8], indexed: Bool = true) -> Bool {
        if id >= spans.count {
            spans.append(contentsOf: repeatElement(UInt64.max, count: id + 1 - spans.count))
        }
        spans[id] = UInt64(blob.count) << 32 | UInt64(bytes.count)
        blob.append(contentsOf: bytes)
        count += 1
        guard indexed else { return true }
        if self.id(for: bytes) >= 0 { return false }
        if count * 2 > slots.count { grow() }
        insert(id: id, bytes: bytes)
        return true
    }

    private mutating func insert(id: Int, bytes: [UInt8]) {
        let h = bytes.withUnsafeBytes { hashBytes($0.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!, $0.count) }
        var slot = Int(truncatingIfNeeded: h) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = (h & 0xFFFF_FFFF_0000_0000) | UInt64(id + 1)
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: 0, count: old.count * 2)
        mask = slots.count - 1
        for s in old where s != 0 {
            let id = Int(s & 0xFFFF_FFFF) - 1
            insert(id: id, bytes: Array(bytes(of: id)!))
        }
    }

    /// The id whose bytes are exactly `bytes`, or -1.
    func id(for bytes: [UInt8]) -> Int32 {
        bytes.withUnsafeBufferPointer { id(for: $0) }
    }

    @inline(__always)
    func id(for key: UnsafeBufferPointer<UInt8>) -> Int32 {
        guard let base = key.baseAddress else { return -1 }
        let n = key.count
        let h = hashBytes(base, n)
        let tag = h & 0xFFFF_FFFF_0000_0000
        return slots.withUnsafeBufferPointer { sl in
            blob.withUnsafeBufferPointer { bl in
                spans.withUnsafeBufferPointer { sp in
                    var slot = Int(truncatingIfNeeded: h) & mask
                    while true {
                        let s = sl[slot]
                        if s == 0 { return -1 }
                        if s & 0xFFFF_FFFF_0000_0000 == tag {
                            let id = Int(s & 0xFFFF_FFFF) - 1
                            let span = sp[id]
                            if Int(span & 0xFFFF_FFFF) == n,
                               memcmp(bl.baseAddress! + Int(span >> 32), base, n) == 0 {
                                return Int32(id)
                            }
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
    }

    /// The bytes of `id`, or nil for an unknown id.
    func bytes(of id: Int) -> ArraySlice<UInt8>? {
        guard id >= 0, id < spans.count, spans[id] != UInt64.max else { return nil }
        let s = Int(spans[id] >> 32)
        return blob[s..<(s + Int(spans[id] & 0xFFFF_FFFF))]
    }

    /// Appends the bytes of `id` to `out`; false for an unknown id.
    @inline(__always)
    func appendBytes(of id: Int, to out: inout [UInt8]) -> Bool {
        guard id >= 0, id < spans.count else { return false }
        let span = spans[id]
        guard span != UInt64.max else { return false }
        let n = Int(span & 0xFFFF_FFFF)
        if n == 0 { return true }
        // Through a pointer: appending an ArraySlice costs a retain/release pair per token.
        blob.withUnsafeBufferPointer { b in
            out.append(contentsOf: UnsafeBufferPointer(start: b.baseAddress! + Int(span >> 32), count: n))
        }
        return true
    }
}

/// (left id, right id) → (merge rank, merged id), open addressing over UInt64 keys. Keys and
/// values are interleaved so a lookup touches one cache line (the table is tens of MB for GLM).
struct PairTable: Sendable {
    private var slots: [UInt64]   // [key, value, key, value, ...]
    private var mask: Int
    private(set) var count = 0
    private static let empty = UInt64.max

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = [UInt64](repeating: PairTable.empty, count: 2 * size)
        mask = size - 1
    }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// Adds a merge; an existing pair keeps its lower rank (HF: later duplicates never win).
    mutating func add(left: Int32, right: Int32, rank: UInt32, merged: Int32) {
        if (count + 1) * 2 > slots.count / 2 { grow() }
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        let value = UInt64(rank) << 32 | UInt64(UInt32(bitPattern: merged))
        var s = PairTable.slot(key, mask)
        while slots[2 * s] != PairTable.empty {
            if slots[2 * s] == key {
                if value < slots[2 * s + 1] { slots[2 * s + 1] = value }
                return
            }
            s = (s + 1) & mask
        }
        slots[2 * s] = key
        slots[2 * s + 1] = value
        count += 1
    }

    private mutating func grow() {
        let old = slots
        slots = [UInt64](repeating: PairTable.empty, count: old.count * 2)
        mask = slots.count / 2 - 1
        for i in stride(from: 0, to: old.count, by: 2) where old[i] != PairTable.empty {
            var s = PairTable.slot(old[i], mask)
            while slots[2 * s] != PairTable.empty { s = (s + 1) & mask }
            slots[2 * s] = old[i]
            slots[2 * s + 1] = old[i + 1]
        }
    }

    /// `rank << 32 | merged id`, or `UInt64.max` when the pair does not merge.
    @inline(__always)
    func lookup(_ left: Int32, _ right: Int32) -> UInt64 {
        let key = UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
        return slots.withUnsafeBufferPointer { t in
            var s = PairTable.slot(key, mask)
            while true {
                let k = t[2 * s]
                if k == key { return t[2 * s + 1] }
                if k == PairTable.empty { return UInt64.max }
                s = (s + 1) & mask
            }
        }
    }
}
