import Foundation
import Testing
import Weights

extension ScratchFolder {
    /// Writes an 8-byte header length `length` (default: that of `header`), the header text as
    /// given (so it may be invalid or repeat keys), then `data`.
    @discardableResult
    func writeRaw(_ name: String, header: String, length: UInt64? = nil, data: [UInt8] = []) throws -> String {
        var bytes = withUnsafeBytes(of: (length ?? UInt64(header.utf8.count)).littleEndian) { Data($0) }
        bytes += Data(header.utf8)
        bytes += data
        let path = url.appendingPathComponent(name).path
        try bytes.write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// The `WeightsError` that opening `path` with `open` throws; an issue if it loads or throws another error.
func weightsError(_ path: String, _ open: () throws -> Void) -> WeightsError? {
    do {
        try open()
        Issue.record("\(path) loaded")
        return nil
    } catch let error as WeightsError {
        return error
    } catch {
        Issue.record("not a WeightsError: \(error)")
        return nil
    }
}

/// The reader must turn every hostile header into a named error: nothing from the file is
/// converted or multiplied unchecked (issue 19: a header length ≥ 2^63 used to trap).
@Suite("hostile safetensors files")
struct HostileFileTests {
    /// The error `SafeTensorsFile(path:)` throws, which must be a `WeightsError`.
    static func error(_ path: String) -> WeightsError? { weightsError(path) { _ = try SafeTensorsFile(path: path) } }

    /// Expects `corruptTensor` for tensor "a" of `path`, with a reason containing `words`.
    static func expectCorruptTensor(_ path: String, _ words: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        let found = error(path)
        guard case .corruptTensor(let p, let tensor, let reason)? = found else {
            Issue.record("expected corruptTensor, got \(String(describing: found))", sourceLocation: sourceLocation)
            return
        }
        #expect(p == path && tensor == "a", sourceLocation: sourceLocation)
        for word in words { #expect(reason.contains(word), "\(reason)", sourceLocation: sourceLocation) }
        #expect(found!.description.hasPrefix(path) && found!.description.contains("'a'"), sourceLocation: sourceLocation)
    }

    static func expectCorruptHeader(_ path: String, _ words: String..., sourceLocation: SourceLocation = #_sourceLocation) {
        let found = error(path)
        guard case .corruptHeader(let p, let reason)? = found else {
            Issue.record("expected corruptHeader, got \(String(describing: found))", sourceLocation: sourceLocation)
            return
        }
        #expect(p == path, sourceLocation: sourceLocation)
        for word in words { #expect(reason.contains(word), "\(reason)", sourceLocation: sourceLocation) }
    }

    @Test("a header length of 2^63 or more is an error, not a trap", arguments: [UInt64(1) << 63, UInt64.max, (UInt64(1) << 63) + 12])
    func hugeHeaderLength(length: UInt64) throws {
        let folder = ScratchFolder()
        let path = try folder.writeRaw("x.safetensors", header: "{}", length: length)
        Self.expectCorruptHeader(path, "header length \(length)", "does not fit")
    }

    @Test("a header over 100 MB is refused before it is read")
    func headerOverLimit() throws {
        let folder = ScratchFolder()
        let length = UInt64(SafeTensorsFile.maxHeaderLength + 1)
        let path = try folder.writeRaw("x.safetensors", header: "{", length: length)
        // Sparse: the file is long enough for the header, but nothing is written past the "{".
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try handle.truncate(atOffset: length + 16)
        try handle.close()
        Self.expectCorruptHeader(path, "over the limit of 100000000 bytes")
    }

    @Test("a header that is JSON but not an object", arguments: ["[]", "\"a\"", "7", "null"])
    func nonObjectHeader(header: String) throws {
        let folder = ScratchFolder()
        let path = try folder.writeRaw("x.safetensors", header: header)
        Self.expectCorruptHeader(path, "not a JSON object")
    }

    @Test("a header nested a million levels deep is an error, not a stack overflow")
    func deepHeader() throws {
        let folder = ScratchFolder()
        let path = try folder.writeRaw("x.safetensors", header: String(repeating: "[", count: 1_000_000) + String(repeating: "]", count: 1_000_000))
        Self.expectCorruptHeader(path, "not valid JSON")
        let shape = try folder.writeRaw("y.safetensors", header: #"{"a":{"dtype":"F32","shape":"# + String(repeating: "[", count: 100_000)
                                        + String(repeating: "]", count: 100_000) + #","data_offsets":[0,0]}}"#)
        Self.expectCorruptHeader(shape, "not valid JSON")
    }

    @Test("a tensor name given twice")
    func duplicateName() throws {
        let folder = ScratchFolder()
        let entry = #"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#
        let path = try folder.writeRaw("x.safetensors", header: #"{"a":\#(entry),"b":{"x":{"a":1}},"a":\#(entry)}"#,
                                       data: [0, 0, 0, 0])
        Self.expectCorruptHeader(path, "\"a\" appears twice")
        // Nested keys and values that spell a name do not count.
        let clean = try folder.writeRaw("y.safetensors", header: #"{"a":\#(entry),"__metadata__":{"a":"a, \"a\""}}"#,
                                        data: [0, 0, 0, 0])
        #expect(try SafeTensorsFile(path: clean).tensors.keys.sorted() == ["a"])
    }

    @Test("__metadata__ that is not an object")
    func badMetadata() throws {
        let folder = ScratchFolder()
        let path = try folder.writeRaw("x.safetensors", header: #"{"__metadata__":[1]}"#)
        Self.expectCorruptHeader(path, "__metadata__")
    }

    @Test("data_offsets out of range or not integers",
          arguments: ["[-4,0]", "[4,0]", "[0,8]", "[0,9223372036854775807]", "[9223372036854775807,9223372036854775807]",
                      "[0,18446744073709551615]", "[0,4.5]", "[0,1e30]", "[false,true]", "[0]", "[0,4,8]", "[\"0\",\"4\"]"])
    func badOffsets(offsets: String) throws {
        let folder = ScratchFolder()
        let path = try folder.writeRaw("x.safetensors", header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":\#(offsets)}}"#,
                                       data: [0, 0, 0, 0])
        Self.expectCorruptTensor(path, "data_offsets")
    }

    @Test("a shape whose byte count overflows Int")
    func shapeOverflow() throws {
        let folder = ScratchFolder()
        for shape in ["[4294967296,4294967296]", "[2305843009213693952]", "[4611686018427387904,2,0]"] {
            let path = try folder.writeRaw("x.safetensors", header: #"{"a":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,4]}}"#,
                                           data: [0, 0, 0, 0])
            // [2^62, 2, 0] has zero elements but its partial product overflows: refused all the same.
            Self.expectCorruptTensor(path, "more bytes than an Int can count")
        }
    }

    @Test("shapes that are not lists of non-negative integers", arguments: ["[-1]", "[1.5]", "[true]", "[1e30]", "[\"4\"]", "4"])
    func badShape(shape: String) throws {
        let folder = ScratchFolder()
        let path = try folder.writeRaw("x.safetensors", header: #"{"a":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,4]}}"#,
                                       data: [0, 0, 0, 0])
        let found = Self.error(path)
        guard case .corruptTensor(_, "a", _)? = found else {
            Issue.record("expected corruptTensor for shape \(shape), got \(String(describing: found))")
            return
        }
    }

    @Test("a byte count that disagrees with dtype × elements names both")
    func byteCountMismatch() throws {
        let folder = ScratchFolder()
        let path = try folder.writeRaw("x.safetensors", header: #"{"a":{"dtype":"BF16","shape":[3],"data_offsets":[0,4]}}"#,
                                       data: [0, 0, 0, 0])
        Self.expectCorruptTensor(path, "hold 4 bytes", "needs 6")
    }

    @Test("an unknown dtype is named")
    func unknownDType() throws {
        let folder = ScratchFolder()
        let path = try folder.writeRaw("x.safetensors", header: #"{"a":{"dtype":"F4","shape":[1],"data_offsets":[0,1]}}"#, data: [0])
        #expect(throws: WeightsError.unsupportedDType(path: path, tensor: "a", dtype: "F4")) { try SafeTensorsFile(path: path) }
    }

    @Test("a folder where a weights file belongs")
    func directoryAsFile() throws {
        let folder = ScratchFolder()
        let path = folder.url.appendingPathComponent("x.safetensors").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        #expect(throws: WeightsError.unreadable(path: path, reason: "not a regular file")) { try SafeTensorsFile(path: path) }
    }

    // MARK: - Shard index

    static func writeIndex(_ folder: ScratchFolder, _ weightMap: [String: String]) throws -> String {
        let url = folder.url.appendingPathComponent("model.safetensors.index.json")
        try JSONSerialization.data(withJSONObject: ["weight_map": weightMap]).write(to: url)
        return url.path
    }

    @Test("an index with no tensors, or with a shard name that is not a plain file name")
    func badShardNames() throws {
        for map in [[:], ["a": ""], ["a": "../x.safetensors"], ["a": "/etc/passwd"], ["a": ".hidden"]] {
            let folder = ScratchFolder()
            let index = try Self.writeIndex(folder, map)
            #expect {
                try Checkpoint(directory: folder.url)
            } throws: { error in
                guard case WeightsError.badIndex(let path, _) = error else { return false }
                return path == index
            }
        }
    }

    @Test("an index naming a shard that does not exist names the shard")
    func missingShard() throws {
        let folder = ScratchFolder()
        _ = try Self.writeIndex(folder, ["a": "model-00001-of-00002.safetensors"])
        #expect(throws: WeightsError.fileNotFound(path: folder.url.appendingPathComponent("model-00001-of-00002.safetensors").path)) {
            try Checkpoint(directory: folder.url)
        }
    }

    @Test("an index placing a tensor in the wrong shard")
    func wrongShard() throws {
        let folder = ScratchFolder()
        let entry: [String: Any] = ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]
        let one = try folder.write("one.safetensors", header: ["a": entry], data: [0, 0, 0, 0])
        try folder.write("two.safetensors", header: ["b": entry], data: [0, 0, 0, 0])
        _ = try Self.writeIndex(folder, ["a": "two.safetensors", "b": "two.safetensors"])
        // "one" is not in the index, so it is not opened: "a" is missing from the shard the index names.
        #expect { try Checkpoint(directory: folder.url) } throws: { error in
            guard case WeightsError.corruptTensor(let path, "a", let reason) = error else { return false }
            return path.hasSuffix("two.safetensors") && reason.contains("model.safetensors.index.json")
        }
        _ = one
    }

    @Test("the same tensor in two shards names both files")
    func duplicateAcrossShards() throws {
        let folder = ScratchFolder()
        let entry: [String: Any] = ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]
        try folder.write("one.safetensors", header: ["a": entry], data: [0, 0, 0, 0])
        try folder.write("two.safetensors", header: ["a": entry], data: [0, 0, 0, 0])
        #expect { try Checkpoint(directory: folder.url) } throws: { error in
            guard case WeightsError.corruptTensor(let path, "a", let reason) = error else { return false }
            return path.hasSuffix(".safetensors") && reason.contains("also present in")
        }
    }
}
