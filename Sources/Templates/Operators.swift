import Foundation

/// Python semantics for arithmetic, comparison, membership and slicing.
enum Operators {
    enum Num { case int(Int), float(Double) }

    static func number(_ v: Value) -> Num? {
        switch v {
        case .bool(let b): return .int(b ? 1 : 0)
        case .int(let i): return .int(i)
        case .float(let d): return .float(d)
        default: return nil
        }
    }

    static func double(_ n: Num) -> Double {
        switch n { case .int(let i): return Double(i); case .float(let d): return d }
    }

    static func intIndex(_ v: Value) -> Int? {
        switch v {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    static func unary(_ op: String, _ v: Value) throws -> Value {
        if case .undefined(let u) = v { throw u.fail() }
        guard let n = number(v) else { throw TemplateError.runtime("bad operand type for unary \(op): '\(v.typeName)'") }
        switch (op, n) {
        case ("-", .int(let i)): return i == Int.min ? .float(-Double(i)) : .int(-i)
        case ("-", .float(let d)): return .float(-d)
        case (_, .int(let i)): return .int(i)
        case (_, .float(let d)): return .float(d)
        }
    }

    private static func typeError(_ op: String, _ a: Value, _ b: Value) -> TemplateError {
        TemplateError.runtime("unsupported operand type(s) for \(op): '\(a.typeName)' and '\(b.typeName)'")
    }

    static func binary(_ op: String, _ a: Value, _ b: Value, _ interp: Interpreter) throws -> Value {
        if case .undefined(let u) = a { throw u.fail() }
        if case .undefined(let u) = b { throw u.fail() }
        if let x = number(a), let y = number(b) { return try arithmetic(op, x, y) }
        switch (op, a, b) {
        case ("+", .string(let x), .string(let y)):
            let s = x + y
            try interp.checkSize(s)
            return .string(s)
        case ("+", .list(let x), .list(let y)): return .list(x + y)
        case ("+", .tuple(let x), .tuple(let y)): return .tuple(x + y)
        case ("*", .string, _), ("*", _, .string), ("*", .list, _), ("*", _, .list):
            let (seq, count) = number(a) == nil ? (a, b) : (b, a)
            guard let n = intIndex(count) else { throw typeError(op, a, b) }
            let times = max(0, n)
            try interp.tick(times)
            if case .string(let s) = seq {
                guard s.utf8.count * times <= Interpreter.maxOutput else { throw TemplateError(kind: .limit, message: "output too large") }
                return .string(String(repeating: s, count: times))
            }
            if case .list(let l) = seq { return .list(Array([[Value]](repeating: l, count: times).joined())) }
            throw typeError(op, a, b)
        case ("%", .string(let fmt), _):
            return .string(try percentFormat(fmt, b))
        case ("+", .string, _), ("+", _, .string):
            throw TemplateError.runtime("can only concatenate str (not \"\(b.typeName)\") to str")
        default:
            throw typeError(op, a, b)
        }
    }

    private static func arithmetic(_ op: String, _ x: Num, _ y: Num) throws -> Value {
        if case .int(let i) = x, case .int(let j) = y {
            switch op {
            case "+": let (r, o) = i.addingReportingOverflow(j); return o ? .float(Double(i) + Double(j)) : .int(r)
            case "-": let (r, o) = i.subtractingReportingOverflow(j); return o ? .float(Double(i) - Double(j)) : .int(r)
            case "*": let (r, o) = i.multipliedReportingOverflow(by: j); return o ? .float(Double(i) * Double(j)) : .int(r)
            case "/":
                guard j != 0 else { throw TemplateError.runtime("division by zero") }
                return .float(Double(i) / Double(j))
            case "//":
                guard j != 0 else { throw TemplateError.runtime("integer division or modulo by zero") }
                if i == Int.min && j == -1 { return .float(-Double(i)) }
                let q = i / j
                return .int((i % j != 0 && (i < 0) != (j < 0)) ? q - 1 : q)
            case "%":
                guard j != 0 else { throw TemplateError.runtime("integer division or modulo by zero") }
                if j == -1 { return .int(0) }
                let r = i % j
                return .int(r != 0 && (r < 0) != (j < 0) ? r + j : r)
            case "**":
                if j < 0 { return .float(pow(Double(i), Double(j))) }
                var result = 1, base = i, e = j
                while e > 0 {
                    if e & 1 == 1 {
                        let (r, o) = result.multipliedReportingOverflow(by: base)
                        if o { return .float(pow(Double(i), Double(j))) }
                        result = r
                    }
                    e >>= 1
                    if e > 0 {
                        let (b2, o) = base.multipliedReportingOverflow(by: base)
                        if o { return .float(pow(Double(i), Double(j))) }
                        base = b2
                    }
                }
                return .int(result)
            default: break
            }
        }
        let a = double(x), b = double(y)
        switch op {
        case "+": return .float(a + b)
        case "-": return .float(a - b)
        case "*": return .float(a * b)
        case "/":
            guard b != 0 else { throw TemplateError.runtime("float division by zero") }
            return .float(a / b)
        case "//":
            guard b != 0 else { throw TemplateError.runtime("float floor division by zero") }
            return .float((a / b).rounded(.down))
        case "%":
            guard b != 0 else { throw TemplateError.runtime("float modulo") }
            let r = fmod(a, b)
            return .float(r != 0 && (r < 0) != (b < 0) ? r + b : r)
        case "**": return .float(pow(a, b))
        default: throw TemplateError.runtime("unknown operator \(op)")
        }
    }

    // MARK: comparison

    static func equals(_ a: Value, _ b: Value) -> Bool {
        switch (a, b) {
        case (.undefined, .undefined), (.none, .none): return true
        case (.string(let x), .string(let y)): return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { equals($0, $1) }
        case (.dict(let x), .dict(let y)):
            guard x.count == y.count else { return false }
            return x.entries.allSatisfy { e in y[e.key].map { equals(e.value, $0) } ?? false }
        case (.namespace(let x), .namespace(let y)): return x === y
        case (.callable(let x), .callable(let y)): return x === y
        default:
            if let x = number(a), let y = number(b) {
                if case .int(let i) = x, case .int(let j) = y { return i == j }
                return double(x) == double(y)
            }
            return false
        }
    }

    /// Python `<`; mixed types raise TypeError as in Python 3.
    static func less(_ a: Value, _ b: Value, _ op: String = "<") throws -> Bool {
        switch (a, b) {
        case (.undefined(let u), _), (_, .undefined(let u)): throw u.fail()
        case (.string(let x), .string(let y)):
            return x.unicodeScalars.lexicographicallyPrecedes(y.unicodeScalars)
        case (.list(let x), .list(let y)), (.tuple(let x), .tuple(let y)):
            for (p, q) in zip(x, y) where !equals(p, q) { return try less(p, q) }
            return x.count < y.count
        default:
            if let x = number(a), let y = number(b) {
                if case .int(let i) = x, case .int(let j) = y { return i < j }
                return double(x) < double(y)
            }
            throw TemplateError.runtime("'\(op)' not supported between instances of '\(a.typeName)' and '\(b.typeName)'")
        }
    }

    static func contains(_ container: Value, _ item: Value) throws -> Bool {
        switch container {
        case .string(let s):
            guard case .string(let sub) = item else {
                if case .undefined(let u) = item { throw u.fail() }
                throw TemplateError.runtime("'in <string>' requires string as left operand, not \(item.typeName)")
            }
            return PyStr.find(s, sub) != nil
        case .list(let a), .tuple(let a): return a.contains { equals($0, item) }
        case .dict(let d): return d[item] != nil
        case .namespace(let ns): return ns.attrs[item] != nil
        case .undefined: return false
        default: throw TemplateError.runtime("argument of type '\(container.typeName)' is not iterable")
        }
    }

    static func compare(_ op: String, _ a: Value, _ b: Value) throws -> Bool {
        switch op {
        case "==": return equals(a, b)
        case "!=": return !equals(a, b)
        case "<": return try less(a, b, op)
        case ">": return try less(b, a, op)
        case "<=": return try !less(b, a, op)
        case ">=": return try !less(a, b, op)
        case "in": return try contains(b, a)
        case "notin": return try !contains(b, a)
        default: throw TemplateError.runtime("unknown comparison \(op)")
        }
    }

    // MARK: slicing

    static func slice(_ v: Value, _ start: Value?, _ stop: Value?, _ step: Value?) throws -> Value {
        func idx(_ x: Value?) throws -> Int? {
            guard let x, !x.isNone else { return nil }
            if case .undefined = x { return nil }
            guard let i = intIndex(x) else { throw TemplateError.runtime("slice indices must be integers or None") }
            return i
        }
        let st = try idx(step) ?? 1
        guard st != 0 else { throw TemplateError.runtime("slice step cannot be zero") }
        func pick<T>(_ a: [T]) throws -> [T] {
            let n = a.count
            func clamp(_ i: Int?, _ def: Int) -> Int {
                guard var i else { return def }
                if i < 0 { i += n }
                return st > 0 ? min(max(i, 0), n) : min(max(i, -1), n - 1)
            }
            let lo = clamp(try idx(start), st > 0 ? 0 : n - 1)
            let hi = clamp(try idx(stop), st > 0 ? n : -1)
            var out: [T] = []
            var i = lo
            while st > 0 ? i < hi : i > hi { out.append(a[i]); i += st }
            return out
        }
        switch v {
        case .undefined(let u): throw u.fail()
        case .list(let a): return .list(try pick(a))
        case .tuple(let a): return .tuple(try pick(a))
        case .string(let s):
            var out = String.UnicodeScalarView()
            out.append(contentsOf: try pick(Array(s.unicodeScalars)))
            return .string(String(out))
        default: throw TemplateError.runtime("'\(v.typeName)' object is not subscriptable")
        }
    }

    // MARK: printf-style formatting

    /// `"%s" % x` with the common conversions (%s %r %d %i %f %x %%).
    static func percentFormat(_ fmt: String, _ arg: Value) throws -> String {
        var args: [Value]
        if case .tuple(let t) = arg { args = t } else { args = [arg] }
        var out = ""
        var it = Array(fmt.unicodeScalars).makeIterator()
        while let c = it.next() {
            guard c == "%" else { out.unicodeScalars.append(c); continue }
            var spec = ""
            var conv: Unicode.Scalar?
            while let d = it.next() {
                if "sdirfxXegc%".unicodeScalars.contains(d) { conv = d; break }
                spec.unicodeScalars.append(d)
            }
            guard let conv else { throw TemplateError.runtime("incomplete format") }
            if conv == "%" { out += "%"; continue }
            guard !args.isEmpty else { throw TemplateError.runtime("not enough arguments for format string") }
            let v = args.removeFirst()
            switch conv {
            case "s": out += v.pyStr
            case "r": out += v.pyRepr
            case "d", "i":
                guard let n = number(v) else { throw TemplateError.runtime("%d format: a real number is required") }
                let i: Int
                if case .int(let x) = n { i = x } else {
                    let d = double(n)
                    guard d.isFinite, abs(d) < 9.2e18 else { throw TemplateError.runtime("%d format: cannot convert \(d) to an integer") }
                    i = Int(d)
                }
                out += spec.isEmpty ? String(i) : String(format: "%\(try checkedSpec(spec))ld", i)
            case "f", "e", "g":
                guard let n = number(v) else { throw TemplateError.runtime("must be real number") }
                out += String(format: "%\(try checkedSpec(spec))\(conv)", double(n))
            case "x", "X":
                guard let i = intIndex(v) else { throw TemplateError.runtime("%x format: an integer is required") }
                out += conv == "x" ? String(i, radix: 16) : String(i, radix: 16).uppercased()
            default: out += v.pyStr
            }
        }
        if !args.isEmpty, case .tuple = arg { throw TemplateError.runtime("not all arguments converted during string formatting") }
        return out
    }

    /// Only flags, width and precision reach String(format:) (no pointer-taking specifiers such
    /// as `%@`), and widths and precisions stay within the output limit.
    static func checkedSpec(_ spec: String) throws -> String {
        guard spec.unicodeScalars.allSatisfy({ "0123456789.-+ #".unicodeScalars.contains($0) }) else {
            throw TemplateError.runtime("unsupported format specifier")
        }
        for digits in spec.split(whereSeparator: { !$0.isASCII || !$0.isNumber }) where digits.count > 4 {
            throw TemplateError(kind: .limit, message: "format width or precision too large")
        }
        return spec
    }
}
