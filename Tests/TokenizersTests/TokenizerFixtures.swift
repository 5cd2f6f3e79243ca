import Foundation
@testable import Tokenizers

/// Locations of the checked-in fixtures and the shared reference files, found relative to this
/// source file so the suite runs from any clone (CI puts shared/ beside the repository).
enum Paths {
    /// The repository root: Tests/TokenizersTests/<this file> → up three levels.
    static let repo: URL = URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repo.appendingPathComponent("Tests/Fixtures/tokenizer")
    static let shared = repo.deletingLastPathComponent().appendingPathComponent("shared")
    /// tokenizer.json + tokenizer_config.json of GLM-4.5.
    static let glm45JSONDir = shared.appendingPathComponent("tokenizer/glm45")
    static let glm4TiktokenModel = shared.appendingPathComponent("tokenizer/glm4-tokenizer.model")
    static let glm45Config = shared.appendingPathComponent("glm45/tokenizer_config.json")
}

/// One corpus case of glm45_cases.json / small tokenizer cases.json.
struct EncodeCase: Decodable {
    let name: String
    let text: String
    let tiktoken: [Int]?
    let tokenizers: [Int]
    let tiktoken_no_special: [Int]?
    let tokenizers_no_special: [Int]
    let decode: String
    let decode_skip_special: String
}

struct BigCase: Decodable {
    let utf8_bytes: Int
    let count: Int
    let fnv1a64: String
    let head: [Int]
    let tail: [Int]
}

struct EncodeFixture: Decodable {
    let generator: String
    let cases: [EncodeCase]
    let big: BigCase?
}

struct DecodeCase: Decodable {
    let ids: [Int]
    let tokenizers: String
    let tokenizers_skip_special: String
    let tiktoken: String
    let tiktoken_skip_special: String
}

struct DecodeFixture: Decodable {
    let cases: [DecodeCase]
}

enum Fixtures {
    static func load<T: Decodable>(_ type: T.Type, _ relativePath: String) throws -> T {
        let data = try Data(contentsOf: Paths.fixtures.appendingPathComponent(relativePath))
        return try JSONDecoder().decode(T.self, from: data)
    }

    /// Loaded once per test process: GLM's files take a moment to load.
    static let glmJSON: Tokenizer = try! Tokenizer.load(modelDirectory: Paths.glm45JSONDir)
    static let glmTiktoken: Tokenizer = try! Tokenizer.load(
        tiktokenModel: Paths.glm4TiktokenModel, config: Paths.glm45Config)
    static let glmCases: EncodeFixture = try! load(EncodeFixture.self, "glm45_cases.json")

    /// The ~1 MB text of make_fixtures.py `big_text`, rebuilt from the corpus.
    static func bigText(_ cases: [EncodeCase]) -> String {
        let texts = cases.map(\.text).filter { !$0.isEmpty && $0.unicodeScalars.count < 2000 }
        var out = ""
        var size = 0
        var i = 0
        while size < 1_000_000 {
            let s = "\(i): \(texts[i % texts.count])\n"
            out += s
            size += s.utf8.count
            i += 1
        }
        return out
    }

    /// FNV-1a 64 over the ids as little-endian UInt32, as in make_fixtures.py.
    static func fnv1a64(_ ids: [Int]) -> String {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for id in ids {
            var v = UInt32(truncatingIfNeeded: id)
            for _ in 0..<4 {
                h ^= UInt64(v & 0xFF)
                h = h &* 0x100_0000_01B3
                v >>= 8
            }
        }
        let hex = String(h, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Exact string comparison. Swift's `==` on `String` is canonical equivalence ("é" == "e\u{301}"),
/// which would hide a tokenizer that changes the text's code points.
func same(_ a: String, _ b: String) -> Bool { a.utf8.elementsEqual(b.utf8) }

/// A small deterministic generator for fuzzing (SplitMix64), so failures reproduce.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
