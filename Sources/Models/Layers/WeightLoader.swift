import Kernels
import Weights

/// Binds checkpoint tensors to model parts with shape checks, handling FP8 scales.
struct WeightLoader {
    let checkpoint: Checkpoint
    let quantization: WeightQuantization

    /// A linear layer `prefix.weight` of shape [rows, cols], with its FP8 scales if quantised.
    func matrix(_ prefix: String, rows: Int, cols: Int) throws -> WeightMatrix {
        let view = try checkpoint.tensor("\(prefix).weight", shape: [rows, cols])
        guard view.dtype == .f8e4m3 else { return try WeightMatrix(view) }
        if let scale = try checkpoint.optionalTensor("\(prefix).weight_scale") {
            guard scale.shape == [rows, 1] || scale.shape == [rows] else {
                throw WeightsError.wrongShape(path: scale.path, tensor: scale.name, expected: [rows, 1], found: scale.shape)
            }
            _ = try checkpoint.optionalTensor("\(prefix).input_scale")  // static activation scale: unused, f32 math
            return try WeightMatrix(view, scale: .perRow(FloatVector(floatArray(scale))))
        }
        if let scale = try checkpoint.optionalTensor("\(prefix).weight_scale_inv") {
            let block: Int
            if case .fp8Block(let size) = quantization { block = size } else { block = 128 }
            let expected = [(rows + block - 1) / block, (cols + block - 1) / block]
            guard scale.shape == expected else {
                throw WeightsError.wrongShape(path: scale.path, tensor: scale.name, expected: expected, found: scale.shape)
            }
            return try WeightMatrix(view, scale: .perBlock(FloatVector(floatArray(scale)), block: block))
        }
        throw WeightsError.missingTensor(name: "\(prefix).weight_scale", directory: checkpoint.directory.path)
    }

    /// A vector such as a norm weight or bias, widened to f32.
    func vector(_ name: String, count: Int) throws -> [Float] {
        try floatArray(checkpoint.tensor(name, shape: [count]))
    }

    func optionalVector(_ name: String, count: Int) throws -> [Float]? {
        try checkpoint.optionalTensor(name, shape: [count]).map(floatArray)
    }
}
