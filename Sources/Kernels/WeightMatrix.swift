import CKernels
import Weights

/// A [rows, cols] weight matrix kept in its stored dtype inside the mapped checkpoint, plus
/// the f32 FP8 scales where the checkpoint has them (tiny, so they are widened at load).
public struct WeightMatrix: @unchecked Sendable {
    public enum Scale: Sendable {
        case none
        /// One scale per output row (compressed-tensors "channel" FP8).
        case perRow(FloatVector)
        /// One scale per block×block tile (DeepSeek-style block FP8, `weight_scale_inv`).
        case perBlock(FloatVector, block: Int)
    }

    public let name: String
    public let dtype: DType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer
    public let scale: Scale

    public init(_ view: TensorView, scale: Scale = .none) throws {
        guard view.shape.count == 2 else {
            throw WeightsError.corruptTensor(path: view.path, tensor: view.name, reason: "expected a 2-D matrix, found shape \(view.shape)")
        }
        guard view.dtype.isFloatWeight else {
            throw WeightsError.unsupportedDType(path: view.path, tensor: view.name, dtype: view.dtype.rawValue)
        }
        if view.dtype == .f8e4m3, case .none = scale {
            throw WeightsError.corruptTensor(path: view.path, tensor: view.name, reason: "FP8 weight without weight_scale or weight_scale_inv")
        }
        name = view.name
        dtype = view.dtype
        rows = view.shape[0]
        cols = view.shape[1]
        data = view.data
        self.scale = scale
    }

    var dtypeCode: Int32 { dtype.kernelCode }

    /// The C description of this matrix; its pointers live as long as this value.
    var cMatrix: glm_matrix {
        var m = glm_matrix(data: data, dtype: dtypeCode, rows: Int64(rows), cols: Int64(cols),
                           row_scale: nil, block_scale: nil, block: 0)
        switch scale {
        case .none: break
        case .perRow(let v): m.row_scale = UnsafePointer(v.pointer)
        case .perBlock(let v, let block):
            m.block_scale = UnsafePointer(v.pointer)
            m.block = Int64(block)
        }
        return m
    }

    /// Row `row` widened to f32 (dequantised for FP8), e.g. an embedding lookup.
    public func row(_ row: Int, into out: UnsafeMutablePointer<Float>) {
        var m = cMatrix
        withExtendedLifetime(self) { glm_matrix_row_f32(&m, Int64(row), out) }
    }
}

extension DType {
    /// The kernels' code for this dtype (`GLM_DTYPE_*`); the float and block formats only.
    var kernelCode: Int32 {
        switch self {
        case .bf16: Int32(GLM_DTYPE_BF16)
        case .f16: Int32(GLM_DTYPE_F16)
        case .f8e4m3: Int32(GLM_DTYPE_F8E4M3)
        case .q4_0: Int32(GLM_DTYPE_Q4_0)
        case .q4_1: Int32(GLM_DTYPE_Q4_1)
        case .q5_0: Int32(GLM_DTYPE_Q5_0)
        case .q5_1: Int32(GLM_DTYPE_Q5_1)
        case .q8_0: Int32(GLM_DTYPE_Q8_0)
        case .q2_K: Int32(GLM_DTYPE_Q2_K)
        case .q3_K: Int32(GLM_DTYPE_Q3_K)
        case .q4_K: Int32(GLM_DTYPE_Q4_K)
        case .q5_K: Int32(GLM_DTYPE_Q5_K)
        case .q6_K: Int32(GLM_DTYPE_Q6_K)
        case .iq4_NL: Int32(GLM_DTYPE_IQ4_NL)
        case .iq4_XS: Int32(GLM_DTYPE_IQ4_XS)
        default: Int32(GLM_DTYPE_F32)
        }
    }
}

/// Widens a small tensor (norm weights, biases, scales) to f32; block formats are dequantised.
public func floatArray(_ view: TensorView) throws -> [Float] {
    switch view.dtype {
    case .f32, .bf16, .f16, .f8e4m3: break
    case _ where view.dtype.isBlockFormat: break
    case .f64:
        return (0..<view.elementCount).map { Float(view.data.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
    default:
        throw WeightsError.unsupportedDType(path: view.path, tensor: view.name, dtype: view.dtype.rawValue)
    }
    return [Float](unsafeUninitializedCapacity: view.elementCount) { buffer, count in
        glm_convert_to_f32(view.data, view.dtype.kernelCode, Int64(view.elementCount), buffer.baseAddress)
        count = view.elementCount
    }
}

/// An immutable f32 vector with a stable address (biases, norm weights, FP8 scales), so
/// kernels can hold pointers to it for the life of the model.
public final class FloatVector: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(_ values: [Float]) {
        count = values.count
        pointer = .allocate(capacity: max(values.count, 1))
        pointer.initialize(from: values, count: values.count)
    }

    deinit { pointer.deallocate() }

    public subscript(i: Int) -> Float { pointer[i] }
}
