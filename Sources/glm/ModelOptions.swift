import ArgumentParser
import DemoModel
import Foundation
import Kernels
import Models
import OrderedJSON
import Server
import Templates
import Weights

/// Options every model-running command shares.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model-path"),
            help: "A Hugging Face checkpoint folder (config.json, *.safetensors), a GGUF file (any part of a split one) or folder, or a cached repo id (owner/name, owner/name:Q4_K_M for GGUF repos); default: the embedded \(DemoModel.name) model.")
    var modelPath: String?

    @Option(help: "Worker threads for the kernels (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("weight-check"),
            help: "Scan the weights for NaN/Inf at load: none, sampled (small tensors in full, a few pages of the rest), or full.")
    var weightCheck: WeightCheck = .sampled

    @Option(help: DTypeOption.help)
    var dtype: DTypeOption = .auto

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }

    /// The checkpoint folder: `--model-path`, or the embedded demo model (saying so on stderr).
    func directory() throws -> URL { try modelDirectory(modelPath) }

    /// Maps the checkpoint in `directory` (default: `directory()`), reports tensors the model
    /// does not use, and reads the weights in with a progress display when `prefault` is set.
    func loadModel(from directory: URL? = nil, prefault: Bool = true) throws -> GLM4MoEModel {
        let url = try directory ?? self.directory()
        if let note = dtype.note { printError("note: \(note)") }
        let backend = CPUBackend(threads: threads, precision: dtype.precision)
        let model = try GLM4MoEModel(directory: url, backend: backend, weightCheck: weightCheck)
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

/// The folder `--model-path` names (`~` expanded), or, when it was not given, the embedded demo
/// model, with one line on stderr saying so.
func modelDirectory(_ modelPath: String?) throws -> URL {
    guard let modelPath else {
        let directory = try DemoModel.directory()
        printError("Using the embedded demo model \(DemoModel.name) (\(directory.path)); --model-path selects a real checkpoint.")
        return directory
    }
    do { return try ModelLocator.resolve(modelPath) } catch let error as ModelLocatorError { throw ValidationError(error.message) }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// The JSON in file `path` (object key order kept), or a validation error naming `option`.
func readJSONFile(_ path: String, option: String) throws -> JSONValue {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw ValidationError("\(option): cannot read \(path): \(error.localizedDescription)")
    }
    do { return try JSONValue.parse(data: data) } catch { throw ValidationError("\(option): \(path): \(error)") }
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

extension WeightCheck: ExpressibleByArgument {}
