import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A metadata value of a GGUF file (../shared/spec/gguf.md §1.3), with its stored type.
public indirect enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case uint64(UInt64), int64(Int64), float32(Float), float64(Double), bool(Bool), string(String)
    case array([GGUFValue])

    /// Any integer type whose value fits an Int (the converter writes counts as u32 or u64).
    public var int: Int? {
        switch self {
        case .uint8(let v): Int(v)
        case .int8(let v): Int(v)
        case .uint16(let v): Int(v)
        case .int16(let v): Int(v)
        case .uint32(let v): Int(v)
        case .int32(let v): Int(v)
        case .uint64(let v): Int(exactly: v)
        case .int64(let v): Int(v)
        default: nil
        }
    }

    /// A float, or an integer read as one.
    public var double: Double? {
        switch self {
        case .float32(let v): Double(v)
        case .float64(let v): v
        default: int.map(Double.init)
        }
    }

    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var string: String? { if case .string(let v) = self { v } else { nil } }
    public var array: [GGUFValue]? { if case .array(let v) = self { v } else { nil } }

    /// The type's name in the spec's table, for error messages.
    public var typeName: String {
        switch self {
        case .uint8: "UINT8"
        case .int8: "INT8"
        case .uint16: "UINT16"
        case .int16: "INT16"
        case .uint32: "UINT32"
        case .int32: "INT32"
        case .uint64: "UINT64"
        case .int64: "INT64"
        case .float32: "FLOAT32"
        case .float64: "FLOAT64"
        case .bool: "BOOL"
        case .string: "STRING"
        case .array: "ARRAY"
        }
    }
}

/// ggml's tensor type ids (../shared/spec/gguf.md §1.6): the dtype each id reads as, and the
/// names of those swift-glm cannot read, for error messages.
public enum GGMLType {
    public static func dtype(id: UInt32) -> DType? {
        switch id {
        case 0: .f32
        case 1: .f16
        case 2: .q4_0
        case 3: .q4_1
        case 6: .q5_0
        case 7: .q5_1
        case 8: .q8_0
        case 10: .q2_K
        case 11: .q3_K
        case 12: .q4_K
        case 13: .q5_K
        case 14: .q6_K
        case 20: .iq4_NL
        case 23: .iq4_XS
        case 24: .i8
        case 25: .i16
        case 26: .i32
        case 27: .i64
        case 28: .f64
        case 30: .bf16
        default: nil
        }
    }

    public static func name(id: UInt32) -> String {
        let names: [UInt32: String] = [
            9: "Q8_1", 15: "Q8_K", 16: "IQ2_XXS", 17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 21: "IQ3_S", 22: "IQ2_S",
            29: "IQ1_M", 34: "TQ1_0", 35: "TQ2_0", 39: "MXFP4", 40: "NVFP4",
        ]
        return dtype(id: id)?.rawValue ?? names[id] ?? "ggml type \(id)"
    }
}

/// One `.gguf` file, memory-mapped read-only for as long as this object lives: its metadata and
/// its tensors as views into the mapping, never copied. Every length, count and offset read from
/// the file is checked against the file's size before it is used, so a corrupt or hostile file
/// gives `WeightsError` naming the file (and tensor), never a crash or an unbounded allocation.
///
/// Tensor shapes are given outermost first, as safetensors and PyTorch give them: GGUF's
/// `ne = [in, out]` is shape `[out, in]`, a stacked expert tensor `ne = [in, out, E]` is `[E, out, in]`.
public final class GGUFFile: @unchecked Sendable {
    public let path: String
    public let version: UInt32
    /// Metadata keys in file order, and their values.
    public let metadataKeys: [String]
    public let metadata: [String: GGUFValue]
    /// Tensor names in file order, and their views.
    public let tensorNames: [String]
    public let tensors: [String: TensorView]
    public let alignment: Int
    private let mapping: UnsafeMutableRawPointer
    private let mappedLength: Int

    /// ggml's limits on a string and an array (`gguf.cpp`).
    public static let maxStringBytes = 1 << 30
    public static let maxArrayElements = 1 << 30

