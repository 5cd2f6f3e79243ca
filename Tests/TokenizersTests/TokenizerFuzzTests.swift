import Foundation
import Testing
@testable import Tokenizers

/// Bounded-time fuzzing: random and truncated input must not crash or hang, and must keep the
/// invariants (round trip, both GLM formats agree, streaming equals decode).
@Suite("Tokenizer fuzzing")
struct TokenizerFuzzTests {
    static let budget: TimeInterval = 1.5

    /// Loads the shared tokenizers before a test starts its clock.
    static func deadline() -> Date {
        _ = Fixtures.glmJSON
        _ = Fixtures.glmTiktoken
        _ = Fixtures.glmCases
        return Date().addingTimeInterval(budget)
    }

    static func randomScalar(_ rng: inout SplitMix64) -> Unicode.Scalar {
        let ranges: [ClosedRange<UInt32>] = [
            0...0x7F, 0x20...0x7E, 0x80...0x24F, 0x370...0x10FF, 0x3000...0x9FFF,
            0xAC00...0xD7A3, 0xE000...0xFFFF, 0x1F300...0x1FAFF, 0x10000...0x10FFFF,
        ]
        while true {
            let r = ranges[Int.random(in: 0..<ranges.count, using: &rng)]
            if let s = Unicode.Scalar(UInt32.random(in: r, using: &rng)) { return s }
        }
    }

