import Foundation
import Testing
@testable import Tokenizers

/// Exact GLM-4.5 ids against both references, for both file formats.
@Suite("GLM-4.5 encoding")
struct GLMEncodeTests {
    @Test("published GLM-4.5 ids (nai-tok, rtp-llm) from both formats")
    func publishedIds() {
        for tok in [Fixtures.glmJSON, Fixtures.glmTiktoken] {
            #expect(tok.encode("[gMASK]this is a test where da goose is cooked<|system|>no<|user|>yes<|assistant|>maybe")
                    == [151331, 574, 374, 264, 1273, 1380, 2994, 61701, 374, 28998, 151335, 2152, 151336, 9689, 151337, 36569])
            #expect(tok.encode("用户的回复。") == [107961, 104125, 1773])
            #expect(tok.encode("Hello, world!") == [9703, 11, 1879, 0])
        }
    }

    @Test("tokenizer.json matches the tokenizers package on the corpus")
    func jsonCorpus() {
        let tok = Fixtures.glmJSON
        for c in Fixtures.glmCases.cases {
            #expect(tok.encode(c.text) == c.tokenizers, "case \(c.name)")
            #expect(tok.encode(c.text, allowSpecial: false) == c.tokenizers_no_special, "case \(c.name), no specials")
        }
    }

    @Test("tokenizer.model matches the tiktoken package on the corpus")
    func tiktokenCorpus() {
        let tok = Fixtures.glmTiktoken
        for c in Fixtures.glmCases.cases {
            #expect(tok.encode(c.text) == c.tiktoken, "case \(c.name)")
            #expect(tok.encode(c.text, allowSpecial: false) == c.tiktoken_no_special, "case \(c.name), no specials")
        }
    }

    @Test("special-token strings inside text are the added tokens, as the references do")
    func specialsInText() {
        let tok = Fixtures.glmJSON
        #expect(tok.encode("a/nothink") == [64, 151360])
        #expect(tok.encode("x<think>y</think>") == [87, 151350, 88, 151351])
        // With allowSpecial: false, `/nothink` (special) is plain text but `<think>` (not special) still matches.
        #expect(!tok.encode("a/nothink", allowSpecial: false).contains(151360))
        #expect(tok.encode("<think>", allowSpecial: false) == [151350])
        #expect(tok.encode("<|user|>", allowSpecial: false).count > 1)
    }

    @Test("a ~1 MB input gives the reference ids (both formats)")
    func bigInput() throws {
        let fixture = Fixtures.glmCases
        let big = try #require(fixture.big)
        let text = Fixtures.bigText(fixture.cases)
        #expect(text.utf8.count == big.utf8_bytes)
        for tok in [Fixtures.glmJSON, Fixtures.glmTiktoken] {
            let ids = tok.encode(text)
            #expect(ids.count == big.count)
            #expect(Array(ids.prefix(64)) == big.head)
            #expect(Array(ids.suffix(64)) == big.tail)
            #expect(Fixtures.fnv1a64(ids) == big.fnv1a64)
        }
    }

    @Test("vocabulary accessors")
    func vocabulary() {
        for tok in [Fixtures.glmJSON, Fixtures.glmTiktoken] {
            #expect(tok.vocabularySize == 151365)
            #expect(tok.eosToken == "<|endoftext|>")
            #expect(tok.eosTokenId == 151329)
            #expect(tok.addedTokens.count == 36)
            #expect(tok.specialTokenIds == Set(Array(151329...151349) + [151360]))
            #expect(tok.id(forToken: "<|user|>") == 151336)
            #expect(tok.token(forId: 151360) == "/nothink")
            #expect(tok.id(forToken: "Ġgoose") == 61701)
            #expect(tok.token(forId: 61701) == "Ġgoose")
            #expect(tok.token(forId: 198) == "Ċ")
            #expect(tok.tokenBytes(forId: 198) == [0x0A])
            #expect(tok.token(forId: 151365) == nil)
            #expect(tok.token(forId: -1) == nil)
            #expect(tok.id(forToken: "no such token ☃☃☃") == nil)
        }
        #expect(Fixtures.glmJSON.format == .tokenizerJSON)
        #expect(Fixtures.glmTiktoken.format == .tiktoken)
    }

    @Test("the character classes are the references' Unicode 16, differing from Swift only on newer code points")
    func characterClasses() {
        var disagreements = 0
        for v in UInt32(0)..<0x110000 {
            guard let s = Unicode.Scalar(v) else { continue }
            let p = s.properties
            let swiftClass: UInt8
            switch p.generalCategory {
            case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
                swiftClass = UnicodeClasses.letter
            case .decimalNumber, .letterNumber, .otherNumber:
                swiftClass = UnicodeClasses.number
            default:
                swiftClass = p.isWhitespace ? UnicodeClasses.space : UnicodeClasses.other
            }
            if swiftClass != UnicodeClasses.classOf(v) {
                disagreements += 1
                let age = p.age.map { ($0.major, $0.minor) } ?? (0, 0)
                #expect(age >= (17, 0), "U+\(String(v, radix: 16)) differs but was assigned in \(age)")
            }
        }
        #expect(disagreements < 6000)
    }
}
