import Foundation

/// The small GLM-4.5 checkpoint shipped inside swift-glm (`glm-4.5-demo`: config, bf16
/// safetensors with an MTP layer, tokenizer and chat template), used when a command gets no
/// `--model-path`.
///
/// SwiftPM copies the folder into a resource bundle next to the built executable:
/// `swift-glm_DemoModel.resources/glm-4.5-demo` on Linux, `swift-glm_DemoModel.bundle/…` on
/// macOS. The generated `Bundle.module` is not used because it traps when the bundle is missing
/// (a binary copied without it); `directory()` throws instead.
public enum DemoModel {
    /// The model's name, also the default `--served-model-name` of `glm serve` without `--model-path`.
    public static let name = "glm-4.5-demo"

    /// The resource bundle's name without its extension (SwiftPM: `<package>_<target>`).
    public static let bundleName = "swift-glm_DemoModel"

    /// The folder holding the demo model's files (config.json, model.safetensors, …).
    ///
    /// Looks in the resource bundle next to the running executable (also after resolving a
    /// symlink to it), in the main bundle's resources (a macOS app), then in the source tree this
    /// file was compiled from. Throws `DemoModelError.notFound` listing every place it looked.
    public static func directory() throws -> URL {
        let main = Bundle.main
        return try directory(executable: main.executableURL, resources: main.resourceURL, sourceFolder: sourceFolder)
    }

    /// `Sources/DemoModel/glm-4.5-demo` in the checkout this module was built from.
    static let sourceFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(name)

    static func directory(executable: URL?, resources: URL?, sourceFolder: URL?) throws -> URL {
        let places = candidates(executable: executable, resources: resources, sourceFolder: sourceFolder)
        let fm = FileManager.default
        if let found = places.first(where: { fm.fileExists(atPath: $0.appendingPathComponent("config.json").path) }) {
            return found
        }
        throw DemoModelError.notFound(searched: places)
    }

    /// Where the model folder may be, in search order, without duplicates.
    static func candidates(executable: URL?, resources: URL?, sourceFolder: URL?) -> [URL] {
        var folders: [URL] = []
        if let executable {
            folders.append(executable.deletingLastPathComponent())
            folders.append(executable.resolvingSymlinksInPath().deletingLastPathComponent())
        }
        if let resources { folders.append(resources) }
        var out: [URL] = []
        func add(_ url: URL) {
            let url = url.standardizedFileURL
            if !out.contains(url) { out.append(url) }
        }
        for folder in folders {
            add(folder.appendingPathComponent("\(bundleName).resources/\(name)"))                 // Linux
            add(folder.appendingPathComponent("\(bundleName).bundle/\(name)"))                    // macOS, SwiftPM
            add(folder.appendingPathComponent("\(bundleName).bundle/Contents/Resources/\(name)")) // macOS, Xcode
        }
        if let sourceFolder { add(sourceFolder) }
        return out
    }
}

public enum DemoModelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// No folder with a config.json in any of these places.
    case notFound(searched: [URL])

    public var description: String {
        switch self {
        case .notFound(let searched):
            return "the embedded demo model \(DemoModel.name) is missing: no config.json in any of\n"
                + searched.map { "  \($0.path)" }.joined(separator: "\n")
                + "\nKeep the \(DemoModel.bundleName).resources (macOS: .bundle) folder next to the glm executable, "
                + "or pass --model-path to use a checkpoint folder."
        }
    }
}
