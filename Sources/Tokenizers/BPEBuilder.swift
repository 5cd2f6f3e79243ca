/// Builds a byte-level BPE model from vocabulary strings and "left right" merges, as
/// tokenizer.json and GGUF's `tokenizer.ggml.*` both store them. Strings that are byte-level
/// spellings become their bytes; others are kept raw (BPE never produces them; they decode as
/// their UTF-8).
struct BPEBuilder {
    let file: String
    private(set) var vocab: ByteTokenTable
    private(set) var raw: [Int: String] = [:]
    private var rawIds: [[UInt8]: Int32] = [:]  // bytes: String equality is canonical equivalence

    init(file: String, capacity: Int) {
        self.file = file
        vocab = ByteTokenTable(capacity: capacity)
    }

    /// Adds token `token` with id `id`; `field` names where it came from in messages.
    mutating func add(_ token: String, id: Int, field: @autoclosure () -> String) throws {
        guard id >= 0, id < maxTokenId else { throw TokenizerError.malformed(file: file, reason: "\(field()) is not an id") }
        if vocab.bytes(of: id) != nil {
            throw TokenizerError.malformed(file: file, reason: "\(field()): id \(id) used twice")
        }
        if let bytes = ByteLevel.bytes(fromVocabString: token) {
            vocab.add(id: id, bytes: bytes)
        } else {
            vocab.add(id: id, bytes: Array(token.utf8), indexed: false)
            raw[id] = token
            rawIds[Array(token.utf8)] = Int32(id)
        }
    }

    func id(of token: Substring) -> Int32 {
        if let bytes = ByteLevel.bytes(fromVocabString: String(token)) {
            let id = vocab.id(for: bytes)
            if id >= 0 { return id }
        }
        return rawIds[Array(token.utf8)] ?? -1
    }

    /// The merge table; merge i has rank i. `field(i)` names merge i in messages.
    func merges(_ pairs: [(Substring, Substring)], field: (Int) -> String) throws -> PairTable {
        var merges = PairTable(capacity: pairs.count)
        for (rank, (a, b)) in pairs.enumerated() {
            var left: Int32 = -1, right: Int32 = -1, merged: Int32 = -1
            if let x = ByteLevel.bytes(fromVocabString: String(a)), let y = ByteLevel.bytes(fromVocabString: String(b)) {
                // The common case: both halves are byte-level spellings; so is their concatenation.
                left = vocab.id(for: x)
                right = vocab.id(for: y)
                merged = vocab.id(for: x + y)
            }
            if left < 0 || right < 0 || merged < 0 {
                left = id(of: a); right = id(of: b); merged = id(of: Substring(String(a) + String(b)))
            }
            guard left >= 0, right >= 0, merged >= 0 else {
                throw TokenizerError.malformed(file: file, reason: "\(field(rank)) uses a token missing from the vocab: \(a) \(b)")
            }
            merges.add(left: left, right: right, rank: UInt32(rank), merged: merged)
        }
        return merges
    }

    /// "left right" as its two halves.
    static func halves(_ merge: String) -> (Substring, Substring)? {
        let halves = merge.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        return halves.count == 2 ? (halves[0], halves[1]) : nil
    }
}
