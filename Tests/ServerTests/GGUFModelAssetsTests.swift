import Foundation
import Hummingbird
import HummingbirdTesting
import Models
import OrderedJSON
import Server
import Templates
import Testing
import Tokenizers
import Engine

/// A GGUF file alone is a complete model: tokenizer and chat template from its metadata
/// (Tests/Fixtures/gguf, made by llama.cpp's converter; Tools/gguf/make_fixtures.py).
@Suite("GGUF tokenizer, template and serving")
struct GGUFModelAssetsTests {
    static let root = ServerFixture.repoRoot.appendingPathComponent("Tests/Fixtures/gguf")
    static let vocab = root.appendingPathComponent("glm45-vocab.gguf")

    struct Cases: Decodable {
        struct Case: Decodable { let text: String; let ids: [Int] }
        let cases: [Case]
    }

    @Test("the real GLM-4.5 vocabulary from tokenizer.ggml.* encodes as the Hugging Face tokenizer, id for id")
    func tokenizerMatchesHuggingFace() throws {
        let tokenizer = try ModelAssets.tokenizer(at: Self.vocab)
        #expect(tokenizer.format == .gguf)
        let cases = try JSONDecoder().decode(Cases.self, from: Data(contentsOf: Self.root.appendingPathComponent("glm45-vocab-cases.json")))
        #expect(cases.cases.count >= 40)
        for c in cases.cases {
            #expect(tokenizer.encode(c.text) == c.ids, "\(c.text.debugDescription)")
            #expect(tokenizer.decode(c.ids) == c.text, "\(c.text.debugDescription)")
        }
        #expect(tokenizer.id(forToken: "<think>") == 151350 && tokenizer.id(forToken: "[gMASK]") == 151331)
        #expect(tokenizer.eosTokenId == 151329)
        #expect(tokenizer.isSpecial(151336) && !tokenizer.isSpecial(151350))
    }

    @Test("the chat template is tokenizer.chat_template and renders like the official one")
    func template() throws {
        let official = try String(contentsOf: ServerFixture.repoRoot.deletingLastPathComponent()
            .appendingPathComponent("shared/glm45/chat_template.jinja"), encoding: .utf8)
        #expect(try ModelAssets.chatTemplateSource(at: Self.vocab) == official)
        _ = try ModelAssets.chatTemplate(at: Self.vocab)
    }

    @Test("tokenizer keys of the wrong kind are named")
    func badVocabulary() throws {
        var vocabulary = GGUFVocabulary(file: "x.gguf", model: "llama", pre: "glm4", tokens: ["a"], tokenTypes: [1], merges: [],
                                        eosTokenId: nil)
        #expect { try Tokenizer.load(gguf: vocabulary) } throws: { "\($0)".contains("tokenizer.ggml.model \"llama\"") }
        vocabulary.model = "gpt2"
        vocabulary.pre = "llama-bpe"
        #expect { try Tokenizer.load(gguf: vocabulary) } throws: { "\($0)".contains("tokenizer.ggml.pre \"llama-bpe\"") }
        vocabulary.pre = "glm4"
        vocabulary.tokenTypes = [9]
        #expect { try Tokenizer.load(gguf: vocabulary) } throws: { "\($0)".contains("token_type[0] is 9") }
        vocabulary.tokenTypes = [1]
        vocabulary.merges = ["a b"]
        #expect { try Tokenizer.load(gguf: vocabulary) } throws: { "\($0)".contains("tokenizer.ggml.merges[0]") }
    }

    @Test("glm serve's model loads from one GGUF file and answers a chat request")
    func serveGGUF() async throws {
        let file = Self.root.appendingPathComponent("models/q4_k_m/model.gguf")
        let configuration = ServerConfiguration(modelPath: file.path)
        let model = try ServingModel.load(directory: file, configuration: configuration) { SerialEngine(model: $0) }
        #expect(model.stopTokenIds.count == 3)
        let (app, _) = ServerFixture.app(model: model)
        let body = #"{"model": "tiny-glm", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 5, "temperature": 0}"#
        let r = try await app.test(.router) { client in try await client.postJSON("/v1/chat/completions", body) }
        #expect(r.status == .ok, "\(r.text)")
        #expect((r.usage["completion_tokens"] as? Int ?? 0) > 0)
    }
}
