import Foundation

// Cheap per-element operations shared by every backend. Each is O(tokens × width), small next
// to the matrix products, so they stay plain Swift.

/// out[t, :] = x[t, :] / sqrt(mean(x[t, :]²) + eps) · weight, over `rows` rows of `width`.
public func rmsNorm(_ x: UnsafePointer<Float>, rows: Int, width: Int, weight: [Float], eps: Float,
                    into out: UnsafeMutablePointer<Float>) {
    weight.withUnsafeBufferPointer { w in
        for r in 0..<rows {
            let xr = x + r * width, yr = out + r * width
            var sum: Float = 0
            for i in 0..<width { sum += xr[i] * xr[i] }
            let inv = 1 / (sum / Float(width) + eps).squareRoot()
            for i in 0..<width { yr[i] = xr[i] * inv * w[i] }
        }
    }
}

/// NeoX ("rotate_half") rotary embedding on the first `rotaryDim` dims of each head:
/// pairs (j, j + rotaryDim/2). x: [tokens, heads, headDim], rotated in place.
public func applyRotary(_ x: UnsafeMutablePointer<Float>, tokens: Int, heads: Int, headDim: Int,
                        rotaryDim: Int, positions: [Int], inverseFrequencies: [Float]) {
    let half = rotaryDim / 2
    var cosines = [Float](repeating: 0, count: half), sines = cosines
    for t in 0..<tokens {
        let p = Float(positions[t])
        for j in 0..<half {
            let angle = p * inverseFrequencies[j]  // f32, as HF computes it
            cosines[j] = cos(angle)
            sines[j] = sin(angle)
        }
        for h in 0..<heads {
            let v = x + (t * heads + h) * headDim
            for j in 0..<half {
                let a = v[j], b = v[j + half]
                v[j] = a * cosines[j] - b * sines[j]
                v[j + half] = b * cosines[j] + a * sines[j]
            }
        }
    }
}

/// gate[i] = silu(gate[i]) · up[i].
public func siluMultiply(_ gate: UnsafeMutablePointer<Float>, _ up: UnsafePointer<Float>, count: Int) {
    for i in 0..<count {
        let g = gate[i]
        gate[i] = g / (1 + exp(-g)) * up[i]
    }
}

/// Numerically stable softmax in place.
public func softmax(_ x: inout [Float]) {
    guard let maximum = x.max() else { return }
    var sum: Float = 0
    for i in x.indices { x[i] = exp(x[i] - maximum); sum += x[i] }
    for i in x.indices { x[i] /= sum }
}

/// a[i] += b[i].
public func addInPlace(_ a: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, count: Int) {
    for i in 0..<count { a[i] += b[i] }
}
