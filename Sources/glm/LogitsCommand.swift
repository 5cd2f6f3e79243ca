import ArgumentParser
import Foundation
import Models

struct LogitsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logits",
        abstract: "Print the logits of a token sequence, computed in one forward pass, as JSON.",
        discussion: #"Output: {"tokens":[...],"logits":[[vocab_size floats], ...]} (last position only unless --all-positions)."#
    )

    @OptionGroup var model: ModelOptions

    @Option(help: "Comma-separated token ids, e.g. 3,17,42.")
    var tokens: String

    @Flag(help: "Print one row per position instead of the last position only.")
    var allPositions = false

    @Option(help: "Write the JSON to this file instead of standard output.")
    var output: String?

    func run() throws {
        let ids = try parseTokenList(tokens, option: "--tokens")
        let glm = try model.loadModel(prefault: false)
        let cache = glm.makeCache(tokens: ids.count)
        var batch = ForwardBatch()
        batch.append(KVSequence(), tokens: ids, logits: allPositions ? .all : .last)
        let rows = try glm.forward(batch, cache: cache)
        var json = "{\"tokens\":[" + ids.map(String.init).joined(separator: ",") + "],\"logits\":["
        json += rows.map { "[" + $0.map { $0.isFinite ? "\($0)" : "null" }.joined(separator: ",") + "]" }.joined(separator: ",")
        json += "]}\n"
        if let output {
            try Data(json.utf8).write(to: URL(fileURLWithPath: output))
        } else {
            FileHandle.standardOutput.write(Data(json.utf8))
        }
    }
}
