import ArgumentParser
import Foundation
import Kernels
import Models

/// Options every model-running command shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model-path"), help: "A Hugging Face checkpoint folder (config.json, *.safetensors).")
    var modelPath: String

    @Option(help: "Worker threads for the kernels (default: all cores).")
    var threads: Int?

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// Maps the checkpoint, reports tensors the model does not use, and reads the weights in
    /// with a progress display when `prefault` is set.
    func loadModel(prefault: Bool = true) throws -> GLM4MoEModel {
        let url = URL(fileURLWithPath: (modelPath as NSString).expandingTildeInPath)
        let model = try GLM4MoEModel(directory: url, backend: CPUBackend(threads: threads))
        if !model.unusedTensorNames.isEmpty {
            let names = model.unusedTensorNames
            printError("warning: \(names.count) checkpoint tensor(s) are not used by the model: "
                       + names.prefix(10).joined(separator: ", ") + (names.count > 10 ? ", …" : ""))
        }
        if prefault {
            let display = ProgressDisplay(label: "Loading \(url.lastPathComponent)")
            model.checkpoint.prefault { display.update($0) }
            display.finish()
        }
        return model
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Parses "3,17,42" into token ids.
func parseTokenList(_ text: String, option: String) throws -> [Int] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
    return try parts.map { part in
        guard let id = Int(part), id >= 0 else {
            throw ValidationError("\(option) expects comma-separated non-negative token ids, found '\(part)'")
        }
        return id
    }
}
