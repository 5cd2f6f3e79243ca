/// Python methods callable from templates (`s.split(',')`, `d.items()`, …). Mutating list and
/// dict methods exist but raise, as in jinja2's `ImmutableSandboxedEnvironment`.
enum Methods {
    private static let unsafeDict: Set<String> = ["clear", "pop", "popitem", "setdefault", "update"]
    private static let unsafeList: Set<String> = ["append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"]

    static func method(_ v: Value, _ name: String) -> Callable? {
        switch v {
        case .string(let s): return stringMethod(s, name)
        case .dict(let d): return dictMethod(d, name)
        case .list(let a), .tuple(let a):
            if case .list = v, unsafeList.contains(name) { return unsafe("list", name) }
            return listMethod(a, name)
        default: return nil
        }
    }

    private static func unsafe(_ type: String, _ name: String) -> Callable {
        Callable(name) { _ in
            throw TemplateError.runtime("access to attribute '\(name)' of '\(type)' object is unsafe.")
        }
    }

    private static func str(_ v: Value?, _ what: String) throws -> String? {
        guard let v, !v.isNone else { return nil }
        guard case .string(let s) = v else { throw TemplateError.runtime("\(what) arg must be None or str") }
        return s
    }

    private static func int(_ v: Value?, default d: Int) throws -> Int {
        guard let v, !v.isNone else { return d }
        guard let i = Operators.intIndex(v) else { throw TemplateError.runtime("an integer is required") }
        return i
    }

    private static func stringMethod(_ s: String, _ name: String) -> Callable? {
        func m(_ body: @escaping (Arguments) throws -> Value) -> Callable { Callable(name, body) }
        switch name {
        case "startswith", "endswith":
            return m { a in
                let p = try a.bind(["prefix", "start", "end"], function: name)
                var subject = s
                if p["start"] != nil || p["end"] != nil {
                    subject = try Operators.slice(.string(s), p["start"], p["end"], nil).asString ?? s
                }
                let candidates: [Value]
                switch p["prefix"] {
                case .tuple(let t)?: candidates = t
                case .string(let x)?: candidates = [.string(x)]
                default: throw TemplateError.runtime("\(name) first arg must be str or a tuple of str")
                }
                for c in candidates {
                    guard case .string(let x) = c else { throw TemplateError.runtime("tuple for \(name) must only contain str") }
                    if name == "startswith" ? PyStr.hasPrefix(subject, x) : PyStr.hasSuffix(subject, x) { return .bool(true) }
                }
                return .bool(false)
            }
        case "split", "rsplit":
            return m { a in
                let p = try a.bind(["sep", "maxsplit"], function: name)
                let sep = try str(p["sep"], "sep")
                let maxSplit = try int(p["maxsplit"], default: -1)
                let parts = name == "split" ? try PyStr.split(s, sep, max: maxSplit) : try PyStr.rsplit(s, sep, max: maxSplit)
                return .list(parts.map(Value.string))
            }
        case "strip", "lstrip", "rstrip":
            return m { a in
                let chars = try str(try a.bind(["chars"], function: name)["chars"], "strip")
                return .string(PyStr.strip(s, chars, left: name != "rstrip", right: name != "lstrip"))
            }
        case "replace":
            return m { a in
                let p = try a.bind(["old", "new", "count"], function: name)
                guard case .string(let o)? = p["old"], case .string(let n)? = p["new"] else {
                    throw TemplateError.runtime("replace() arguments must be str")
                }
                return .string(PyStr.replace(s, o, n, count: try int(p["count"], default: -1)))
            }
        case "lower": return m { _ in .string(s.lowercased()) }
        case "upper": return m { _ in .string(s.uppercased()) }
        case "title": return m { _ in .string(PyStr.title(s)) }
        case "capitalize": return m { _ in .string(PyStr.capitalize(s)) }
        case "swapcase":
            return m { _ in
                .string(s.unicodeScalars.map { $0.properties.isUppercase ? String($0).lowercased() : String($0).uppercased() }.joined())
            }
        case "find", "rfind", "index", "rindex", "count":
            return m { a in
                guard case .string(let sub)? = a.positional.first else { throw TemplateError.runtime("\(name)() argument must be str") }
                let h = PyStr.scalars(s), n = PyStr.scalars(sub)
                if name == "count" { return .int(PyStr.count(h, n)) }
                let r = (name == "rfind" || name == "rindex") ? PyStr.rfind(h, n) : PyStr.find(h, n)
                if r == nil && name.hasSuffix("index") { throw TemplateError.runtime("substring not found") }
                return .int(r ?? -1)
            }
        case "join":
            return m { a in
                guard let it = a.positional.first else { throw TemplateError.runtime("join() takes exactly one argument") }
                var parts: [String] = []
                for x in try it.iterate() {
                    guard case .string(let t) = x else { throw TemplateError.runtime("sequence item: expected str instance, \(x.typeName) found") }
                    parts.append(t)
                }
                return .string(parts.joined(separator: s))
            }
        case "splitlines":
            return m { a in
                let keep = a.positional.first?.truthy ?? a.keyword.first { $0.0 == "keepends" }?.1.truthy ?? false
                return .list(PyStr.splitLines(s, keepEnds: keep).map(Value.string))
            }
        case "removeprefix", "removesuffix":
            return m { a in
                guard case .string(let x)? = a.positional.first else { throw TemplateError.runtime("\(name)() argument must be str") }
                let u = PyStr.scalars(s), n = x.unicodeScalars.count
                if name == "removeprefix", PyStr.hasPrefix(s, x) { return .string(PyStr.string(u[n...])) }
                if name == "removesuffix", n > 0, PyStr.hasSuffix(s, x) { return .string(PyStr.string(u[..<(u.count - n)])) }
                return .string(s)
            }
        case "isdigit", "isnumeric", "isdecimal":
            return m { _ in .bool(PyStr.allMatch(s) { $0.properties.numericType != nil }) }
        case "isalpha": return m { _ in .bool(PyStr.allMatch(s) { $0.properties.isAlphabetic }) }
        case "isalnum":
            return m { _ in .bool(PyStr.allMatch(s) { $0.properties.isAlphabetic || $0.properties.numericType != nil }) }
        case "isspace": return m { _ in .bool(PyStr.allMatch(s, PyFormat.isSpace)) }
        case "islower":
            return m { _ in .bool(s.unicodeScalars.contains { $0.properties.isCased } && !s.unicodeScalars.contains { $0.properties.isUppercase }) }
        case "isupper":
            return m { _ in .bool(s.unicodeScalars.contains { $0.properties.isCased } && !s.unicodeScalars.contains { $0.properties.isLowercase }) }
        case "center", "ljust", "rjust":
            return m { a in
                let width = try int(a.positional.first, default: 0)
                let fill = try str(a.positional.count > 1 ? a.positional[1] : nil, "fill") ?? " "
                let n = s.unicodeScalars.count
                guard width > n else { return .string(s) }
                let pad = width - n
                guard pad <= Interpreter.maxOutput / max(1, fill.utf8.count) else {
                    throw TemplateError(kind: .limit, message: "output too large")
                }
                let left = name == "ljust" ? 0 : (name == "rjust" ? pad : pad / 2 + (pad & width & 1))
                return .string(String(repeating: fill, count: left) + s + String(repeating: fill, count: pad - left))
            }
        case "format":
            return m { a in .string(try formatBraces(s, a)) }
        default: return nil
        }
    }

