/// Python `str` operations over Unicode scalars. Swift's `String` compares and splits by
/// grapheme cluster and canonical equivalence (so "\r\n" is one Character); Python works on code
/// points, and templates must match Python.
enum PyStr {
    typealias Scalars = [Unicode.Scalar]

    static func scalars(_ s: String) -> Scalars { Array(s.unicodeScalars) }

    static func string<C: Collection>(_ u: C) -> String where C.Element == Unicode.Scalar {
        var v = String.UnicodeScalarView()
        v.append(contentsOf: u)
        return String(v)
    }

    static func find(_ hay: String, _ needle: String, from: Int = 0) -> Int? {
        find(scalars(hay), scalars(needle), from: from)
    }

    static func find(_ h: Scalars, _ n: Scalars, from: Int = 0) -> Int? {
        if n.isEmpty { return from <= h.count ? from : nil }
        guard h.count >= n.count else { return nil }
        var i = max(0, from)
        while i <= h.count - n.count {
            if h[i] == n[0] {
                var j = 1
                while j < n.count && h[i + j] == n[j] { j += 1 }
                if j == n.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func rfind(_ h: Scalars, _ n: Scalars) -> Int? {
        if n.isEmpty { return h.count }
        guard h.count >= n.count else { return nil }
        var i = h.count - n.count
        while i >= 0 {
            if Array(h[i..<i + n.count]) == n { return i }
            i -= 1
        }
        return nil
    }

    static func count(_ h: Scalars, _ n: Scalars) -> Int {
        if n.isEmpty { return h.count + 1 }
        var c = 0, i = 0
        while let j = find(h, n, from: i) { c += 1; i = j + n.count }
        return c
    }

    static func hasPrefix(_ s: String, _ p: String) -> Bool {
        let a = scalars(s), b = scalars(p)
        return a.count >= b.count && Array(a[0..<b.count]) == b
    }

    static func hasSuffix(_ s: String, _ p: String) -> Bool {
        let a = scalars(s), b = scalars(p)
        return a.count >= b.count && Array(a[(a.count - b.count)...]) == b
    }

    /// `strip`/`lstrip`/`rstrip`: whitespace when `chars` is nil, else any of `chars`.
    static func strip(_ s: String, _ chars: String?, left: Bool, right: Bool) -> String {
        let u = scalars(s)
        let set = chars.map { Set($0.unicodeScalars) }
        func drop(_ c: Unicode.Scalar) -> Bool { set.map { $0.contains(c) } ?? PyFormat.isSpace(c) }
        var a = 0, b = u.count
        if left { while a < b, drop(u[a]) { a += 1 } }
        if right { while b > a, drop(u[b - 1]) { b -= 1 } }
        return string(u[a..<b])
    }

    /// `split(sep, maxsplit)`; with no separator, splits on whitespace runs and drops empties.
    static func split(_ s: String, _ sep: String?, max: Int = -1) throws -> [String] {
        let u = scalars(s)
        var out: [String] = []
        guard let sep else {
            var i = 0
            while i < u.count {
                while i < u.count, PyFormat.isSpace(u[i]) { i += 1 }
                if i >= u.count { break }
                if max >= 0 && out.count == max {
                    var end = u.count
                    while end > i, PyFormat.isSpace(u[end - 1]) { end -= 1 }
                    out.append(string(u[i..<end]))
                    return out
                }
                var j = i
                while j < u.count, !PyFormat.isSpace(u[j]) { j += 1 }
                out.append(string(u[i..<j]))
                i = j
            }
            return out
        }
        let n = scalars(sep)
        guard !n.isEmpty else { throw TemplateError.runtime("empty separator") }
        var i = 0
        while max < 0 || out.count < max, let j = find(u, n, from: i) {
            out.append(string(u[i..<j]))
            i = j + n.count
        }
        out.append(string(u[i...]))
        return out
    }

    static func rsplit(_ s: String, _ sep: String?, max: Int) throws -> [String] {
        guard max >= 0 else { return try split(s, sep) }
        guard let sep else {
            let parts = try split(s, nil)
            if parts.count <= max + 1 { return parts }
            // Rare; rebuild the head with single spaces lost — acceptable approximation.
            let head = parts[0..<(parts.count - max)].joined(separator: " ")
            return [head] + parts[(parts.count - max)...]
        }
        let u = scalars(s), n = scalars(sep)
        guard !n.isEmpty else { throw TemplateError.runtime("empty separator") }
        var out: [String] = []
        var end = u.count
        while out.count < max, let j = rfind(Array(u[0..<end]), n) {
            out.insert(string(u[(j + n.count)..<end]), at: 0)
            end = j
        }
        out.insert(string(u[0..<end]), at: 0)
        return out
    }

    static func replace(_ s: String, _ old: String, _ new: String, count: Int = -1) -> String {
        let u = scalars(s), o = scalars(old), n = scalars(new)
        var out: Scalars = []
        var i = 0, done = 0
        if o.isEmpty {
            for c in u {
                if count < 0 || done < count { out += n; done += 1 }
                out.append(c)
            }
            if count < 0 || done < count { out += n }
            return string(out)
        }
        while count < 0 || done < count, let j = find(u, o, from: i) {
            out += u[i..<j]
            out += n
            i = j + o.count
            done += 1
        }
        out += u[i...]
        return string(out)
    }

    static func splitLines(_ s: String, keepEnds: Bool) -> [String] {
        let u = scalars(s)
        var out: [String] = []
        var start = 0, i = 0
        let breaks: Set<UInt32> = [0x0A, 0x0D, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029]
        while i < u.count {
            if breaks.contains(u[i].value) {
                var end = i + 1
                if u[i] == "\r", end < u.count, u[end] == "\n" { end += 1 }
                out.append(string(u[start..<(keepEnds ? end : i)]))
                start = end
                i = end
            } else { i += 1 }
        }
        if start < u.count { out.append(string(u[start...])) }
        return out
    }

    static func capitalize(_ s: String) -> String {
        let u = scalars(s)
        guard let first = u.first else { return s }
        return String(first).uppercased() + string(u.dropFirst()).lowercased()
    }

    /// Python `str.title()`: a letter after a non-letter starts a word.
    static func title(_ s: String) -> String {
        var out = ""
        var prevCased = false
        for c in s.unicodeScalars {
            let cased = c.properties.isCased
            out += prevCased ? String(c).lowercased() : String(c).uppercased()
            prevCased = cased
        }
        return out
    }

    static func allMatch(_ s: String, _ pred: (Unicode.Scalar) -> Bool) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy(pred)
    }
}
