import Foundation
import Testing
@testable import Tokenizers

/// tokenizer.json shapes other than GLM's, against the tokenizers package.
@Suite("tokenizer.json beyond GLM")
struct TokenizerJSONTests {
    static func check(_ dir: String) throws {
        let tok = try Tokenizer.load(modelDirectory: Paths.fixtures.appendingPathComponent(dir))
        let fixture = try Fixtures.load(EncodeFixture.self, "\(dir)/cases.json")
        #expect(fixture.cases.count > 300)
        for c in fixture.cases {
            #expect(tok.encode(c.text) == c.tokenizers, "\(dir) case \(c.name)")
            #expect(tok.encode(c.text, allowSpecial: false) == c.tokenizers_no_special, "\(dir) case \(c.name), no specials")
            #expect(same(tok.decode(c.tokenizers), c.decode), "\(dir) case \(c.name) decode")
            #expect(same(tok.decode(c.tokenizers, skipSpecialTokens: true), c.decode_skip_special),
                    "\(dir) case \(c.name) decode skipping specials")
        }
    }

    @Test("GPT-2-style ByteLevel regex with prefix space, Digits, NFC, lstrip/rstrip/normalized added tokens")
    func smallBPE() throws {
        try Self.check("small_bpe")
        let tok = try Tokenizer.load(modelDirectory: Paths.fixtures.appendingPathComponent("small_bpe"))
        #expect(tok.format == .tokenizerJSON)
        #expect(tok.eosTokenId == nil)  // no tokenizer_config.json there
        #expect(tok.specialTokenIds.contains(tok.id(forToken: "<|im_start|>")!))
        #expect(!tok.specialTokenIds.contains(tok.id(forToken: "<tool>")!))
    }

    @Test("Split behaviours, String patterns, NSRegularExpression patterns, NFKC")
    func splitMisc() throws {
        try Self.check("split_misc")
    }

    struct NormalizerCase: Decodable { let text, NFC, NFD, NFKC, NFKD: String }
    struct NormalizerFixture: Decodable { let cases: [NormalizerCase] }

    @Test("normal forms match HF's (Unicode 9.0 tables, canonical reordering, archaic jamo)")
    func normalForms() throws {
        let fixture = try Fixtures.load(NormalizerFixture.self, "normalizers.json")
        #expect(fixture.cases.count == 600)
        for c in fixture.cases {
            let hex = c.text.unicodeScalars.map { String($0.value, radix: 16) }
            #expect(same(Normalizer.nfc.apply(c.text), c.NFC), "NFC \(hex)")
            #expect(same(Normalizer.nfd.apply(c.text), c.NFD), "NFD \(hex)")
            #expect(same(Normalizer.nfkc.apply(c.text), c.NFKC), "NFKC \(hex)")
            #expect(same(Normalizer.nfkd.apply(c.text), c.NFKD), "NFKD \(hex)")
            #expect(same(Normalizer.sequence([.nfd, .nfkc]).apply(c.text), c.NFKC), "NFD+NFKC \(hex)")
        }
    }

    @Test("the scanners' known patterns are recognised only when spelled exactly")
    func knownPatterns() {
        #expect(PatternScanner.forPattern(PatternScanner.glm4Pattern)?.kind == .glm4(maxDigits: 3))
        #expect(PatternScanner.forPattern(PatternScanner.qwen2Pattern)?.kind == .glm4(maxDigits: 1))
        #expect(PatternScanner.forPattern(PatternScanner.gpt2Pattern)?.kind == .gpt2)
        #expect(PatternScanner.forPattern(#"\s+"#) == nil)
    }
}
