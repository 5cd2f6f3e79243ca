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
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            if errno == ENOENT { throw WeightsError.fileNotFound(path: path) }
            throw WeightsError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw WeightsError.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let size = Int(info.st_size)
        guard size >= 8 else {
            throw WeightsError.corruptHeader(path: path, reason: "file is \(size) bytes, shorter than the 8-byte header length")
        }
        guard let base = mmap(nil, size, PROT_READ, MAP_SHARED, fd, 0), base != MAP_FAILED else {
            throw WeightsError.unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
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

    private static func parse(base: UnsafeRawPointer, size: Int, path: String) throws -> ([String: TensorView], [String: String]) {
        let headerLength = Int(UInt64(littleEndian: base.loadUnaligned(as: UInt64.self)))
        guard headerLength > 0, headerLength <= size - 8 else {
            throw WeightsError.corruptHeader(path: path, reason: "header length \(headerLength) does not fit in a file of \(size) bytes")
        }
        let headerData = Data(bytes: base + 8, count: headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: headerData), let header = json as? [String: Any] else {
            throw WeightsError.corruptHeader(path: path, reason: "header is not a JSON object")
        }
        let dataStart = 8 + headerLength
        let dataLength = size - dataStart
        var tensors: [String: TensorView] = [:]
        var metadata: [String: String] = [:]
        for (name, value) in header {
            if name == "__metadata__" {
                for (key, item) in value as? [String: Any] ?? [:] { metadata[key] = item as? String ?? "\(item)" }
                continue
            }
            guard let entry = value as? [String: Any],
                  let dtypeName = entry["dtype"] as? String,
                  let shapeValues = entry["shape"] as? [Any],
                  let offsets = entry["data_offsets"] as? [Any], offsets.count == 2
            else {
                throw WeightsError.corruptTensor(path: path, tensor: name, reason: "entry lacks dtype, shape or data_offsets")
            }
            guard let dtype = DType(rawValue: dtypeName) else {
                throw WeightsError.unsupportedDType(path: path, tensor: name, dtype: dtypeName)
            }
            let shape = shapeValues.compactMap { ($0 as? NSNumber)?.intValue }
            guard shape.count == shapeValues.count, shape.allSatisfy({ $0 >= 0 }) else {
                throw WeightsError.corruptTensor(path: path, tensor: name, reason: "invalid shape \(shapeValues)")
            }
            guard let begin = (offsets[0] as? NSNumber)?.intValue, let end = (offsets[1] as? NSNumber)?.intValue,
                  begin >= 0, end >= begin
            else {
                throw WeightsError.corruptTensor(path: path, tensor: name, reason: "invalid data_offsets \(offsets)")
            }
            let (elements, overflow) = shape.reduce((1, false)) { acc, dim in
                let (product, o) = acc.0.multipliedReportingOverflow(by: dim)
                return (product, acc.1 || o)
            }
            guard !overflow, elements.multipliedReportingOverflow(by: dtype.byteSize).overflow == false,
                  end - begin == elements * dtype.byteSize
            else {
                throw WeightsError.corruptTensor(path: path, tensor: name,
                    reason: "byte range \(begin)..<\(end) does not match shape \(shape) of \(dtype.rawValue)")
            }
            guard end <= dataLength else {
                throw WeightsError.corruptTensor(path: path, tensor: name,
                    reason: "data ends at byte \(dataStart + end) but the file has \(size) bytes (truncated?)")
            }
            tensors[name] = TensorView(name: name, dtype: dtype, shape: shape, data: base + dataStart + begin,
                                       byteCount: end - begin, path: path)
        }
        return (tensors, metadata)
    }
}
