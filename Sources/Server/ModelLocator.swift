import Foundation

/// Finds the checkpoint folder for `--model-path`: a folder, or a Hugging Face repo id
/// (`zai-org/GLM-4.5-Air`) already in the local Hugging Face cache. Nothing is downloaded.
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
            guard isDirectory.boolValue else { throw ModelLocatorError("--model-path \(modelPath) is a file, not a checkpoint folder") }
            return URL(fileURLWithPath: expanded)
        }
        let caches = cacheDirectories(environment: environment)
        let isRepoID = !modelPath.hasPrefix("/") && !modelPath.hasPrefix(".") && !modelPath.hasPrefix("~")
            && modelPath.split(separator: "/").count <= 2 && !modelPath.isEmpty
        var looked: [String] = []
        if isRepoID {
            let folder = "models--" + modelPath.replacingOccurrences(of: "/", with: "--")
            for cache in caches {
                let repo = (cache as NSString).appendingPathComponent(folder)
                looked.append(repo)
                if let snapshot = snapshot(in: repo) { return snapshot }
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

    /// The snapshot `refs/main` points at, else the newest snapshot that has a config.json.
    static func snapshot(in repo: String) -> URL? {
        let fm = FileManager.default
        let snapshots = (repo as NSString).appendingPathComponent("snapshots")
        let ref = (repo as NSString).appendingPathComponent("refs/main")
        if let commit = try? String(contentsOfFile: ref, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines),
           !commit.isEmpty {
            let dir = (snapshots as NSString).appendingPathComponent(commit)
            if fm.fileExists(atPath: (dir as NSString).appendingPathComponent("config.json")) { return URL(fileURLWithPath: dir) }
        }
        guard let entries = try? fm.contentsOfDirectory(atPath: snapshots) else { return nil }
        let candidates = entries.map { (snapshots as NSString).appendingPathComponent($0) }
            .filter { fm.fileExists(atPath: ($0 as NSString).appendingPathComponent("config.json")) }
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
