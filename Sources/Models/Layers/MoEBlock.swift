import Kernels

/// Routed experts plus shared experts (spec §3.6). Tokens are grouped by expert so each chosen
/// expert's weights are read once per batch, however many tokens chose it.
struct MoEBlock {
    let router: GroupedTopKRouter
    let experts: [GatedMLP]
    let shared: GatedMLP?

    /// x: [T, H] → out: [T, H].
    func callAsFunction(_ x: UnsafePointer<Float>, tokens T: Int, hidden H: Int, into out: UnsafeMutablePointer<Float>,
                        backend: ComputeBackend) {
        let choices = router.route(x, tokens: T, backend: backend)
        var assigned = [[(token: Int, weight: Float)]](repeating: [], count: experts.count)
        for (t, choice) in choices.enumerated() {
            for (e, w) in zip(choice.experts, choice.weights) { assigned[e].append((t, w)) }
        }
        out.initialize(repeating: 0, count: T * H)
        for (e, members) in assigned.enumerated() where !members.isEmpty {
            let n = members.count
            let gathered = FloatBuffer(n * H), result = FloatBuffer(n * H)
            for (i, m) in members.enumerated() { gathered.row(i, width: H).update(from: x + m.token * H, count: H) }
            experts[e](gathered.pointer, tokens: n, into: result.pointer, backend: backend)  // [n, H]
            for (i, m) in members.enumerated() {
                let src = result.row(i, width: H), dst = out + m.token * H
                for j in 0..<H { dst[j] += m.weight * src[j] }
            }
        }
        if let shared {
            let s = FloatBuffer(T * H)
            shared(x, tokens: T, into: s.pointer, backend: backend)
            addInPlace(out, s.pointer, count: T * H)
        }
    }
}
