import Foundation
import FuzzDriver

/// What every harness shares: libFuzzer's driver, invariant checks and a reader that turns
/// leading input bytes into choices (split points, options).
public enum Fuzz {
    /// The signature of `LLVMFuzzerTestOneInput`.
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

    /// Runs libFuzzer (fuzzing, or replaying the files named on the command line) over `callback`.
    public static func main(_ callback: Callback) -> Never {
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv, callback))
    }

    /// The input as bytes (libFuzzer may pass a null pointer for an empty input).
    public static func bytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data, size > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }

    /// An invariant of the code under test: on failure, prints `message` and aborts, so that
    /// libFuzzer saves the input as a crash.
    public static func check(_ condition: Bool, _ message: @autoclosure () -> String,
                             file: StaticString = #fileID, line: UInt = #line) {
        guard !condition else { return }
        FileHandle.standardError.write(Data("invariant failed (\(file):\(line)): \(message())\n".utf8))
        abort()
    }
}

/// Takes choices from the front of an input, as libFuzzer's FuzzedDataProvider does; whatever
/// is left is the payload.
public struct FuzzReader {
    public private(set) var bytes: ArraySlice<UInt8>

    public init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    /// The next byte, or 0 once the input is used up.
    public mutating func byte() -> UInt8 { bytes.popFirst() ?? 0 }

    public mutating func bool() -> Bool { byte() & 1 == 1 }

    /// A number in 0..<bound (0 when bound is 0), from one byte or two for large bounds.
    public mutating func int(below bound: Int) -> Int {
        guard bound > 1 else { return 0 }
        let raw = bound > 256 ? Int(byte()) << 8 | Int(byte()) : Int(byte())
        return raw % bound
    }

    /// Everything left.
    public mutating func rest() -> [UInt8] {
        defer { bytes = [] }
        return Array(bytes)
    }
}

extension String {
    /// Splits at the given Unicode-scalar offsets (as the output-parser tests split).
    public func pieces(cuttingAt cuts: [Int]) -> [String] {
        let u = Array(unicodeScalars)
        var out: [String] = []
        var last = 0
        for c in cuts.sorted() where c > last && c < u.count {
            var v = String.UnicodeScalarView(); v.append(contentsOf: u[last..<c]); out.append(String(v))
            last = c
        }
        var v = String.UnicodeScalarView(); v.append(contentsOf: u[last...]); out.append(String(v))
        return out
    }
}

/// Where the repository's files are at run time: `FUZZ_REPO_ROOT`, or found from this source
/// file's path (the harnesses run from the checkout they were built in).
public enum FuzzPaths {
    public static var repoRoot: URL {
        if let root = ProcessInfo.processInfo.environment["FUZZ_REPO_ROOT"] { return URL(fileURLWithPath: root) }
        // …/Fuzz/Sources/FuzzKit/FuzzKit.swift → the repository root.
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }
}

extension FuzzPaths {
    /// A folder of this process's own (in /dev/shm when there is one) for harnesses whose API
    /// reads files; removed at exit. Folders left by crashed runs of `prefix` are removed first.
    public static func scratchFolder(prefix: String) -> URL {
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? URL(fileURLWithPath: "/dev/shm") : FileManager.default.temporaryDirectory
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base.path)) ?? [] where name.hasPrefix(prefix) {
            if let pid = pid_t(name.dropFirst(prefix.count)), kill(pid, 0) != 0, errno == ESRCH {
                try? FileManager.default.removeItem(at: base.appendingPathComponent(name))
            }
        }
        let url = base.appendingPathComponent(prefix + "\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        scratchFolders.append(url)
        if scratchFolders.count == 1 { atexit { for folder in FuzzPaths.scratchFolders { try? FileManager.default.removeItem(at: folder) } } }
        return url
    }

    nonisolated(unsafe) static var scratchFolders: [URL] = []
}
