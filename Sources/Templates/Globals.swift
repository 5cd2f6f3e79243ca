import Foundation

/// Global functions: jinja2's defaults (`range`, `dict`, `namespace`, `joiner`, `cycler`) and
/// the two HF adds (`raise_exception`, `strftime_now`).
enum Globals {
    /// jinja2's sandbox refuses ranges longer than this (`MAX_RANGE`).
    static let maxRange = 100_000

    static func install(into scope: Scope, now: @escaping @Sendable () -> Date) {
        scope.vars["range"] = .callable(Callable("range", range))
        scope.vars["dict"] = .callable(Callable("dict") { a in
            var d = PyDict()
            if let first = a.positional.first {
                if case .dict(let src) = first { d = src } else {
                    for pair in try first.iterate() {
                        let kv = try pair.iterate()
                        guard kv.count == 2 else { throw TemplateError.runtime("dictionary update sequence element has wrong length") }
                        d[kv[0]] = kv[1]
                    }
                }
            }
            for (k, v) in a.keyword { d[string: k] = v }
            return .dict(d)
        })
        scope.vars["namespace"] = .callable(Callable("namespace") { a in
            let ns = Namespace()
            if case .dict(let src)? = a.positional.first { ns.attrs = src }
            for (k, v) in a.keyword { ns.attrs[string: k] = v }
            return .namespace(ns)
        })
        scope.vars["joiner"] = .callable(Callable("joiner") { a in
            let sep = a.positional.first ?? a.keyword.first?.1 ?? .string(", ")
            var used = false
            return .callable(Callable("joiner") { _ in
                defer { used = true }
                return used ? sep : .string("")
            })
        })
        scope.vars["cycler"] = .callable(Callable("cycler") { a in
            let items = a.positional
            let ns = Namespace()
            var pos = 0
            ns.attrs[string: "next"] = .callable(Callable("next") { _ in
                guard !items.isEmpty else { return .none }
                defer { pos = (pos + 1) % items.count }
                return items[pos]
            })
            ns.attrs[string: "reset"] = .callable(Callable("reset") { _ in pos = 0; return .none })
            return .namespace(ns)
        })
        scope.vars["raise_exception"] = .callable(Callable("raise_exception") { a in
            throw TemplateError(kind: .raised, message: (a.positional.first ?? .string("")).pyStr)
        })
        scope.vars["strftime_now"] = .callable(Callable("strftime_now") { a in
            guard case .string(let fmt)? = a.positional.first else { throw TemplateError.runtime("strftime_now() needs a format string") }
            return .string(strftime(fmt, now()))
        })
    }

    private static func range(_ a: Arguments) throws -> Value {
        let ints = try a.positional.map { v -> Int in
            guard let i = Operators.intIndex(v) else { throw TemplateError.runtime("'\(v.typeName)' object cannot be interpreted as an integer") }
            return i
        }
        let (start, stop, step): (Int, Int, Int)
        switch ints.count {
        case 1: (start, stop, step) = (0, ints[0], 1)
        case 2: (start, stop, step) = (ints[0], ints[1], 1)
        case 3: (start, stop, step) = (ints[0], ints[1], ints[2])
        default: throw TemplateError.runtime("range expected 1 to 3 arguments, got \(ints.count)")
        }
        guard step != 0 else { throw TemplateError.runtime("range() arg 3 must not be zero") }
        let count = step > 0 ? max(0, (stop - start + step - 1) / step) : max(0, (start - stop - step - 1) / -step)
        guard count <= maxRange else {
            throw TemplateError.runtime("Range too big. The sandbox blocks ranges larger than MAX_RANGE (\(maxRange)).")
        }
        return .list((0..<count).map { .int(start + $0 * step) })
    }

    /// C `strftime` in the local time zone, as Python's `datetime.now().strftime`.
    static func strftime(_ format: String, _ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970)
        var tmv = tm()
        localtime_r(&t, &tmv)
        var buf = [Int8](repeating: 0, count: 512)
        let n = Foundation.strftime(&buf, buf.count, format, &tmv)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
