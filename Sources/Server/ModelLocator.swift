import Foundation

/// Finds the model for `--model-path`: a checkpoint folder, a GGUF file (or any part of a split
/// one), a folder holding a GGUF model, or a Hugging Face repo id (`zai-org/GLM-4.5-Air`) already
/// in the local Hugging Face cache, with a quant tag for GGUF repos as llama.cpp's `-hf` takes it
/// (`unsloth/GLM-4.5-Air-GGUF:Q4_K_M`). Nothing is downloaded.
public enum ModelLocator {
    /// The cache folders searched, in order: `$HF_HUB_CACHE`, `$HUGGINGFACE_HUB_CACHE`,
    /// `$HF_HOME/hub`, `~/.cache/huggingface/hub` (as huggingface_hub resolves them).
    public static func cacheDirectories(environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        var out: [String] = []
        func add(_ path: String?) {
            guard let path, !path.isEmpty else { return }
            let p = (path as NSString).expandingTildeInPath
            if !out.contains(p) { out.append(p) }
        }
        add(environment["HF_HUB_CACHE"])
        add(environment["HUGGINGFACE_HUB_CACHE"])
        if let home = environment["HF_HOME"], !home.isEmpty { add((home as NSString).appendingPathComponent("hub")) }
        let userHome = environment["HOME"] ?? NSHomeDirectory()
        add((userHome as NSString).appendingPathComponent(".cache/huggingface/hub"))
        return out
    }

    public static func resolve(_ modelPath: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let fm = FileManager.default
        let expanded = (modelPath as NSString).expandingTildeInPath
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: expanded, isDirectory: &isDirectory) {
            guard isDirectory.boolValue || expanded.lowercased().hasSuffix(".gguf") else {
                throw ModelLocatorError("--model-path \(modelPath) is a file, but not a .gguf file; give a checkpoint folder or a GGUF file")
            }
            return URL(fileURLWithPath: expanded)
        }
        let caches = cacheDirectories(environment: environment)
        // `owner/name:TAG` picks the GGUF files whose names contain TAG.
        var repoID = modelPath, tag: String?
        if let colon = modelPath.lastIndex(of: ":"), !modelPath[colon...].contains("/") {
            repoID = String(modelPath[..<colon])
            tag = String(modelPath[modelPath.index(after: colon)...])
        }
        let isRepoID = !repoID.hasPrefix("/") && !repoID.hasPrefix(".") && !repoID.hasPrefix("~")
            && repoID.split(separator: "/").count <= 2 && !repoID.isEmpty
        var looked: [String] = []
        if isRepoID {
            let folder = "models--" + repoID.replacingOccurrences(of: "/", with: "--")
            for cache in caches {
                let repo = (cache as NSString).appendingPathComponent(folder)
                looked.append(repo)
                guard let snapshot = snapshot(in: repo) else { continue }
                guard let tag else { return snapshot }
                return try ggufFile(in: snapshot, tag: tag, modelPath: modelPath)
            }
        }
        var message = "--model-path \(modelPath): no such folder"
        if isRepoID {
            message += ", and the Hugging Face cache does not have this repository. Looked in:\n"
                + looked.map { "  \($0)" }.joined(separator: "\n")
                + "\nDownload it first, e.g. `huggingface-cli download \(modelPath)` (or `hf download \(modelPath)`),"
                + " set HF_HUB_CACHE or HF_HOME if your cache is elsewhere, or pass a local checkpoint folder."
        }
        throw ModelLocatorError(message)
    }

    /// The first file of the GGUF model in `snapshot` (or a subfolder, as split quants are often
    /// kept) whose file name contains `tag`, case-insensitively.
    static func ggufFile(in snapshot: URL, tag: String, modelPath: String) throws -> URL {
        let fm = FileManager.default
        let files = (fm.enumerator(atPath: snapshot.path)?.allObjects as? [String] ?? [])
            .filter { $0.lowercased().hasSuffix(".gguf") }.sorted()
        let matching = files.filter { ($0 as NSString).lastPathComponent.lowercased().contains(tag.lowercased()) }
        // One model: a single file, or the parts of one split set (its first part).
        let models = Set(matching.map { $0.replacingOccurrences(of: #"-\d{5}-of-\d{5}\.gguf$"#, with: "", options: .regularExpression) })
        guard models.count == 1, let first = matching.first else {
            let available = files.map { "  \($0)" }.joined(separator: "\n")
            throw ModelLocatorError(models.isEmpty
                ? "--model-path \(modelPath): no GGUF file in \(snapshot.path) has \"\(tag)\" in its name. Files:\n\(available)"
                : "--model-path \(modelPath): \"\(tag)\" matches \(models.count) GGUF models in \(snapshot.path): "
                    + models.sorted().joined(separator: ", ") + "; use a longer tag or a file path")
        }
        return snapshot.appendingPathComponent(first)
    }

    /// Whether a snapshot folder holds a model: a config.json, or GGUF files.
    static func holdsModel(_ dir: String) -> Bool {
        let fm = FileManager.default
        if fm.fileExists(atPath: (dir as NSString).appendingPathComponent("config.json")) { return true }
        return (fm.enumerator(atPath: dir)?.allObjects as? [String] ?? []).contains { $0.lowercased().hasSuffix(".gguf") }
    }

    /// The snapshot `refs/main` points at, else the newest snapshot that holds a model.
    static func snapshot(in repo: String) -> URL? {
        let fm = FileManager.default
        let snapshots = (repo as NSString).appendingPathComponent("snapshots")
        let ref = (repo as NSString).appendingPathComponent("refs/main")
        if let commit = try? String(contentsOfFile: ref, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           !commit.isEmpty {
            let dir = (snapshots as NSString).appendingPathComponent(commit)
            if holdsModel(dir) { return URL(fileURLWithPath: dir) }
        }
        guard let entries = try? fm.contentsOfDirectory(atPath: snapshots) else { return nil }
        let candidates = entries.map { (snapshots as NSString).appendingPathComponent($0) }.filter(holdsModel)
        let dated = candidates.map { path -> (String, Date) in
            let date = (try? fm.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? .distantPast
            return (path, date)
        }
        return dated.max { $0.1 < $1.1 }.map { URL(fileURLWithPath: $0.0) }
    }
}

public struct ModelLocatorError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