    static func randomString(_ rng: inout SplitMix64, maxLength: Int) -> String {
        let pieces = ["<|user|>", "/nothink", "<think>", "'s", "'ſ", "\r\n", "  ", "\t", "123456", "\u{200D}", "[gMASK]"]
        var s = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...maxLength, using: &rng) {
            if Int.random(in: 0..<8, using: &rng) == 0 {
                s.append(contentsOf: pieces[Int.random(in: 0..<pieces.count, using: &rng)].unicodeScalars)
            } else {
                s.append(randomScalar(&rng))
            }
        }
        return String(s)
    }

    @Test("random strings: round trip, and both GLM formats agree")
    func randomStrings() {
        var rng = SplitMix64(seed: 1)
        let deadline = Self.deadline()
        var n = 0
        while Date() < deadline {
            let text = Self.randomString(&rng, maxLength: 200)
            let a = Fixtures.glmJSON.encode(text)
            let b = Fixtures.glmTiktoken.encode(text)
            #expect(a == b, "\(text.debugDescription)")
            #expect(same(Fixtures.glmJSON.decode(a), text), "\(text.debugDescription)")
            #expect(Fixtures.glmTiktoken.encode(text, allowSpecial: false) == Fixtures.glmJSON.encode(text, allowSpecial: false))
            n += 1
        }
        #expect(n > 10)
    }

    @Test("random bytes (decoded with replacement) and truncated corpus texts")
    func randomBytesAndTruncation() throws {
        var rng = SplitMix64(seed: 2)
        let small = try Tokenizer.load(modelDirectory: Paths.fixtures.appendingPathComponent("small_bpe"))
        let misc = try Tokenizer.load(modelDirectory: Paths.fixtures.appendingPathComponent("split_misc"))
        let corpus = Fixtures.glmCases.cases.map(\.text).filter { !$0.isEmpty }
        let deadline = Self.deadline()
        while Date() < deadline {
            let bytes = (0..<Int.random(in: 0...300, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let fromBytes = String(decoding: bytes, as: UTF8.self)
            let base = corpus[Int.random(in: 0..<corpus.count, using: &rng)]
            let scalars = Array(base.unicodeScalars)
            let cut = Int.random(in: 0...scalars.count, using: &rng)
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[..<cut])
            let truncated = String(view)
            for text in [fromBytes, truncated] {
                let ids = Fixtures.glmJSON.encode(text)
                #expect(same(Fixtures.glmJSON.decode(ids), text))
                #expect(ids == Fixtures.glmTiktoken.encode(text))
                _ = small.decode(small.encode(text))
                _ = misc.decode(misc.encode(text, allowSpecial: false))
            }
        }
    }

    @Test("random id streams, including out-of-range ids, decode and stream consistently")
    func randomIds() {
        var rng = SplitMix64(seed: 3)
        let deadline = Self.deadline()
        while Date() < deadline {
            let ids = (0..<Int.random(in: 0...64, using: &rng)).map { _ -> Int in
                switch Int.random(in: 0..<6, using: &rng) {
                case 0: return Int.random(in: -1000...(-1), using: &rng)
                case 1: return Int.random(in: 151329...160000, using: &rng)
                case 2: return Int.random(in: Int.max - 10...Int.max, using: &rng)
                default: return Int.random(in: 0..<151329, using: &rng)
                }
            }
            for tok in [Fixtures.glmJSON, Fixtures.glmTiktoken] {
                for skip in [false, true] {
                    var stream = tok.makeStreamingDetokenizer(skipSpecialTokens: skip)
                    var joined = ""
                    for id in ids { joined += stream.append(id) }
                    joined += stream.flush()
                    #expect(same(joined, tok.decode(ids, skipSpecialTokens: skip)))
                }
            }
        }
    }

    @Test("concurrent encodes from many tasks agree with a serial one")
    func concurrentUse() async {
        let texts = Fixtures.glmCases.cases.map(\.text)
        let tok = Fixtures.glmJSON
        let serial = texts.map { tok.encode($0) }
        let parallel = await withTaskGroup(of: (Int, [Int]).self) { group in
            for (i, text) in texts.enumerated() { group.addTask { (i, tok.encode(text)) } }
            var out = [[Int]](repeating: [], count: texts.count)
            for await (i, ids) in group { out[i] = ids }
            return out
        }
        #expect(parallel == serial)
    }

    @Test("pathological inputs finish quickly")
    func pathological() {
        let inputs = [
            String(repeating: "'", count: 100_000),
            String(repeating: "\r\n", count: 50_000),
            String(repeating: " a", count: 50_000),
            String(repeating: "鯨", count: 30_000),          // one long piece: heap merge
            String(repeating: "\u{301}", count: 30_000),    // combining marks only
            String(repeating: "<|user", count: 20_000),     // near-miss added tokens
            String(repeating: " ", count: 200_000) + "x",
        ]
        for text in inputs {
            let start = Date()
            let ids = Fixtures.glmJSON.encode(text)
            #expect(same(Fixtures.glmJSON.decode(ids), text))
            #expect(Date().timeIntervalSince(start) < 60, "\(text.prefix(10).debugDescription)… took too long")
        }
    }

    @Test("corrupted tokenizer files throw TokenizerError or load; never crash")
    func corruptedFiles() throws {
        var rng = SplitMix64(seed: 4)
        let json = try Data(contentsOf: Paths.fixtures.appendingPathComponent("split_misc/tokenizer.json"))
        let model = Data("YQ== 0\nYg== 1\nYWI= 2\nYWJi 3\n".utf8)
        let deadline = Self.deadline()
        while Date() < deadline {
            for (name, original) in [("tokenizer.json", json), ("tokenizer.model", model)] {
                var bytes = [UInt8](original)
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<bytes.count, using: &rng)
                    switch Int.random(in: 0..<3, using: &rng) {
                    case 0: bytes[i] = UInt8.random(in: 0...255, using: &rng)
                    case 1: bytes.remove(at: i)
                    default: bytes = Array(bytes.prefix(i))
                    }
                    if bytes.isEmpty { break }
                }
                let dir = try TokenizerErrorTests.folder([name: Data(bytes)])
                defer { try? FileManager.default.removeItem(at: dir) }
                do {
                    let tok = try Tokenizer.load(modelDirectory: dir)
                    _ = tok.decode(tok.encode("abc 123, ab; Hello --"))
                } catch is TokenizerError {
                    // expected for most mutations
                } catch {
                    Issue.record("non-TokenizerError: \(error)")
                }
            }
        }
    }
}
