import Foundation
import Testing
@testable import DemoModel

@Suite("Embedded demo model: finding its folder")
struct DemoModelLocationTests {
    let fm = FileManager.default

    @Test("directory() finds the model folder, in the resource bundle next to the test binary when there is one")
    func findsTheModel() throws {
        let directory = try DemoModel.directory()
        #expect(directory.lastPathComponent == DemoModel.name)
        for file in ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"] {
            #expect(fm.fileExists(atPath: directory.appendingPathComponent(file).path), "\(file) missing in \(directory.path)")
        }
        #if os(Linux)
        // SwiftPM copies resources to <bin>/swift-glm_DemoModel.resources beside the test binary.
        #expect(directory.path.hasSuffix("/\(DemoModel.bundleName).resources/\(DemoModel.name)"),
                "expected the copy in the resource bundle, found \(directory.path)")
        #endif
    }

    @Test("A bundle next to the executable wins over the source folder; the macOS layouts are found too")
    func searchOrder() throws {
        let root = try temporaryFolder()
        defer { try? fm.removeItem(at: root) }
        let executable = root.appendingPathComponent("bin/glm")
        let source = try makeModel(root.appendingPathComponent("src/\(DemoModel.name)"))
        #expect(try DemoModel.directory(executable: executable, resources: nil, sourceFolder: source).path == source.path)

        for layout in ["\(DemoModel.bundleName).bundle/Contents/Resources", "\(DemoModel.bundleName).bundle",
                       "\(DemoModel.bundleName).resources"] {
            let bundled = try makeModel(root.appendingPathComponent("bin/\(layout)/\(DemoModel.name)"))
            #expect(try DemoModel.directory(executable: executable, resources: nil, sourceFolder: source).path == bundled.path, "\(layout)")
        }
    }

    @Test("A symlinked executable still finds the bundle beside the real binary")
    func symlinkedExecutable() throws {
        let root = try temporaryFolder()
        defer { try? fm.removeItem(at: root) }
        let real = root.appendingPathComponent("build/glm")
        try fm.createDirectory(at: real.deletingLastPathComponent(), withIntermediateDirectories: true)
        _ = fm.createFile(atPath: real.path, contents: Data())
        let bundled = try makeModel(root.appendingPathComponent("build/\(DemoModel.bundleName).resources/\(DemoModel.name)"))
        let link = root.appendingPathComponent("bin/glm")
        try fm.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try fm.createSymbolicLink(at: link, withDestinationURL: real)
        let found = try DemoModel.directory(executable: link, resources: nil, sourceFolder: nil)
        #expect(found.resolvingSymlinksInPath().path == bundled.resolvingSymlinksInPath().path)
    }

    @Test("Nothing found: the error lists every place it looked")
    func notFound() throws {
        let root = try temporaryFolder()
        defer { try? fm.removeItem(at: root) }
        let executable = root.appendingPathComponent("bin/glm")
        let source = root.appendingPathComponent("src/\(DemoModel.name)")
        // A folder without config.json does not count.
        try fm.createDirectory(at: source, withIntermediateDirectories: true)
        do {
            _ = try DemoModel.directory(executable: executable, resources: nil, sourceFolder: source)
            Issue.record("expected DemoModelError.notFound")
        } catch let error as DemoModelError {
            guard case .notFound(let searched) = error else { return }
            #expect(searched.count == 4)
            #expect(searched.first?.path == root.appendingPathComponent("bin/\(DemoModel.bundleName).resources/\(DemoModel.name)").path)
            let text = "\(error)"
            for place in searched { #expect(text.contains(place.path)) }
            #expect(text.contains("--model-path"))
        }
    }

    private func temporaryFolder() throws -> URL {
        let url = fm.temporaryDirectory.appendingPathComponent("demo-model-tests-\(UUID().uuidString)")
            .resolvingSymlinksInPath()
        try fm.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    private func makeModel(_ folder: URL) throws -> URL {
        try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = fm.createFile(atPath: folder.appendingPathComponent("config.json").path, contents: Data("{}".utf8))
        return folder.standardizedFileURL
    }
}
