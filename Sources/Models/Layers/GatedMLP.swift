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
        let hidden = Activations(self, tokens: T)
        backend.matmulBatch(hidden.gateUp(x))
        hidden.activate()
        backend.matmul(down, hidden.gate.pointer, tokens: T, out)  // [T, H]
    }

    /// The intermediate activations of one call, split into steps so several MLPs (the chosen
    /// experts of a MoE layer) can run each step as one batch of products.
    final class Activations {
        let mlp: GatedMLP
        let tokens: Int
        let gate: FloatBuffer  // [T, I]
        let up: FloatBuffer    // [T, I]

        init(_ mlp: GatedMLP, tokens: Int) {
            self.mlp = mlp
            self.tokens = tokens
            gate = FloatBuffer(tokens * mlp.gate.rows)
            up = FloatBuffer(tokens * mlp.up.rows)
        }

        func gateUp(_ x: UnsafePointer<Float>) -> [MatmulItem] {
            [MatmulItem(mlp.gate, x, tokens: tokens, gate.pointer), MatmulItem(mlp.up, x, tokens: tokens, up.pointer)]
        }

        /// gate ← silu(gate) ⊙ up.
        func activate() { siluMultiply(gate.pointer, up.pointer, count: gate.count) }

        func down(into out: UnsafeMutablePointer<Float>) -> MatmulItem {
            MatmulItem(mlp.down, gate.pointer, tokens: tokens, out)
        }
    }
}
