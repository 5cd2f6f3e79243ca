import ArgumentParser
import Engine
import Models

/// SGLang's `--speculative-*` flags, shared by `glm serve`, `glm generate`, `glm chat` and
/// `glm bench`: decoding with drafts from the checkpoint's own MTP layer, one chain per round.
struct SpeculativeOptions: ParsableArguments {
    @Option(name: .customLong("speculative-algorithm"),
            help: "EAGLE, NEXTN or MTP: decode with drafts from the checkpoint's MTP layer.")
    var algorithm: String?

    @Option(name: .customLong("speculative-num-steps"),
            help: "Tokens the MTP layer drafts per round, a chain (default 3, or --speculative-num-draft-tokens - 1).")
    var numSteps: Int?

    @Option(name: .customLong("speculative-eagle-topk"), help: "Draft branches per step (always one chain here).")
    var eagleTopk: Int?

    @Option(name: .customLong("speculative-num-draft-tokens"), help: "Tokens verified per round: the drafts and one more.")
    var numDraftTokens: Int?

    @Option(name: .customLong("speculative-draft-model-path"), help: "A separate draft model: not supported; the MTP layer drafts.")
    var draftModelPath: String?

    func validate() throws { _ = try draftTokens }

    /// The flags as the MTP layer's drafts per round (0: off). EAGLE and NEXTN are SGLang's
    /// names for drafting with the checkpoint's own MTP layer; others need another model.
    /// Without a step count, 3 drafts: the GLM-4.5 model card's setting.
    var draftTokens: Int {
        get throws {
            guard let algorithm else { return 0 }
            guard ["EAGLE", "NEXTN", "MTP"].contains(algorithm.uppercased()) else {
                throw ValidationError("--speculative-algorithm \(algorithm): only drafts from the checkpoint's own MTP layer are "
                                      + "supported (EAGLE, NEXTN or MTP)")
            }
            let drafts = numSteps ?? numDraftTokens.map { $0 - 1 } ?? 3, most = EngineOptions.maxSpeculativeDraftTokens
            guard (1...most).contains(drafts) else {
                throw ValidationError(numSteps == nil ? "--speculative-num-draft-tokens must be between 2 and \(most + 1)"
                                                      : "--speculative-num-steps must be between 1 and \(most)")
            }
            return drafts
        }
    }

    /// One line per accepted flag that does not do here what it does in SGLang.
    var notes: [String] {
        var out: [String] = []
        if algorithm == nil {
            if numSteps != nil || eagleTopk != nil || numDraftTokens != nil {
                out.append("--speculative-num-*: no effect without --speculative-algorithm")
            }
        } else {
            let drafts = (try? draftTokens) ?? 0
            if let k = eagleTopk, k > 1 {
                out.append("--speculative-eagle-topk \(k): the MTP layer drafts one chain here, not a tree")
            }
            if let n = numDraftTokens, numSteps != nil, n != drafts + 1 {
                out.append("--speculative-num-draft-tokens \(n): a chain of \(drafts) drafts verifies \(drafts + 1) tokens per round")
            }
        }
        if draftModelPath != nil { out.append("--speculative-draft-model-path: ignored; the MTP layer of --model-path drafts") }
        return out
    }

    /// `drafts` per round for `model`, with a line for `notice` saying what speculation does: a
    /// checkpoint without an MTP layer decodes one token per step rather than failing.
    static func drafts(_ drafts: Int, for model: GLM4MoEModel, notice: (String) -> Void) -> Int {
        guard drafts > 0 else { return 0 }
        guard model.hasMTPLayer else {
            let layer = "model.layers.\(model.config.numHiddenLayers).*"
            notice("--speculative-algorithm: the checkpoint has no MTP layer (\(layer)); decoding one token per step")
            return 0
        }
        notice("--speculative-algorithm: the MTP layer drafts \(drafts) tokens per round")
        return drafts
    }
}
