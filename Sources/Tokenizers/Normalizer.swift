import Foundation

/// The HF normalizers we support: the Unicode normal forms, alone or in a `Sequence`.
/// GLM and most byte-level BPE models have none.
///
/// Matching HF exactly takes three corrections to Foundation (all found by differential fuzzing
/// against tokenizers 0.23):
/// * HF normalizes with `unicode-normalization-alignments`, whose tables are Unicode 9.0: it
///   leaves later characters untouched (no decomposition, combining class 0). We normalize only
///   the runs between such characters; a class-0 character blocks reordering and composition
///   across it, so this is exact.
/// * Foundation's compatibility decomposition does not reorder marks that follow an expanded
///   character (NFKD of U+0385 U+0B3C keeps U+0308 before the nukta). We decompose with
///   Foundation, reorder canonically ourselves, then compose.
/// * Foundation composes a leading jamo outside the modern L/V/T ranges (U+1113 U+1176) into
///   U+FFFD. Such archaic jamo never compose, so they are kept verbatim like new characters.
indirect enum Normalizer: Sendable {
    case nfc, nfd, nfkc, nfkd
    case sequence([Normalizer])

    func apply(_ s: String) -> String {
        if case .sequence(let list) = self { return list.reduce(s) { $1.apply($0) } }
        if s.utf8.allSatisfy({ $0 < 0x80 }) { return s }  // ASCII is invariant under all forms
        var out = ""
        var run = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if Normalizer.isVerbatim(u) {
                out += form(String(run))
                run.removeAll()
                out.unicodeScalars.append(u)
            } else {
                run.append(u)
            }
        }
        out += form(String(run))
        return out
    }

    /// Characters HF's Unicode 9.0 tables treat as inert starters, and archaic jamo.
    private static func isVerbatim(_ u: Unicode.Scalar) -> Bool {
        guard let age = u.properties.age, age.major < 10 else { return true }
        let v = u.value
        switch v {
        case 0x1100...0x1112, 0x1161...0x1175, 0x11A8...0x11C2: return false  // modern L, V, T
        case 0x1100...0x11FF, 0xA960...0xA97F, 0xD7B0...0xD7FF: return true
        default: return false
        }
    }

    private func form(_ s: String) -> String {
        if s.isEmpty { return s }
        let compatible: Bool, compose: Bool
        switch self {
        case .nfc: (compatible, compose) = (false, true)
        case .nfd: (compatible, compose) = (false, false)
        case .nfkc: (compatible, compose) = (true, true)
        case .nfkd: (compatible, compose) = (true, false)
        case .sequence: return apply(s)
        }
        let decomposed = Normalizer.canonicallyOrdered(
            compatible ? s.decomposedStringWithCompatibilityMapping : s.decomposedStringWithCanonicalMapping)
        return compose ? decomposed.precomposedStringWithCanonicalMapping : decomposed
    }

    /// Stable-sorts every run of non-starters by canonical combining class.
    static func canonicallyOrdered(_ s: String) -> String {
        var scalars = Array(s.unicodeScalars)
        var i = 0
        while i < scalars.count {
            guard scalars[i].properties.canonicalCombiningClass.rawValue != 0 else { i += 1; continue }
            var j = i
            while j < scalars.count, scalars[j].properties.canonicalCombiningClass.rawValue != 0 { j += 1 }
            if j - i > 1 {
                let sorted = scalars[i..<j].enumerated().sorted {
                    let a = $0.element.properties.canonicalCombiningClass.rawValue
                    let b = $1.element.properties.canonicalCombiningClass.rawValue
                    return a != b ? a < b : $0.offset < $1.offset
                }.map(\.element)
                scalars.replaceSubrange(i..<j, with: sorted)
            }
            i = j
        }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
