import Foundation
import OrderedJSON

/// jinja2's built-in filters (the ones chat templates use), with HF's `tojson` replacing jinja2's.
extension Interpreter {
    static let filterNames: Set<String> = [
        "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape", "first",
        "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list", "lower", "map",
        "max", "min", "pprint", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr",
        "sort", "string", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "wordcount",
    ]

    func applyFilter(_ name: String, _ v: Value, _ a: Arguments) throws -> Value {
        try tick()
        switch name {
        case "abs":
            if case .undefined(let u) = v { throw u.fail() }
            guard let n = Operators.number(v) else { throw TemplateError.runtime("bad operand type for abs(): '\(v.typeName)'") }
            if case .int(let i) = n { return i == Int.min ? .float(-Double(i)) : .int(abs(i)) }
            return .float(abs(Operators.double(n)))
        case "attr":
            guard case .string(let n)? = a.positional.first else { throw TemplateError.runtime("attr() needs a name") }
            if case .dict = v { return Methods.method(v, n).map(Value.callable) ?? .undefined(.attribute(v, n)) }
            return try getAttr(v, n)
        case "batch":
            let p = try a.bind(["linecount", "fill_with"], function: name)
            guard let n = p["linecount"].flatMap(Operators.intIndex), n > 0 else { throw TemplateError.runtime("batch size must be positive") }
            var out: [Value] = [], cur: [Value] = []
            for x in try v.iterate() {
                cur.append(x)
                if cur.count == n { out.append(.list(cur)); cur = [] }
            }
            if !cur.isEmpty {
                if let fill = p["fill_with"], !fill.isNone { while cur.count < n { cur.append(fill) } }
                out.append(.list(cur))
            }
            return .list(out)
        case "capitalize": return .string(PyStr.capitalize(v.pyStr))
        case "center":
            let width = try a.bind(["width"], defaults: ["width": .int(80)], function: name)["width"]!
            return try call(.callable(Methods.method(.string(v.pyStr), "center")!), Arguments(positional: [width]))
        case "count", "length":
            switch v {
            case .undefined: return .int(0)
            case .string(let s): return .int(s.unicodeScalars.count)
            case .list(let x), .tuple(let x): return .int(x.count)
            case .dict(let d): return .int(d.count)
            case .namespace(let ns): return .int(ns.attrs.count)
            default: throw TemplateError.runtime("object of type '\(v.typeName)' has no len()")
            }
        case "d", "default":
            let p = try a.bind(["default_value", "boolean"], defaults: ["default_value": .string(""), "boolean": .bool(false)], function: name)
            if v.isUndefined || (p["boolean"]!.truthy && !v.truthy) { return p["default_value"]! }
            return v
        case "dictsort":
            let p = try a.bind(["case_sensitive", "by", "reverse"], defaults: ["case_sensitive": .bool(false), "by": .string("key"), "reverse": .bool(false)], function: name)
            guard case .dict(let d) = v else { throw TemplateError.runtime("You can only sort by either \"key\" or \"value\"") }
            let byValue = p["by"]!.pyStr == "value"
            let cs = p["case_sensitive"]!.truthy
            let sorted = try sortValues(d.entries.map { Value.tuple([$0.key, $0.value]) }, reverse: p["reverse"]!.truthy) { x in
                guard case .tuple(let t) = x else { return x }
                return Filters.foldCase(t[byValue ? 1 : 0], cs)
            }
            return .list(sorted)
        case "e", "escape", "forceescape": return .string(Filters.htmlEscape(v.pyStr))
        case "first":
            if case .undefined = v { return .undefined(Undefined(hint: "No first item, sequence was empty.")) }
            return try v.iterate().first ?? .undefined(Undefined(hint: "No first item, sequence was empty."))
        case "last":
            if case .undefined = v { return .undefined(Undefined(hint: "No last item, sequence was empty.")) }
            return try v.iterate().last ?? .undefined(Undefined(hint: "No last item, sequence was empty."))
        case "float":
            let def = try a.bind(["default"], defaults: ["default": .float(0)], function: name)["default"]!
            return Filters.toFloat(v) ?? def
        case "int":
            let p = try a.bind(["default", "base"], defaults: ["default": .int(0), "base": .int(10)], function: name)
            return Filters.toInt(v, base: Operators.intIndex(p["base"]!) ?? 10) ?? p["default"]!
        case "format":
            if !a.keyword.isEmpty {
                var d = PyDict()
                for (k, x) in a.keyword { d[string: k] = x }
                return .string(try Operators.percentFormat(v.pyStr, .dict(d)))
            }
            return .string(try Operators.percentFormat(v.pyStr, .tuple(a.positional)))
        case "indent":
            let p = try a.bind(["width", "first", "blank"], defaults: ["width": .int(4), "first": .bool(false), "blank": .bool(false)], function: name)
            return .string(Filters.indent(v.pyStr, width: p["width"]!, first: p["first"]!.truthy, blank: p["blank"]!.truthy))
        case "items":
            switch v {
            case .undefined: return .list([])
            case .dict(let d): return .list(d.entries.map { .tuple([$0.key, $0.value]) })
            default: throw TemplateError.runtime("Can only get item pairs from a mapping.")
            }
        case "join":
            let p = try a.bind(["d", "attribute"], defaults: ["d": .string("")], function: name)
            var items = try v.iterate()
            if let attr = p["attribute"], !attr.isNone { items = try items.map { try attribute($0, attr) } }
            return .string(items.map(\.pyStr).joined(separator: p["d"]!.pyStr))
        case "list": return .list(try v.iterate())
        case "lower": return .string(v.pyStr.lowercased())
        case "upper": return .string(v.pyStr.uppercased())
        case "map": return .list(try mapFilter(v, a))
        case "max", "min":
            let p = try a.bind(["case_sensitive", "attribute"], defaults: ["case_sensitive": .bool(false)], function: name)
            var items = try v.iterate()
            guard !items.isEmpty else { return .undefined(Undefined(hint: "No aggregated item, sequence was empty.")) }
            let cs = p["case_sensitive"]!.truthy
            let attr = p["attribute"]
            let keyed = try items.map { x -> (Value, Value) in
                let k = try attr.map { try self.attribute(x, $0) } ?? x
                return (x, Filters.foldCase(k, cs))
            }
            var best = keyed[0]
            for k in keyed.dropFirst() where try (name == "max" ? Operators.less(best.1, k.1) : Operators.less(k.1, best.1)) { best = k }
            items = [best.0]
            return items[0]
        case "pprint": return .string(v.pyRepr)
        case "reject", "select", "rejectattr", "selectattr":
            return .list(try selectFilter(v, a, byAttribute: name.hasSuffix("attr"), keep: name.hasPrefix("select")))
        case "replace":
            let p = try a.bind(["old", "new", "count"], function: name)
            let count = p["count"].flatMap { $0.isNone ? nil : Operators.intIndex($0) } ?? -1
            return .string(PyStr.replace(v.pyStr, p["old"]?.pyStr ?? "", p["new"]?.pyStr ?? "", count: count))
        case "reverse":
            if case .string(let s) = v { return .string(PyStr.string(s.unicodeScalars.reversed())) }
            return .list(try v.iterate().reversed())
        case "round":
            let p = try a.bind(["precision", "method"], defaults: ["precision": .int(0), "method": .string("common")], function: name)
            return try Filters.round(v, precision: Operators.intIndex(p["precision"]!) ?? 0, method: p["method"]!.pyStr)
        case "safe", "string":
            if case .string = v { return v }
            return .string(v.pyStr)
        case "sort":
            let p = try a.bind(["reverse", "case_sensitive", "attribute"], defaults: ["reverse": .bool(false), "case_sensitive": .bool(false)], function: name)
            let cs = p["case_sensitive"]!.truthy
            let attr = p["attribute"].flatMap { $0.isNone ? nil : $0 }
            return .list(try sortValues(try v.iterate(), reverse: p["reverse"]!.truthy) { x in
                Filters.foldCase(try attr.map { try self.attribute(x, $0) } ?? x, cs)
            })
        case "sum":
            let p = try a.bind(["attribute", "start"], defaults: ["start": .int(0)], function: name)
            var total = p["start"]!
            for x in try v.iterate() {
                let item = try p["attribute"].flatMap { $0.isNone ? nil : $0 }.map { try attribute(x, $0) } ?? x
                total = try Operators.binary("+", total, item, self)
            }
            return total
        case "title": return .string(Filters.title(v.pyStr))
        case "tojson":
            let p = try a.bind(["ensure_ascii", "indent", "separators", "sort_keys"], defaults: ["ensure_ascii": .bool(false)], function: name)
            return .string(try Filters.tojson(v, p))
        case "trim":
            let chars = try a.bind(["chars"], function: name)["chars"].flatMap { $0.isNone ? nil : $0.pyStr }
            return .string(PyStr.strip(v.pyStr, chars, left: true, right: true))
        case "truncate":
            let p = try a.bind(["length", "killwords", "end", "leeway"], defaults: ["length": .int(255), "killwords": .bool(false), "end": .string("..."), "leeway": .int(5)], function: name)
            return .string(Filters.truncate(v.pyStr, length: Operators.intIndex(p["length"]!) ?? 255, killwords: p["killwords"]!.truthy,
                                            end: p["end"]!.pyStr, leeway: Operators.intIndex(p["leeway"]!) ?? 5))
        case "unique":
            let p = try a.bind(["case_sensitive", "attribute"], defaults: ["case_sensitive": .bool(false)], function: name)
            var seen: [Value] = [], out: [Value] = []
            for x in try v.iterate() {
                let k = Filters.foldCase(try p["attribute"].flatMap { $0.isNone ? nil : $0 }.map { try attribute(x, $0) } ?? x, p["case_sensitive"]!.truthy)
                if !seen.contains(where: { Operators.equals($0, k) }) { seen.append(k); out.append(x) }
            }
            return .list(out)
        case "wordcount":
            var n = 0, inWord = false
            for u in v.pyStr.unicodeScalars {
                let w = u == "_" || u.properties.isAlphabetic || u.properties.numericType != nil
                if w && !inWord { n += 1 }
                inWord = w
            }
            return .int(n)
        default:
            throw TemplateError.runtime("No filter named '\(name)'.")
        }
    }

