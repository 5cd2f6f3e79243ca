// `glm tokenize` and `glm detokenize`.
//
//   glm tokenize [--model-path DIR] (--text T | --file F) [--no-special] [--benchmark [--repeats N]]
//       prints the ids as a JSON array on one line, e.g. [9703,11,1879,0]
//   glm detokenize [--model-path DIR] --ids 1,2,3 [--skip-special-tokens]
//       prints the decoded text followed by a newline
//
// `--benchmark` prints one JSON line {"load_s","encode_s","decode_s","count","fnv1a64"} (best
// of --repeats, process CPU seconds) instead of the ids; Tools/tokenizer/bench.py runs it with
//   --ours "glm tokenize --model-path {model} --file {file} --benchmark"

import ArgumentParser
import DemoModel
import Foundation
import Server
import Tokenizers

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text as a JSON array.")

    @Option(name: .customLong("model-path"),
            help: "Model folder with tokenizer.json, or tokenizer.model + tokenizer_config.json, or a GGUF model; default: the embedded \(DemoModel.name) model.")
    var modelPath: String?

    @Option(help: "The text to tokenize.")
    var text: String?

    @Option(help: "A file whose contents (UTF-8) to tokenize.")
    var file: String?

    @Flag(name: .customLong("no-special"),
          help: "Encode special-token strings such as <|user|> as ordinary text.")
    var noSpecial = false

    @Flag(help: "Print encode/decode timings as JSON instead of the ids.")
    var benchmark = false

    @Option(help: "Runs to take the best of with --benchmark.")
    var repeats = 3

    func validate() throws {
        if (text == nil) == (file == nil) {
            throw ValidationError("Give exactly one of --text or --file.")
        }
        if repeats < 1 { throw ValidationError("--repeats must be at least 1.") }
    }

    func run() throws {
        let directory = try modelDirectory(modelPath)
        let loadStart = cpuSeconds()
        let tokenizer = try ModelAssets.tokenizer(at: directory)
        let loadSeconds = cpuSeconds() - loadStart
        let input: String
        if let text {
            input = text
        } else {
            // Invalid UTF-8 becomes U+FFFD rather than an error, as in the server.
            input = String(decoding: try Data(contentsOf: URL(fileURLWithPath: file!)), as: UTF8.self)
        }
        guard benchmark else {
            let ids = tokenizer.encode(input, allowSpecial: !noSpecial)
            print("[" + ids.map(String.init).joined(separator: ",") + "]")
            return
        }
        var ids: [Int] = []
        var encodeSeconds = Double.infinity, decodeSeconds = Double.infinity
        for _ in 0..<repeats {
            var t = cpuSeconds()
            ids = tokenizer.encode(input, allowSpecial: !noSpecial)
            encodeSeconds = min(encodeSeconds, cpuSeconds() - t)
            t = cpuSeconds()
            _ = tokenizer.decode(ids)
            decodeSeconds = min(decodeSeconds, cpuSeconds() - t)
        }
        print("{\"load_s\": \(loadSeconds), \"encode_s\": \(encodeSeconds), \"decode_s\": \(decodeSeconds), "
              + "\"count\": \(ids.count), \"fnv1a64\": \"\(fnv1a64(ids))\"}")
    }

    /// Process CPU time: stable on a busy machine, and what bench.py measures for the references.
    private func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// FNV-1a 64 over the ids as little-endian UInt32 (as Tools/tokenizer/make_fixtures.py).
    private func fnv1a64(_ ids: [Int]) -> String {
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

struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Print the text of comma-separated token ids.")

    @Option(name: .customLong("model-path"),
            help: "Model folder with tokenizer.json, or tokenizer.model + tokenizer_config.json, or a GGUF model; default: the embedded \(DemoModel.name) model.")
    var modelPath: String?

    @Option(help: "Token ids, comma-separated (brackets and spaces allowed), e.g. 9703,11,1879,0.")
    var ids: String

    @Flag(name: .customLong("skip-special-tokens"), help: "Leave special tokens out of the text.")
    var skipSpecialTokens = false

    /// The ids, or a validation error naming the bad entry.
    static func parseIds(_ s: String) throws -> [Int] {
        let trimmed = s.trimmingCharacters(in: CharacterSet(charactersIn: "[] \t\n"))
        if trimmed.isEmpty { return [] }
        return try trimmed.split(separator: ",").map { part in
            let p = part.trimmingCharacters(in: .whitespaces)
            guard let id = Int(p), id >= 0 else { throw ValidationError("Not a token id: '\(p)'.") }
            return id
        }
    }

    func validate() throws { _ = try Self.parseIds(ids) }

    func run() throws {
        let tokenizer = try ModelAssets.tokenizer(at: try modelDirectory(modelPath))
        print(tokenizer.decode(try Self.parseIds(ids), skipSpecialTokens: skipSpecialTokens))
    }
}
