import Foundation
import FuzzKit
import Kernels
import Models
import Weights

/// The GGUF reader on any file: `GGUFFile(path:)` throws a `WeightsError` or opens it; every
/// tensor of an opened file has as many bytes as its shape and type need and lies inside the
/// file (reading and dequantising all of them stays in bounds; ASan and the mapping's end catch
/// a view that does not). Then the glm4moe config and tensor mapping, which must throw only
/// `ModelError` or `WeightsError`. The input is written to `model.gguf` in a folder of this
/// process's own (there is no in-memory API).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    guard FileManager.default.createFile(atPath: file.path, contents: Data(bytes)) else {
        Fuzz.check(false, "cannot write \(file.path)")
        return 0
    }
    let opened: GGUFFile
    do { opened = try GGUFFile(path: file.path) } catch {
        Fuzz.check(error is WeightsError, "GGUFFile threw \(type(of: error)), not a WeightsError")
        return 0
    }
    Fuzz.check(opened.metadataKeys.count == opened.metadata.count, "metadata keys and values disagree")
    for (name, t) in opened.tensors {
        Fuzz.check(t.name == name, "tensor \(name.debugDescription) is named \(t.name.debugDescription)")
        Fuzz.check(t.byteCount == t.dtype.bytes(forElements: t.elementCount), "\(name): \(t.byteCount) bytes for shape \(t.shape)")
        Fuzz.check(t.byteCount <= bytes.count, "\(name): \(t.byteCount) bytes in a file of \(bytes.count)")
        var sum: UInt8 = 0
        for i in 0..<t.byteCount { sum &+= t.data.load(fromByteOffset: i, as: UInt8.self) }
        _ = sum
        if t.byteCount <= 1 << 16, t.dtype.isFloatWeight { _ = try? floatArray(t) }
    }
    do {
        let gguf = try GGUFModelFiles(url: file)
        _ = try? GLM4MoEConfiguration(gguf: gguf)
        let checkpoint = try Checkpoint.glm4moe(gguf: gguf)
        Fuzz.check(checkpoint.totalBytes >= 0, "negative size")
    } catch {
        Fuzz.check(error is WeightsError || error is ModelError, "GGUF model threw \(type(of: error))")
    }
    return 0
}

let folder = FuzzPaths.scratchFolder(prefix: "swift-glm-fuzz-gguf-")
let file = folder.appendingPathComponent("model.gguf")

@main enum FuzzGGUFMain {
    static func main() {
        Fuzz.main(fuzzGGUF)
    }
}