    /// `attribute='a.b'` / `attribute=0` lookups used by map, sort, join… (dotted paths, int parts).
    func attribute(_ v: Value, _ path: Value) throws -> Value {
        if case .int = path { return try getItem(v, path) }
        var cur = v
        for part in path.pyStr.split(separator: ".", omittingEmptySubsequences: false) {
            cur = try getItem(cur, Int(part).map(Value.int) ?? .string(String(part)))
        }
        return cur
    }

    private func sortValues(_ items: [Value], reverse: Bool, key: (Value) throws -> Value) throws -> [Value] {
        let keyed = try items.map { ($0, try key($0)) }
        var failure: Error?
        // Stable sort, as Python's.
        let sorted = keyed.enumerated().sorted { x, y in
            do {
                if try Operators.less(x.element.1, y.element.1) { return !reverse }
                if try Operators.less(y.element.1, x.element.1) { return reverse }
            } catch { failure = error }
            return x.offset < y.offset
        }
        if let failure { throw failure }
        return sorted.map(\.element.0)
    }

    private func mapFilter(_ v: Value, _ a: Arguments) throws -> [Value] {
        let items = try v.iterate()
        if let attr = a.keyword.first(where: { $0.0 == "attribute" })?.1 {
            let def = a.keyword.first { $0.0 == "default" }?.1
            return try items.map { x in
                let r = try attribute(x, attr)
                if r.isUndefined, let def { return def }
                return r
            }
        }
        guard case .string(let filter)? = a.positional.first else { throw TemplateError.runtime("map requires a filter argument") }
        let rest = Arguments(positional: Array(a.positional.dropFirst()), keyword: a.keyword)
        return try items.map { try applyFilter(filter, $0, rest) }
    }

