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
        // Every chosen expert (and the shared expert) runs as two batches of products:
        // gate+up for all, then down for all, so threads balance across experts.
        var calls: [(activations: GatedMLP.Activations, input: FloatBuffer?, result: FloatBuffer, members: [(token: Int, weight: Float)])] = []
        for (e, members) in assigned.enumerated() where !members.isEmpty {
            let gathered = FloatBuffer(members.count * H)
            for (i, m) in members.enumerated() { gathered.row(i, width: H).update(from: x + m.token * H, count: H) }
            calls.append((GatedMLP.Activations(experts[e], tokens: members.count), gathered, FloatBuffer(members.count * H), members))
        }
        if let shared { calls.append((GatedMLP.Activations(shared, tokens: T), nil, FloatBuffer(T * H), [])) }
        backend.matmulBatch(calls.flatMap { $0.activations.gateUp($0.input.map { UnsafePointer($0.pointer) } ?? x) })
        for call in calls { call.activations.activate() }
        backend.matmulBatch(calls.map { $0.activations.down(into: $0.result.pointer) })  // [n, H] each

        if shared != nil { out.update(from: calls.last!.result.pointer, count: T * H) }
        else { out.initialize(repeating: 0, count: T * H) }
        var routed = [Float](repeating: 0, count: T * H)  // Σ_k w_k · expert_k(x), in expert order as HF adds them
        for call in calls where !call.members.isEmpty {
            for (i, m) in call.members.enumerated() {
                let src = call.result.row(i, width: H)
                for j in 0..<H { routed[m.token * H + j] += m.weight * src[j] }
            }
        }
        for i in 0..<T * H { out[i] = routed[i] + out[i] }
    }
}
