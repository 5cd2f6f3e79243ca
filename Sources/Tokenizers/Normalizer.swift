import Foundation

/// The HF normalizers we support: the Unicode normal forms, alone or in a `Sequence`.
/// GLM and most byte-level BPE models have none.
///
/// HF normalizes with `unicode-normalization-alignments`, whose tables are Unicode 9.0: it leaves
/// characters assigned later untouched (no decomposition, combining class 0). Foundation knows
/// newer Unicode, so we normalize only the runs between such characters and keep them verbatim;
/// a class-0 character blocks reordering and composition across it, so this is exact.
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case sequence([Normalizer])

    func apply(_ s: String) -> String {
        if case .sequence(let list) = self { return list.reduce(s) { $1.apply($0) } }
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }  // ASCII is invariant under all forms
        var out = ""
        var run = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if let age = u.properties.age, age.major < 10 {
                run.append(u)
            } else {
                out += form(String(run))
                run.removeAll()
                out.unicodeScalars.append(u)
            }
        }
        out += form(String(run))
        return out
    }

    private func form(_ s: String) -> String {
        switch self {
        case .nfc: return s.precomposedStringWithCanonicalMapping
        case .nfd: return s.decomposedStringWithCanonicalMapping
        case .nfkc: return s.precomposedStringWithCompatibilityMapping
        case .nfkd: return s.decomposedStringWithCompatibilityMapping
        case .sequence: return apply(s)
        }
    }
}
