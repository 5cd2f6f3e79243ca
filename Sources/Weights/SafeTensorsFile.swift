import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A tensor inside a memory-mapped file: raw bytes in their stored dtype, never copied.
public struct TensorView: @unchecked Sendable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    public let data: UnsafeRawPointer
    public let byteCount: Int
    /// The file the tensor lives in, for error messages.
    public let path: String

    public var elementCount: Int { shape.reduce(1, *) }

    public init(name: String, dtype: DType, shape: [Int], data: UnsafeRawPointer, byteCount: Int, path: String) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.data = data
        self.byteCount = byteCount
        self.path = path
    }
}

/// One `.safetensors` file, memory-mapped read-only for as long as this object lives.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`),
/// then the tensor bytes; offsets are relative to the end of the header.
public final class SafeTensorsFile: @unchecked Sendable {
    public let path: String
    public let tensors: [String: TensorView]
    public let metadata: [String: String]
    private let mapping: UnsafeMutableRawPointer?
    private let mappedLength: Int

    public init(path: String) throws {
        self.path = path
        let (base, size) = try mapReadOnly(path, minimumSize: 8) {
            WeightsError.corruptHeader(path: path, reason: "file is \($0) bytes, shorter than the 8-byte header length")
        }
        mapping = base
        mappedLength = size
        do {
            (tensors, metadata) = try Self.parse(base: UnsafeRawPointer(base), size: size, path: path)
        } catch {
            munmap(base, size)
            throw error
        }
    }

    deinit {
        if let mapping { munmap(mapping, mappedLength) }
    }

    /// Tells the kernel that the mapping is read at scattered places (`true`: each page fault
    /// reads that page, not the usual read-around), or sequentially again (`false`). A sampled
    /// weight check reads a few pages per tensor; read-around would multiply that many times.
    func adviseRandomAccess(_ random: Bool) {
        if let mapping { _ = madvise(mapping, mappedLength, random ? MADV_RANDOM : MADV_NORMAL) }
    }

    /// The largest header accepted, as in the `safetensors` crate (`MAX_HEADER_SIZE`): a
    /// length beyond it is corruption, and reading it would allocate without bound.
    public static let maxHeaderLength = 100_000_000

    private static func parse(base: UnsafeRawPointer, size: Int, path: String) throws -> ([String: TensorView], [String: String]) {
        // The length is a UInt64 from the file: compare it before making it an Int (≥ 2^63 would trap).
        let rawLength = UInt64(littleEndian: base.loadUnaligned(as: UInt64.self))
        guard rawLength > 0, rawLength <= UInt64(size - 8) else {
            throw WeightsError.corruptHeader(path: path, reason: "header length \(rawLength) does not fit in a file of \(size) bytes")
        }
        guard rawLength <= UInt64(maxHeaderLength) else {
            throw WeightsError.corruptHeader(path: path, reason: "header length \(rawLength) is over the limit of \(maxHeaderLength) bytes")
        }
        let headerLength = Int(rawLength)
        let headerBytes = UnsafeRawBufferPointer(start: base + 8, count: headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: Data(headerBytes), options: .fragmentsAllowed) else {
            throw WeightsError.corruptHeader(path: path, reason: "header is not valid JSON (or is nested too deeply)")
        }
        guard let header = json as? [String: Any] else {
            throw WeightsError.corruptHeader(path: path, reason: "header is not a JSON object")
        }
        if let name = duplicateTopLevelKey(headerBytes) {
            throw WeightsError.corruptHeader(path: path, reason: "name \"\(name)\" appears twice in the header")
        }
        let dataStart = 8 + headerLength
        let dataLength = size - dataStart
        var tensors: [String: TensorView] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                guard let items = value as? [String: Any] else {
                    throw WeightsError.corruptHeader(path: path, reason: "__metadata__ is not an object of strings")
                }
                for (key, item) in items { metadata[key] = item as? String ?? "\(item)" }
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shapeValues = entry["shape"] as? [Any],
                  let offsets = entry["data_offsets"] as? [Any]
            else {
                throw WeightsError.corruptTensor(path: path, tensor: name, reason: "entry lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName), dtype.isSafetensorsType else {
                throw WeightsError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
            }
            let shape = shapeValues.compactMap(exactInt)
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw WeightsError.corruptTensor(path: path, tensor: name,
                    reason: "shape \(shapeValues) is not a list of non-negative integers")
            }
            guard offsets.count == 2, let begin = exactInt(offsets[0]), let end = exactInt(offsets[1]) else {
                throw WeightsError.corruptTensor(path: path, tensor: name,
                    reason: "data_offsets \(offsets) is not a pair of integers [begin, end]")
            }
            guard begin >= 0, end >= begin else {
                throw WeightsError.corruptTensor(path: path, tensor: name,
                    reason: "data_offsets [\(begin), \(end)] must satisfy 0 <= begin <= end")
            }
            guard end <= dataLength else {
                throw WeightsError.corruptTensor(path: path, tensor: name,
                    reason: "data_offsets end \(end) is past the \(dataLength) bytes of data after the header (truncated?)")
            }
            var elements = 1, overflow = false
            for dim in shape where !overflow { (elements, overflow) = elements.multipliedReportingOverflow(by: dim) }
            let (bytes, bytesOverflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow, !bytesOverflow else {
                throw WeightsError.corruptTensor(path: path, tensor: name,
                    reason: "shape \(shape) of \(dtype.rawValue) has more bytes than an Int can count")
            }
            guard end - begin == bytes else {
                throw WeightsError.corruptTensor(path: path, tensor: name,
                    reason: "data_offsets [\(begin), \(end)] hold \(end - begin) bytes, but shape \(shape) of \(dtype.rawValue) needs \(bytes)")
            }
            tensors[name] = TensorView(name: name, dtype: dtype, shape: shape, data: base + dataStart + begin,
                                       byteCount: bytes, path: path)
        }
        return (tensors, metadata)
    }

    /// An integer written as a JSON number (2.0 counts; true, 1.5 and numbers beyond Int do not).
    private static func exactInt(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }  // "c": a JSON bool
        return Int(exactly: number)
    }

    /// The first top-level key of the JSON object `json` that occurs twice, as written (escapes
    /// kept), or nil. JSONSerialization silently keeps the last of equal keys; a safetensors
    /// header with two entries of one name is corrupt. `json` must already be valid JSON.
    static func duplicateTopLevelKey(_ json: UnsafeRawBufferPointer) -> String? {
        let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\")
        var seen = Set<[UInt8]>()
        var depth = 0, expectKey = false, i = 0
        while i < json.count {
            let c = json[i]
            if c == quote {
                var j = i + 1
                while j < json.count, json[j] != quote { j += json[j] == backslash ? 2 : 1 }
                if depth == 1, expectKey {
                    let key = Array(json[(i + 1)..<min(j, json.count)])
                    if !seen.insert(key).inserted { return String(decoding: key, as: UTF8.self) }
                }
                expectKey = false
                i = j + 1
                continue
            }
            switch c {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                expectKey = depth == 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
            case UInt8(ascii: ","): expectKey = depth == 1
            default: break
            }
            i += 1
        }
        return nil
    }
}