    public init(path: String) throws {
        self.path = path
        let (base, size) = try mapReadOnly(path, minimumSize: 24) {
            WeightsError.corruptGGUF(path: path, reason: "file is \($0) bytes, shorter than the 24-byte GGUF header")
        }
        mapping = base
        mappedLength = size
        do {
            var reader = Reader(base: UnsafeRawPointer(base), size: size, path: path)
            let parsed = try Self.parse(&reader)
            (version, metadataKeys, metadata, tensorNames, tensors, alignment) = parsed
        } catch {
            munmap(base, size)
            throw error
        }
    }

    deinit { munmap(mapping, mappedLength) }

    /// The metadata value `key`, or nil.
    public subscript(key: String) -> GGUFValue? { metadata[key] }

    // MARK: - Parsing

    private struct Reader {
        let base: UnsafeRawPointer
        let size: Int
        let path: String
        var offset = 0

        var remaining: Int { size - offset }

        func fail(_ reason: String) -> WeightsError { .corruptGGUF(path: path, reason: reason) }

        mutating func bytes(_ n: Int, _ what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
            guard n >= 0, n <= remaining else {
                throw fail("\(what()) at byte \(offset) needs \(n) bytes, but the file ends after \(remaining) (truncated?)")
            }
            defer { offset += n }
            return UnsafeRawBufferPointer(start: base + offset, count: n)
        }

        mutating func scalar<T: FixedWidthInteger>(_: T.Type, _ what: @autoclosure () -> String) throws -> T {
            let raw = try bytes(MemoryLayout<T>.size, what())
            return T(littleEndian: raw.loadUnaligned(as: T.self))
        }

        /// A u64 count or size, as an Int no larger than `limit`.
        mutating func count(_ what: @autoclosure () -> String, limit: Int) throws -> Int {
            let at = offset
            let raw = try scalar(UInt64.self, what())
            guard raw <= UInt64(limit) else {
                throw fail("\(what()) at byte \(at) is \(raw), more than the \(limit) the file can hold")
            }
            return Int(raw)
        }

        mutating func string(_ what: @autoclosure () -> String) throws -> String {
            let n = try count("length of \(what())", limit: min(remaining, GGUFFile.maxStringBytes))
            return String(decoding: try bytes(n, what()), as: UTF8.self)
        }
    }