    private func selectFilter(_ v: Value, _ a: Arguments, byAttribute: Bool, keep: Bool) throws -> [Value] {
        var args = a.positional
        var attr: Value?
        if byAttribute {
            guard !args.isEmpty else { throw TemplateError.runtime("Missing parameter for attribute name") }
            attr = args.removeFirst()
        }
        let test: String? = args.isEmpty ? nil : args.removeFirst().pyStr
        let rest = Arguments(positional: args, keyword: a.keyword)
        return try v.iterate().filter { x in
            let subject = try attr.map { try attribute(x, $0) } ?? x
            let ok = try test.map { try applyTest($0, subject, rest) } ?? subject.truthy
            return ok == keep
        }
    }
}

/// Helpers for the filters above.
enum Filters {
    static func foldCase(_ v: Value, _ caseSensitive: Bool) -> Value {
        if !caseSensitive, case .string(let s) = v { return .string(s.lowercased()) }
        return v
    }

    static func htmlEscape(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&#34;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(u)
            }
        }
        return out
    }

    static func toFloat(_ v: Value) -> Value? {
        switch v {
        case .int(let i): return .float(Double(i))
        case .float: return v
        case .bool(let b): return .float(b ? 1 : 0)
        case .string(let s):
            let t = PyStr.strip(s, nil, left: true, right: true).replacingOccurrences(of: "_", with: "")
            switch t.lowercased() {
            case "inf", "+inf", "infinity", "+infinity": return .float(.infinity)
            case "-inf", "-infinity": return .float(-.infinity)
            case "nan", "+nan", "-nan": return .float(.nan)
            default: break
            }
            guard !t.isEmpty, t.unicodeScalars.allSatisfy({ "0123456789.eE+-".unicodeScalars.contains($0) }) else { return nil }
            return Double(t).map(Value.float)
        default: return nil
        }
    }

    static func toInt(_ v: Value, base: Int) -> Value? {
        switch v {
        case .int: return v
        case .bool(let b): return .int(b ? 1 : 0)
        case .float(let d): return d.isFinite && abs(d) < 9.2e18 ? .int(Int(d)) : nil
        case .string(let s):
            var t = PyStr.strip(s, nil, left: true, right: true).replacingOccurrences(of: "_", with: "")
            var sign = 1
            if t.hasPrefix("-") { sign = -1; t.removeFirst() } else if t.hasPrefix("+") { t.removeFirst() }
            var b = base
            let lower = t.lowercased()
            for (p, r) in [("0x", 16), ("0o", 8), ("0b", 2)] where lower.hasPrefix(p) && (base == r || base == 0) {
                t = String(t.dropFirst(2)); b = r
            }
            if b == 0 { b = 10 }
            // Python's int() refuses other bases (ValueError), which jinja2 answers with the fallback.
            if (2...36).contains(b), let i = Int(t, radix: b) { return .int(sign * i) }
            // jinja2 falls back to int(float(value)).
            if let f = toFloat(.string(s)), case .float(let d) = f, d.isFinite, abs(d) < 9.2e18 { return .int(Int(d)) }
            return nil
        default: return nil
        }
    }

    /// jinja2 3.1 `indent`: appends a newline before splitting, so a trailing newline is kept.
    static func indent(_ s: String, width: Value, first: Bool, blank: Bool) -> String {
        let ind: String
        if case .string(let w) = width { ind = w } else { ind = String(repeating: " ", count: max(0, Operators.intIndex(width) ?? 4)) }
        var lines = PyStr.splitLines(s + "\n", keepEnds: false)
        var rv: String
        if blank {
            rv = lines.joined(separator: "\n" + ind)
        } else {
            rv = lines.isEmpty ? "" : lines.removeFirst()
            if !lines.isEmpty { rv += "\n" + lines.map { $0.isEmpty ? $0 : ind + $0 }.joined(separator: "\n") }
        }
        return first ? ind + rv : rv
    }

    /// jinja2 `title`: capitalise each piece after runs of `-`, whitespace or opening brackets.
    static func title(_ s: String) -> String {
        var out = ""
        var atStart = true
        for u in s.unicodeScalars {
            if u == "-" || u == "(" || u == "{" || u == "[" || u == "<" || PyFormat.isSpace(u) {
                out.unicodeScalars.append(u)
                atStart = true
            } else {
                out += atStart ? String(u).uppercased() : String(u).lowercased()
                atStart = false
            }
        }
        return out
    }

    static func round(_ v: Value, precision: Int, method: String) throws -> Value {
        guard let n = Operators.number(v) else { throw TemplateError.runtime("type \(v.typeName) doesn't define __round__ method") }
        if case .int(let i) = n, method == "common" { return .int(i) }
        let scale = pow(10.0, Double(precision))
        let x = Operators.double(n) * scale
        let r: Double
        switch method {
        case "common": r = x.rounded(.toNearestOrEven)
        case "ceil": r = x.rounded(.up)
        case "floor": r = x.rounded(.down)
        default: throw TemplateError.runtime("method must be common, ceil or floor")
        }
        return .float(r / scale)
    }

    static func truncate(_ s: String, length: Int, killwords: Bool, end: String, leeway: Int) -> String {
        let u = PyStr.scalars(s)
        if u.count <= length + leeway { return s }
        let keep = max(0, length - end.unicodeScalars.count)
        if killwords { return PyStr.string(u[0..<keep]) + end }
        var cut = PyStr.string(u[0..<keep])
        if let sp = cut.lastIndex(of: " ") { cut = String(cut[..<sp]) }
        return cut + end
    }

    /// HF's `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`.
    static func tojson(_ v: Value, _ p: [String: Value]) throws -> String {
        var o = PythonJSON.Options()
        o.ensureASCII = p["ensure_ascii"]?.truthy ?? false
        o.sortKeys = p["sort_keys"]?.truthy ?? false
        switch p["indent"] {
        case .int(let n)?: o.indent = String(repeating: " ", count: max(0, n))
        case .string(let s)?: o.indent = s
        default: break
        }
        if let sep = p["separators"], !sep.isNone {
            let parts = try sep.iterate()
            guard parts.count == 2 else { throw TemplateError.runtime("separators must be a pair") }
            o.itemSeparator = parts[0].pyStr
            o.keySeparator = parts[1].pyStr
        }
        return try PyJSON.dumps(v, o)
    }
}
