import Foundation
import Testing
@testable import Tokenizers

/// Unsupported components and corrupt files must fail loudly, naming the component and file.
@Suite("Loader errors")
struct TokenizerErrorTests {
    /// A fresh temporary model folder holding `files`.
    static func folder(_ files: [String: Data]) throws -> URL {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("tok-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: dir.appendingPathComponent(name)) }
        return dir
    }

    /// small_bpe/tokenizer.json with one edit applied.
    static func editedJSON(_ edit: (inout [String: Any]) -> Void) throws -> URL {
        let url = Paths.fixtures.appendingPathComponent("small_bpe/tokenizer.json")
        var obj = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        edit(&obj)
        return try folder(["tokenizer.json": JSONSerialization.data(withJSONObject: obj)])
    }

    static func loadError(_ dir: URL) -> TokenizerError? {
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try Tokenizer.load(modelDirectory: dir)
            return nil
        } catch let e as TokenizerError {
            return e
        } catch {
            return nil
        }
    }

    static func expectUnsupported(_ component: String, _ edit: (inout [String: Any]) -> Void) throws {
        let error = loadError(try editedJSON(edit))
        guard case .unsupported(let c, let file)? = error else {
            Issue.record("expected unsupported \(component), got \(String(describing: error))")
            return
        }
        #expect(c.contains(component))
        #expect(file.hasSuffix("tokenizer.json"))
        #expect(error!.localizedDescription.contains(component))
    }

    @Test("unsupported components are named")
    func unsupportedComponents() throws {
        try Self.expectUnsupported("model.WordPiece") { o in
            var m = o["model"] as! [String: Any]; m["type"] = "WordPiece"; o["model"] = m
        }
        try Self.expectUnsupported("model.byte_fallback") { o in
            var m = o["model"] as! [String: Any]; m["byte_fallback"] = true; o["model"] = m
        }
        try Self.expectUnsupported("model.dropout") { o in
            var m = o["model"] as! [String: Any]; m["dropout"] = 0.1; o["model"] = m
        }
        try Self.expectUnsupported("pre_tokenizer.Metaspace") { o in
            o["pre_tokenizer"] = ["type": "Metaspace", "replacement": "▁"]
        }
        try Self.expectUnsupported("character-level") { o in
            o["pre_tokenizer"] = ["type": "Digits", "individual_digits": true]
        }
        try Self.expectUnsupported("ByteLevel before") { o in
            o["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false],
                ["type": "Digits", "individual_digits": true]]]
        }
        try Self.expectUnsupported("Split.behavior.Sideways") { o in
            o["pre_tokenizer"] = ["type": "Sequence", "pretokenizers": [
                ["type": "Split", "pattern": ["Regex": "a"], "behavior": "Sideways", "invert": false],
                ["type": "ByteLevel", "add_prefix_space": false, "use_regex": false]]]
        }
        try Self.expectUnsupported("normalizer.Lowercase") { o in o["normalizer"] = ["type": "Lowercase"] }
        try Self.expectUnsupported("decoder.WordPiece") { o in o["decoder"] = ["type": "WordPiece"] }
        try Self.expectUnsupported("decoder: null") { o in o["decoder"] = NSNull() }
        try Self.expectUnsupported("padding") { o in o["padding"] = ["strategy": "BatchLongest"] }
        try Self.expectUnsupported("single_word") { o in
            var list = o["added_tokens"] as! [[String: Any]]
            list[0]["single_word"] = true
            o["added_tokens"] = list
        }
    }

    @Test("corrupt tokenizer.json files are malformed, not crashes")
    func corruptJSON() throws {
        let url = Paths.fixtures.appendingPathComponent("small_bpe/tokenizer.json")
        let data = try Data(contentsOf: url)
        for cut in [0, 1, 100, data.count / 2, data.count - 2] {
            let error = Self.loadError(try Self.folder(["tokenizer.json": data.prefix(cut)]))
            guard case .malformed(let file, _)? = error else {
                Issue.record("cut at \(cut): \(String(describing: error))")
                continue
            }
            #expect(file.hasSuffix("tokenizer.json"))
        }
        let badMerge = Self.loadError(try Self.editedJSON { o in
            var m = o["model"] as! [String: Any]
            m["merges"] = [["zz-not-a-token", "q"]]
            o["model"] = m
        })
        #expect({ if case .malformed? = badMerge { return true }; return false }())
        let notObject = Self.loadError(try Self.folder(["tokenizer.json": Data("[1,2]".utf8)]))
        #expect({ if case .malformed? = notObject { return true }; return false }())
    }

    @Test("corrupt tiktoken files are malformed")
    func corruptTiktoken() throws {
        let bad: [(String, String)] = [
            ("bad base64", "IQ== 0\n!!!! 1\n"),
            ("missing rank", "IQ==\n"),
            ("bad rank", "IQ== x1\n"),
            ("duplicate rank", "IQ== 0\nIg== 0\n"),
            ("empty", ""),
            ("binary", "\u{0A}\u{08}\u{10}\u{01}\u{1A}\u{02}\u{00}\u{7F}"),
        ]
        for (name, text) in bad {
            let error = Self.loadError(try Self.folder(["tokenizer.model": Data(text.utf8)]))
            guard case .malformed(let file, _)? = error else {
                Issue.record("\(name): \(String(describing: error))")
                continue
            }
            #expect(file.hasSuffix("tokenizer.model"), "\(name)")
        }
        // A good rank file with a corrupt config.
        let error = Self.loadError(try Self.folder([
            "tokenizer.model": Data("IQ== 0\nIg== 1\n".utf8),
            "tokenizer_config.json": Data("{\"added_tokens_decoder\": {\"5\": {\"content\": ".utf8),
        ]))
        guard case .malformed(let file, _)? = error else {
            Issue.record("config: \(String(describing: error))")
            return
        }
        #expect(file.hasSuffix("tokenizer_config.json"))
    }

    @Test("a folder without tokenizer files, and unreadable files")
    func missingFiles() throws {
        let empty = try Self.folder([:])
        #expect(Self.loadError(empty) == .noTokenizerFiles(directory: empty.path))
        let dir = try Self.folder([:])
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("tokenizer.json"),
                                                withIntermediateDirectories: true)
        let error = Self.loadError(dir)
        #expect({ if case .unreadable? = error { return true }; return false }())
    }

    @Test("a minimal tiktoken file loads and encodes")
    func minimalTiktoken() throws {
        // Bytes "a", "b" and the merge "ab".
        let dir = try Self.folder(["tokenizer.model": Data("YQ== 0\nYg== 1\nYWI= 2\n".utf8)])
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = try Tokenizer.load(modelDirectory: dir)
        #expect(tok.encode("abab") == [2, 2])
        #expect(tok.encode("ba") == [1, 0])
        #expect(tok.encode("xyz") == [])   // bytes without tokens are dropped
        #expect(tok.decode([2, 0, 99]) == "aba")
        #expect(tok.eosTokenId == nil)
    }
}