    private static func dictMethod(_ d: PyDict, _ name: String) -> Callable? {
        if unsafeDict.contains(name) { return unsafe("dict", name) }
        switch name {
        case "items": return Callable(name) { _ in .list(d.entries.map { .tuple([$0.key, $0.value]) }) }
        case "keys": return Callable(name) { _ in .list(d.entries.map(\.key)) }
        case "values": return Callable(name) { _ in .list(d.entries.map(\.value)) }
        case "get":
            return Callable(name) { a in
                guard let k = a.positional.first else { throw TemplateError.runtime("get expected at least 1 argument, got 0") }
                return d[k] ?? (a.positional.count > 1 ? a.positional[1] : .none)
            }
        case "copy": return Callable(name) { _ in .dict(d) }
        default: return nil
        }
    }

    private static func listMethod(_ a: [Value], _ name: String) -> Callable? {
        switch name {
        case "count":
            return Callable(name) { args in .int(a.filter { Operators.equals($0, args.positional.first ?? .none) }.count) }
        case "index":
            return Callable(name) { args in
                guard let i = a.firstIndex(where: { Operators.equals($0, args.positional.first ?? .none) }) else {
                    throw TemplateError.runtime("value is not in list")
                }
                return .int(i)
            }
        case "copy": return Callable(name) { _ in .list(a) }
        default: return nil
        }
    }

    /// `str.format` with `{}`, `{0}` and `{name}` fields (no format specs beyond plain `str`).
    static func formatBraces(_ s: String, _ a: Arguments) throws -> String {
        var out = ""
        var auto = 0
        let u = PyStr.scalars(s)
        var i = 0
        while i < u.count {
            let c = u[i]
            if c == "{" && i + 1 < u.count && u[i + 1] == "{" { out += "{"; i += 2; continue }
            if c == "}" && i + 1 < u.count && u[i + 1] == "}" { out += "}"; i += 2; continue }
            if c == "{" {
                guard let close = u[i...].firstIndex(of: "}") else { throw TemplateError.runtime("Single '{' encountered in format string") }
                let field = PyStr.string(u[(i + 1)..<close]).split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
                let v: Value?
                if field.isEmpty { v = auto < a.positional.count ? a.positional[auto] : nil; auto += 1 }
                else if let n = Int(field) { v = n < a.positional.count ? a.positional[n] : nil }
                else { v = a.keyword.first { $0.0 == field }?.1 }
                guard let v else { throw TemplateError.runtime("Replacement index out of range for positional args tuple") }
                out += v.pyStr
                i = close + 1
                continue
            }
            out.unicodeScalars.append(c)
            i += 1
        }
        return out
    }
}
