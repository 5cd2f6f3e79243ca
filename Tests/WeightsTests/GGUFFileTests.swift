import Foundation
import Testing
import Weights

/// Builds GGUF bytes field by field, so that tests can write well-formed files and break them
/// in one place (../shared/spec/gguf.md §1).
struct GGUFBytes {
    var bytes: [UInt8] = []

    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
    mutating func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes += Array(s.utf8) }

    /// Header: magic, version, tensor count, metadata count.
    static func header(version: UInt32 = 3, tensors: UInt64, kvs: UInt64, magic: String = "GGUF") -> GGUFBytes {
        var b = GGUFBytes()
        b.bytes += Array(magic.utf8)
        b.u32(version)
        b.u64(tensors)
        b.u64(kvs)
        return b
    }

    mutating func kvString(_ key: String, _ value: String) { string(key); u32(8); string(value) }
    mutating func kvU32(_ key: String, _ value: UInt32) { string(key); u32(4); u32(value) }

    mutating func tensorInfo(_ name: String, ne: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(ne.count))
        for n in ne { u64(n) }
        u32(type)
        u64(offset)
    }

    /// Zero padding to the next multiple of 32 (the default alignment), then `data`.
    mutating func data(_ data: [UInt8]) {
        while bytes.count % 32 != 0 { bytes.append(0) }
        bytes += data
    }

    func write(_ folder: ScratchFolder, _ name: String) throws -> String {
        let path = folder.url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// A valid file: two metadata keys and one F32 tensor "w" of ne [4, 2] (shape [2, 4]).
func smallGGUF(extraKV: (inout GGUFBytes) -> Void = { _ in }, extraKVCount: UInt64 = 0) -> GGUFBytes {
    var b = GGUFBytes.header(tensors: 1, kvs: 2 + extraKVCount)
    b.kvString("general.architecture", "glm4moe")
    b.kvU32("glm4moe.block_count", 2)
    extraKV(&b)
    b.tensorInfo("w", ne: [4, 2], type: 0, offset: 0)
    b.data((0..<8).flatMap { i in withUnsafeBytes(of: Float(i).bitPattern.littleEndian) { Array($0) } })
    return b
}

@Suite("GGUF files")
struct GGUFFileTests {
    static func error(_ path: String) -> WeightsError? { weightsError(path) { _ = try GGUFFile(path: path) } }

    /// Expects an error whose message names `path` and contains every one of `words`.
    static func expect(_ path: String, _ words: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        guard let message = error(path)?.description else { return }
        #expect(message.contains(path), "\(message)", sourceLocation: sourceLocation)
        for w in words { #expect(message.contains(w), "'\(w)' not in: \(message)", sourceLocation: sourceLocation) }
    }

    @Test func readsMetadataAndTensorViews() throws {
        let folder = ScratchFolder()
        let file = try GGUFFile(path: try smallGGUF().write(folder, "ok.gguf"))
        #expect(file.version == 3)
        #expect(file.metadataKeys == ["general.architecture", "glm4moe.block_count"])
        #expect(file["general.architecture"]?.string == "glm4moe")
        #expect(file["glm4moe.block_count"]?.int == 2)
        #expect(file.alignment == 32)
        let w = try #require(file.tensors["w"])
        #expect(w.shape == [2, 4])  // ne [4, 2], outermost first
        #expect(w.dtype == .f32)
        #expect(w.byteCount == 32)
        #expect((0..<8).map { w.data.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } == (0..<8).map(Float.init))
    }

    @Test func readsEveryValueTypeAndArrays() throws {
        let folder = ScratchFolder()
        let b = smallGGUF(extraKV: { b in
            b.string("u8"); b.u32(0); b.bytes.append(200)
            b.string("i16"); b.u32(3); b.bytes += [0xFE, 0xFF]
            b.string("f32"); b.u32(6); b.u32(Float(1.5).bitPattern)
            b.string("flag"); b.u32(7); b.bytes.append(1)
            b.string("i64"); b.u32(11); b.u64(UInt64(bitPattern: -5))
            b.string("f64"); b.u32(12); b.u64(Double(0.25).bitPattern)
            b.string("names"); b.u32(9); b.u32(8); b.u64(2); b.string("a"); b.string("bc")
            b.string("ints"); b.u32(9); b.u32(5); b.u64(3); b.u32(1); b.u32(UInt32(bitPattern: -2)); b.u32(3)
        }, extraKVCount: 8)
        let file = try GGUFFile(path: try b.write(folder, "types.gguf"))
        #expect(file["u8"] == .uint8(200))
        #expect(file["i16"]?.int == -2)
        #expect(file["f32"]?.double == 1.5)
        #expect(file["flag"]?.bool == true)
        #expect(file["i64"]?.int == -5)
        #expect(file["f64"]?.double == 0.25)
        #expect(file["names"]?.array?.compactMap(\.string) == ["a", "bc"])
        #expect(file["ints"]?.array?.compactMap(\.int) == [1, -2, 3])
    }

    @Test func refusesWhatIsNotAGGUFFile() throws {
        let folder = ScratchFolder()
        Self.expect(try GGUFBytes.header(tensors: 0, kvs: 0, magic: "GGUX").write(folder, "magic.gguf"), "not a GGUF file")
        Self.expect(try GGUFBytes.header(version: 4, tensors: 0, kvs: 0).write(folder, "v4.gguf"), "version 4")
        Self.expect(try GGUFBytes.header(version: 3 << 24, tensors: 0, kvs: 0).write(folder, "be.gguf"), "big-endian")
        Self.expect(try GGUFBytes(bytes: Array("GGUF".utf8)).write(folder, "short.gguf"), "shorter than the 24-byte")
    }

    @Test func truncationAnywhereIsANamedError() throws {
        let folder = ScratchFolder()
        let full = smallGGUF().bytes
        // Every cut inside the header, metadata and tensor infos, and inside the data.
        for cut in stride(from: 24, to: full.count, by: 7) {
            let path = try GGUFBytes(bytes: Array(full.prefix(cut))).write(folder, "cut\(cut).gguf")
            guard let message = Self.error(path)?.description else { continue }
            #expect(message.contains(path))
            #expect(message.contains("truncated") || message.contains("ends") || message.contains("more than"), "\(message)")
        }
    }

    @Test func countsAndLengthsBeyondTheFileAreRefusedBeforeAllocating() throws {
        let folder = ScratchFolder()
        Self.expect(try GGUFBytes.header(tensors: 1 << 40, kvs: 0).write(folder, "tensors.gguf"), "tensor count")
        Self.expect(try GGUFBytes.header(tensors: 0, kvs: UInt64.max).write(folder, "kvs.gguf"), "metadata count")
        var key = GGUFBytes.header(tensors: 0, kvs: 1)
        key.u64(1 << 50)
        Self.expect(try key.write(folder, "key.gguf"), "length of metadata key 0")
        var array = GGUFBytes.header(tensors: 0, kvs: 1)
        array.string("a"); array.u32(9); array.u32(4); array.u64(1 << 40)
        Self.expect(try array.write(folder, "array.gguf"), "element count of 'a'")
    }

    @Test func malformedMetadataIsNamed() throws {
        let folder = ScratchFolder()
        var nested = GGUFBytes.header(tensors: 0, kvs: 1)
        nested.string("n"); nested.u32(9); nested.u32(9); nested.u64(1); nested.u32(4); nested.u64(0)
        Self.expect(try nested.write(folder, "nested.gguf"), "'n' is an array of arrays")
        var type = GGUFBytes.header(tensors: 0, kvs: 1)
        type.string("t"); type.u32(13)
        Self.expect(try type.write(folder, "type.gguf"), "'t' has value type 13")
        var twice = GGUFBytes.header(tensors: 0, kvs: 2)
        twice.kvU32("k", 1); twice.kvU32("k", 2)
        Self.expect(try twice.write(folder, "twice.gguf"), "'k' appears twice")
        var alignment = GGUFBytes.header(tensors: 0, kvs: 1)
        alignment.kvString("general.alignment", "64")
        Self.expect(try alignment.write(folder, "alignment.gguf"), "general.alignment is STRING, expected UINT32")
        var odd = GGUFBytes.header(tensors: 0, kvs: 1)
        odd.kvU32("general.alignment", 24)
        Self.expect(try odd.write(folder, "odd.gguf"), "not a power of two")
    }

    /// One F32 or block tensor with a header that says `ne`, `type` and `offset`, and `data` bytes.
    static func oneTensor(ne: [UInt64], type: UInt32, offset: UInt64 = 0, data: Int) -> GGUFBytes {
        var b = GGUFBytes.header(tensors: 1, kvs: 0)
        b.tensorInfo("blk.0.attn_q.weight", ne: ne, type: type, offset: offset)
        b.data([UInt8](repeating: 0, count: data))
        return b
    }

    @Test func badTensorInfosNameTheTensor() throws {
        let folder = ScratchFolder()
        let name = "blk.0.attn_q.weight"
        Self.expect(try Self.oneTensor(ne: [32, 2], type: 16, data: 0).write(folder, "iq2.gguf"), name, "IQ2_XXS")
        Self.expect(try Self.oneTensor(ne: [32, 2], type: 99, data: 0).write(folder, "t99.gguf"), name, "ggml type 99")
        Self.expect(try Self.oneTensor(ne: [48, 2], type: 12, data: 0).write(folder, "rows.gguf"), name,
                    "48 elements are not whole Q4_K blocks of 256")
        Self.expect(try Self.oneTensor(ne: [4, 2], type: 0, offset: 8, data: 64).write(folder, "align.gguf"), name,
                    "not a multiple of the alignment 32")
        Self.expect(try Self.oneTensor(ne: [4, 2], type: 0, data: 16).write(folder, "short.gguf"), name, "truncated")
        Self.expect(try Self.oneTensor(ne: [4, 2], type: 0, offset: 1 << 40, data: 64).write(folder, "far.gguf"), name, "past the end")
        Self.expect(try Self.oneTensor(ne: [1, 2, 3, 4, 5], type: 0, data: 0).write(folder, "dims.gguf"), name, "5 dimensions")
        Self.expect(try Self.oneTensor(ne: [1 << 40, 1 << 40], type: 0, data: 0).write(folder, "huge.gguf"), name)
        var twice = GGUFBytes.header(tensors: 2, kvs: 0)
        twice.tensorInfo("w", ne: [4], type: 0, offset: 0)
        twice.tensorInfo("w", ne: [4], type: 0, offset: 32)
        twice.data([UInt8](repeating: 0, count: 64))
        Self.expect(try twice.write(folder, "twice.gguf"), "'w'", "appears twice")
    }

    @Test func blockFormatSizesFollowTheBlocks() throws {
        let folder = ScratchFolder()
        // Q4_K: 144 bytes per 256; two rows of 512 = 4 blocks.
        let file = try GGUFFile(path: try Self.oneTensor(ne: [512, 2], type: 12, data: 576).write(folder, "q4k.gguf"))
        let view = try #require(file.tensors["blk.0.attn_q.weight"])
        #expect(view.dtype == .q4_K && view.shape == [2, 512] && view.byteCount == 576)
        // Q5_0: 22 bytes per 32.
        let q5 = try GGUFFile(path: try Self.oneTensor(ne: [64, 3], type: 6, data: 132).write(folder, "q5.gguf"))
        #expect(q5.tensors["blk.0.attn_q.weight"]?.byteCount == 132)
    }

    // MARK: - Split sets and folders

    /// A part of a split set holding tensor `tensor`, with the `split.*` keys.
    static func part(_ no: Int, of count: Int, tensor: String, total: Int, saysNo: Int? = nil) -> GGUFBytes {
        var b = GGUFBytes.header(tensors: 1, kvs: 3)
        b.string("split.no"); b.u32(2); withUnsafeBytes(of: UInt16(saysNo ?? no).littleEndian) { b.bytes += $0 }
        b.string("split.count"); b.u32(2); withUnsafeBytes(of: UInt16(count).littleEndian) { b.bytes += $0 }
        b.string("split.tensors.count"); b.u32(5); b.u32(UInt32(total))
        b.tensorInfo(tensor, ne: [4], type: 0, offset: 0)
        b.data([UInt8](repeating: 0, count: 16))
        return b
    }

    @Test func splitSetsOpenFromAnyPartOrTheFolder() throws {
        let folder = ScratchFolder()
        for no in 0..<3 {
            _ = try Self.part(no, of: 3, tensor: "t\(no)", total: 3).write(folder, "m-0000\(no + 1)-of-00003.gguf")
        }
        for entry in ["m-00002-of-00003.gguf", "m-00001-of-00003.gguf", ""] {
            let model = try GGUFModelFiles(url: folder.url.appendingPathComponent(entry))
            #expect(model.files.count == 3)
            #expect(model.tensorNames == ["t0", "t1", "t2"])
            #expect(model.path.hasSuffix("m-00001-of-00003.gguf"))
        }
        #expect(GGUFModelFiles.isGGUF(folder.url))
    }

    @Test func brokenSplitSetsAreNamed() throws {
        let folder = ScratchFolder()
        _ = try Self.part(0, of: 2, tensor: "a", total: 2).write(folder, "m-00001-of-00002.gguf")
        #expect { try GGUFModelFiles(url: folder.url.appendingPathComponent("m-00001-of-00002.gguf")) } throws: {
            "\($0)".contains("m-00002-of-00002.gguf") && "\($0)".contains("missing")
        }
        _ = try Self.part(0, of: 2, tensor: "b", total: 2, saysNo: 0).write(folder, "m-00002-of-00002.gguf")
        #expect { try GGUFModelFiles(url: folder.url.appendingPathComponent("m-00001-of-00002.gguf")) } throws: {
            "\($0)".contains("split.no is 0, but this is part 2 of 2")
        }
        _ = try Self.part(0, of: 2, tensor: "a", total: 3).write(folder, "m-00001-of-00002.gguf")
        _ = try Self.part(1, of: 2, tensor: "b", total: 3).write(folder, "m-00002-of-00002.gguf")
        #expect { try GGUFModelFiles(url: folder.url) } throws: { "\($0)".contains("split.tensors.count is 3") }
        _ = try Self.part(0, of: 2, tensor: "a", total: 2).write(folder, "m-00001-of-00002.gguf")
        _ = try Self.part(1, of: 2, tensor: "a", total: 2).write(folder, "m-00002-of-00002.gguf")
        #expect { try GGUFModelFiles(url: folder.url) } throws: { "\($0)".contains("'a'") && "\($0)".contains("also present") }
    }

    @Test func aFolderWithSeveralModelsAsksForOne() throws {
        let folder = ScratchFolder()
        _ = try smallGGUF().write(folder, "a-Q4_K_M.gguf")
        _ = try smallGGUF().write(folder, "a-Q8_0.gguf")
        #expect { try GGUFModelFiles(url: folder.url) } throws: {
            "\($0)".contains("2 GGUF models") && "\($0)".contains("a-Q4_K_M.gguf") && "\($0)".contains("--model-path")
        }
        let one = try GGUFModelFiles(url: folder.url.appendingPathComponent("a-Q8_0.gguf"))
        #expect(one.tensorNames == ["w"])
    }
}