    private static func parse(_ r: inout Reader) throws
        -> (UInt32, [String], [String: GGUFValue], [String], [String: TensorView], Int) {
        let magic = try r.bytes(4, "magic")
        guard Array(magic) == Array("GGUF".utf8) else {
            throw r.fail("not a GGUF file (the first four bytes are \(Array(magic).map { String(format: "%02x", $0) }.joined(separator: " ")), expected 47 47 55 46 \"GGUF\")")
        }
        let version = try r.scalar(UInt32.self, "version")
        if version & 0xFFFF == 0 && version != 0 {
            throw r.fail("version field \(version) looks byte-swapped: big-endian GGUF files are not supported")
        }
        guard version == 2 || version == 3 else {
            throw r.fail("GGUF version \(version) is not supported (versions 2 and 3 are)")
        }
        // Each tensor info takes at least 24 bytes and each KV at least 13: counts beyond that
        // cannot be real, and must not size an allocation.
        let tensorCount = try r.count("tensor count", limit: r.remaining / 24)
        let kvCount = try r.count("metadata count", limit: r.remaining / 13)
        var keys: [String] = []
        var metadata: [String: GGUFValue] = [:]
        for index in 0..<kvCount {
            let key = try r.string("metadata key \(index)")
            guard !key.isEmpty else { throw r.fail("metadata key \(index) is empty") }
            guard metadata[key] == nil else { throw r.fail("metadata key '\(key)' appears twice") }
            let type = try r.scalar(UInt32.self, "type of '\(key)'")
            metadata[key] = try value(type: type, key: key, &r, nested: false)
            keys.append(key)
        }
        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard case .uint32(let v) = a else {
                throw r.fail("general.alignment is \(a.typeName), expected UINT32")
            }
            guard v > 0, v & (v - 1) == 0 else { throw r.fail("general.alignment \(v) is not a power of two") }
            alignment = Int(v)
        }
        struct Info { let name: String; let dtype: DType; let shape: [Int]; let offset: Int; let bytes: Int }
        var infos: [Info] = []
        var seen = Set<String>()
        for index in 0..<tensorCount {
            let name = try r.string("name of tensor \(index)")
            func bad(_ reason: String) -> WeightsError { .corruptTensor(path: r.path, tensor: name, reason: reason) }
            guard !name.isEmpty else { throw r.fail("tensor \(index) has an empty name") }
            guard seen.insert(name).inserted else { throw bad("appears twice in the tensor list") }
            let dims = try r.scalar(UInt32.self, "dimension count of '\(name)'")
            guard (1...4).contains(dims) else { throw bad("has \(dims) dimensions; GGUF allows 1 to 4") }
            var ne: [Int] = []
            for d in 0..<Int(dims) {
                let n = try r.scalar(UInt64.self, "ne[\(d)] of '\(name)'")
                guard n <= UInt64(Int32.max) * 64 else { throw bad("ne[\(d)] = \(n) is not a plausible dimension") }
                ne.append(Int(n))
            }
            let typeId = try r.scalar(UInt32.self, "type of '\(name)'")
            let offset = try r.scalar(UInt64.self, "offset of '\(name)'")
            guard let dtype = GGMLType.dtype(id: typeId) else {
                throw WeightsError.unsupportedDType(path: r.path, tensor: name, dtype: GGMLType.name(id: typeId))
            }
            guard ne[0] % dtype.blockElements == 0 else {
                throw bad("rows of \(ne[0]) elements are not whole \(dtype.rawValue) blocks of \(dtype.blockElements)")
            }
            var elements = 1, overflow = false
            for n in ne where !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: n) }
            guard !overflow, let bytes = dtype.bytes(forElements: elements) else {
                throw bad("shape \(ne) has more bytes than an Int can count")
            }
            guard offset % UInt64(alignment) == 0 else {
                throw bad("data offset \(offset) is not a multiple of the alignment \(alignment)")
            }
            guard offset <= UInt64(r.size) else { throw bad("data offset \(offset) is past the end of the \(r.size)-byte file (truncated?)") }
            infos.append(Info(name: name, dtype: dtype, shape: ne.reversed(), offset: Int(offset), bytes: bytes))
        }
        let dataStart = (r.offset + alignment - 1) / alignment * alignment
        let dataBytes = r.size - min(dataStart, r.size)
        var tensors: [String: TensorView] = [:]
        for info in infos {
            guard info.offset <= dataBytes, info.bytes <= dataBytes - info.offset else {
                throw WeightsError.corruptTensor(path: r.path, tensor: info.name,
                    reason: "its \(info.bytes) bytes at data offset \(info.offset) end past the \(dataBytes) bytes of tensor data (truncated?)")
            }
            tensors[info.name] = TensorView(name: info.name, dtype: info.dtype, shape: info.shape,
                                            data: r.base + dataStart + info.offset, byteCount: info.bytes, path: r.path)
        }
        return (version, keys, metadata, infos.map(\.name), tensors, alignment)
    }

    private static func value(type: UInt32, key: String, _ r: inout Reader, nested: Bool) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try r.scalar(UInt8.self, key))
        case 1: return .int8(try r.scalar(Int8.self, key))
        case 2: return .uint16(try r.scalar(UInt16.self, key))
        case 3: return .int16(try r.scalar(Int16.self, key))
        case 4: return .uint32(try r.scalar(UInt32.self, key))
        case 5: return .int32(try r.scalar(Int32.self, key))
        case 6: return .float32(Float(bitPattern: try r.scalar(UInt32.self, key)))
        case 7: return .bool(try r.scalar(UInt8.self, key) != 0)
        case 8: return .string(try r.string("value of '\(key)'"))
        case 9:
            guard !nested else { throw r.fail("'\(key)' is an array of arrays, which ggml does not read") }
            let elementType = try r.scalar(UInt32.self, "element type of '\(key)'")
            let minimum = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 10: 8, 11: 8, 12: 8][Int(elementType)] ?? 1
            let n = try r.count("element count of '\(key)'", limit: min(r.remaining / minimum, maxArrayElements))
            var values: [GGUFValue] = []
            values.reserveCapacity(n)
            for _ in 0..<n { values.append(try value(type: elementType, key: key, &r, nested: true)) }
            return .array(values)
        case 10: return .uint64(try r.scalar(UInt64.self, key))
        case 11: return .int64(try r.scalar(Int64.self, key))
        case 12: return .float64(Double(bitPattern: try r.scalar(UInt64.self, key)))
        default: throw r.fail("'\(key)' has value type \(type); GGUF defines 0 to 12")
        }
    }
}