/// Issue 19: errors printed with `"\(error)"` (the CLI, the server's load failure) showed the raw
/// enum case, e.g. `noTokenizerFiles(directory: …)`.
@Suite("Loader error messages")
struct TokenizerErrorMessageTests {
    @Test("every error reads as a sentence naming the file and what was expected, in description and localizedDescription")
    func readable() {
        let cases: [(TokenizerError, String)] = [
            (.noTokenizerFiles(directory: "/m"),
             "/m: no tokenizer found; expected tokenizer.json (Hugging Face tokenizers) or tokenizer.model (tiktoken ranks) in this folder"),
            (.unreadable(file: "/m/tokenizer.json", reason: "permission denied"),
             "/m/tokenizer.json: cannot read the tokenizer file: permission denied"),
            (.malformed(file: "/m/tokenizer.json", reason: "model.vocab is not an object"),
             "/m/tokenizer.json: malformed tokenizer file: model.vocab is not an object"),
            (.unsupported(component: "model.WordPiece", file: "/m/tokenizer.json"),
             "/m/tokenizer.json: unsupported tokenizer component model.WordPiece"),
        ]
        for (error, text) in cases {
            #expect("\(error)" == text)
            #expect(String(describing: error) == text)
            #expect(error.localizedDescription == text)
            #expect(!"\(error)".contains("(directory:") && !"\(error)".contains("(file:"))
        }
    }

    @Test("a folder without tokenizer files, as the CLI prints it")
    func missingFolderMessage() throws {
        let empty = try TokenizerErrorTests.folder([:])
        defer { try? FileManager.default.removeItem(at: empty) }
        do {
            _ = try Tokenizer.load(modelDirectory: empty)
            Issue.record("loaded")
        } catch {
            #expect("\(error)".hasPrefix("\(empty.path): no tokenizer found; expected tokenizer.json"))
        }
    }

    @Test("token ids beyond any vocabulary are refused, not allocated for")
    func hugeIds() throws {
        let huge = 1 << 40
        let json = TokenizerErrorTests.loadError(try TokenizerErrorTests.editedJSON { o in
            var list = o["added_tokens"] as! [[String: Any]]
            list[0]["id"] = huge
            o["added_tokens"] = list
        })
        guard case .malformed(let file, let reason)? = json else {
            Issue.record("\(String(describing: json))")
            return
        }
        #expect(file.hasSuffix("tokenizer.json") && reason.contains("added_tokens[0]"))
        let tiktoken = TokenizerErrorTests.loadError(try TokenizerErrorTests.folder([
            "tokenizer.model": Data("IQ== 0\nIg== 1\n".utf8),
            "tokenizer_config.json": Data("{\"added_tokens_decoder\": {\"\(huge)\": {\"content\": \"<x>\"}}}".utf8),
        ]))
        guard case .malformed(let configFile, _)? = tiktoken else {
            Issue.record("\(String(describing: tiktoken))")
            return
        }
        #expect(configFile.hasSuffix("tokenizer_config.json"))
    }
}
