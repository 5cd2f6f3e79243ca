import Foundation
import Testing
@testable import Tokenizers

@Suite("Decoding and streaming")
struct DecodeTests {
    @Test("decode matches the references on random id streams (partial characters, specials, unknown ids)")
    func decodeFixture() throws {
        let fixture = try Fixtures.load(DecodeFixture.self, "glm45_decode.json")
        for (i, c) in fixture.cases.enumerated() {
            #expect(same(Fixtures.glmJSON.decode(c.ids), c.tokenizers), "case \(i)")
            #expect(same(Fixtures.glmJSON.decode(c.ids, skipSpecialTokens: true), c.tokenizers_skip_special), "case \(i)")
            #expect(same(Fixtures.glmTiktoken.decode(c.ids), c.tiktoken), "case \(i)")
            #expect(same(Fixtures.glmTiktoken.decode(c.ids, skipSpecialTokens: true), c.tiktoken_skip_special), "case \(i)")
        }
    }

    @Test("corpus round-trips through decode, with and without skipping specials")
    func roundTrip() {
        for tok in [Fixtures.glmJSON, Fixtures.glmTiktoken] {
            for c in Fixtures.glmCases.cases {
                let ids = tok.encode(c.text)
                #expect(same(tok.decode(ids), c.text), "case \(c.name)")
                #expect(same(tok.decode(ids), c.decode), "case \(c.name)")
                #expect(same(tok.decode(ids, skipSpecialTokens: true), c.decode_skip_special), "case \(c.name)")
                // Without special matching every special string is text, so nothing is skipped.
                #expect(same(tok.decode(tok.encode(c.text, allowSpecial: false), skipSpecialTokens: true), c.text))
            }
        }
    }

    @Test("skipSpecialTokens drops special tokens only")
    func skipSpecial() {
        let tok = Fixtures.glmJSON
        let ids = tok.encode("[gMASK]<sop><|user|>\nHi /nothink<|assistant|>\n<think>x</think>")
        #expect(same(tok.decode(ids, skipSpecialTokens: true), "\nHi \n<think>x</think>"))
    }

    /// Streams ids one by one; checks deltas concatenate to decode() and never cut a character.
    func checkStreaming(_ tok: Tokenizer, _ ids: [Int], skip: Bool, textIsValid: Bool) {
        var stream = tok.makeStreamingDetokenizer(skipSpecialTokens: skip)
        var joined = ""
        for id in ids {
            let delta = stream.append(id)
            if textIsValid { #expect(!delta.unicodeScalars.contains("\u{FFFD}"), "delta \(delta.debugDescription)") }
            joined += delta
        }
        joined += stream.flush()
        #expect(!stream.hasPendingBytes)
        #expect(same(joined, tok.decode(ids, skipSpecialTokens: skip)))
    }

    @Test("streaming deltas concatenate to decode() and never split a character")
    func streaming() throws {
        let tok = Fixtures.glmJSON
        for c in Fixtures.glmCases.cases where c.text.utf8.count < 5000 {
            let validText = !c.text.unicodeScalars.contains("\u{FFFD}")
            checkStreaming(tok, c.tokenizers, skip: false, textIsValid: validText)
            checkStreaming(tok, c.tokenizers, skip: true, textIsValid: validText)
        }
        let fixture = try Fixtures.load(DecodeFixture.self, "glm45_decode.json")
        for c in fixture.cases {
            checkStreaming(tok, c.ids, skip: false, textIsValid: false)
            checkStreaming(Fixtures.glmTiktoken, c.ids, skip: true, textIsValid: false)
        }
    }

    @Test("emoji and CJK split across byte tokens stream whole characters")
    func streamingSplitCharacters() {
        let tok = Fixtures.glmJSON
        // One byte token per UTF-8 byte: the worst case for a detokenizer.
        let text = "👨‍👩‍👧 鯨 e\u{301} 🇯🇵"
        let byteIds = Array(text.utf8).map { tok.id(forToken: ByteLevel.vocabString(fromBytes: [$0]))! }
        var stream = tok.makeStreamingDetokenizer()
        var deltas: [String] = []
        for id in byteIds { deltas.append(stream.append(id)) }
        deltas.append(stream.flush())
        #expect(same(deltas.joined(), text))
        #expect(deltas.allSatisfy { !$0.unicodeScalars.contains("\u{FFFD}") })
        // The 4-byte 👨 arrives in 4 tokens: the first three give nothing.
        #expect(deltas[0] == "" && deltas[1] == "" && deltas[2] == "" && deltas[3] == "👨")
    }

    @Test("a truncated character is flushed as U+FFFD, like decode")
    func streamingFlushesBrokenTail() {
        let tok = Fixtures.glmTiktoken
        let ids = Array("鯨".utf8).prefix(2).map { tok.id(forToken: ByteLevel.vocabString(fromBytes: [$0]))! }
        var stream = tok.makeStreamingDetokenizer()
        #expect(stream.append(contentsOf: ids) == "")
        #expect(stream.flush() == "\u{FFFD}")
        #expect(same(tok.decode(ids), "\u{FFFD}"))
    }

    @Test("incomplete-suffix rule follows UTF-8 well-formedness")
    func incompleteSuffix() {
        #expect(StreamingDetokenizer.incompleteSuffixLength([]) == 0)
        #expect(StreamingDetokenizer.incompleteSuffixLength([0x41]) == 0)
        #expect(StreamingDetokenizer.incompleteSuffixLength([0xE9]) == 1)
        #expect(StreamingDetokenizer.incompleteSuffixLength([0xE9, 0xB2]) == 2)
        #expect(StreamingDetokenizer.incompleteSuffixLength([0xE9, 0xB2, 0xB8]) == 0)
        #expect(StreamingDetokenizer.incompleteSuffixLength([0xF0, 0x9F, 0x98]) == 3)
        #expect(StreamingDetokenizer.incompleteSuffixLength([0xE0, 0x80]) == 0)   // overlong: invalid now
        #expect(StreamingDetokenizer.incompleteSuffixLength([0xED, 0xA0]) == 0)   // surrogate
        #expect(StreamingDetokenizer.incompleteSuffixLength([0xF4, 0x90]) == 0)   // > U+10FFFF
        #expect(StreamingDetokenizer.incompleteSuffixLength([0xC0]) == 0)         // never valid
        #expect(StreamingDetokenizer.incompleteSuffixLength([0x80, 0x80]) == 0)
    }
}
