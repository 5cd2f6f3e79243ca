import Kernels

/// SwiGLU feed-forward: down(silu(gate(x)) ⊙ up(x)). Used for dense layers, routed experts and
/// shared experts alike.
struct GatedMLP {
    let gate: WeightMatrix  // [I, H]
    let up: WeightMatrix    // [I, H]
    let down: WeightMatrix  // [H, I]

    init(_ loader: WeightLoader, prefix: String, hidden: Int, intermediate: Int) throws {
        gate = try loader.matrix("\(prefix).gate_proj", rows: intermediate, cols: hidden)
        up = try loader.matrix("\(prefix).up_proj", rows: intermediate, cols: hidden)
        down = try loader.matrix("\(prefix).down_proj", rows: hidden, cols: intermediate)
    }

    /// x: [T, H] → out: [T, H].
    func callAsFunction(_ x: UnsafePointer<Float>, tokens T: Int, into out: UnsafeMutablePointer<Float>, backend: ComputeBackend) {
        let I = gate.rows
        let g = FloatBuffer(T * I), u = FloatBuffer(T * I)
        backend.matmul(gate, x, tokens: T, g.pointer, bias: nil)  // [T, I]
        backend.matmul(up, x, tokens: T, u.pointer, bias: nil)    // [T, I]
        siluMultiply(g.pointer, u.pointer, count: T * I)
        backend.matmul(down, g.pointer, tokens: T, out, bias: nil)  // [T, H]
    }
}
