import Foundation
import FuzzKit
import Weights

/// The safetensors header reader on any file: `SafeTensorsFile(path:)` and `Checkpoint(directory:)`
/// throw a `WeightsError` or open it; every tensor of an opened file lies inside the file, with
/// as many bytes as its shape and dtype need, and reading all of them stays in bounds (ASan and
/// the mapping's end catch a view that does not). There is no in-memory API, so the input is
/// written to `model.safetensors` in a folder of this process's own.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafetensors(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes)) else {
        Fuzz.check(false, "cannot write \(file.path)")
        return 0
    }
    let opened: SafeTensorsFile
    do { opened = try SafeTensorsFile(path: file.path) } catch {
        Fuzz.check(error is WeightsError, "SafeTensorsFile threw \(type(of: error)), not a WeightsError")
        return 0
    }
    for (name, t) in opened.tensors {
        Fuzz.check(t.name == name, "tensor \(name.debugDescription) is named \(t.name.debugDescription)")
        Fuzz.check(t.byteCount == t.elementCount * t.dtype.byteSize, "\(name): \(t.byteCount) bytes for shape \(t.shape)")
        Fuzz.check(t.byteCount <= bytes.count, "\(name): \(t.byteCount) bytes in a file of \(bytes.count)")
        var sum: UInt8 = 0
        for i in 0..<t.byteCount { sum &+= t.data.load(fromByteOffset: i, as: UInt8.self) }
        _ = sum
    }
    do {
        let checkpoint = try Checkpoint(directory: folder)
        Fuzz.check(Set(checkpoint.tensorNames) == Set(opened.tensors.keys), "the checkpoint lists other tensors than its one file")
        for name in checkpoint.tensorNames {
            let t = try checkpoint.tensor(name)
            _ = try? checkpoint.tensor(name, shape: t.shape.reversed())
        }
        _ = checkpoint.totalBytes
    } catch {
        Fuzz.check(error is WeightsError, "Checkpoint threw \(type(of: error)), not a WeightsError")
    }
    return 0
}

let folder = FuzzPaths.scratchFolder(prefix: "swift-glm-fuzz-safetensors-")
let file = folder.appendingPathComponent("model.safetensors")

@main enum FuzzSafetensorsMain {
    static func main() {
        Fuzz.main(fuzzSafetensors)
    }
}
