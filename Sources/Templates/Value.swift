import Foundation
import OrderedJSON

/// A runtime value of the template language, modelled on the Python objects jinja2 sees.
///
/// Lists and dicts are values (HF renders in an `ImmutableSandboxedEnvironment`, where templates
/// cannot mutate them); only `namespace()` objects are mutable, hence a class.
enum Value {
    case undefined(Undefined)
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case list([Value])
    case tuple([Value])
    case dict(PyDict)
    case namespace(Namespace)
    case callable(Callable)
    case loop(LoopState)

    static let empty = Value.string("")

    init(json: JSONValue) {
        switch json {
        case .null: self = .none
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .bigInt(let digits): self = .float(Double(digits) ?? .nan)  // beyond Int: the nearest float
        case .double(let d): self = .float(d)
        case .string(let s): self = .string(s)
        case .array(let a): self = .list(a.map(Value.init(json:)))
        case .object(let o):
            var d = PyDict()
            for (k, v) in o.entries { d[.string(k)] = Value(json: v) }
            self = .dict(d)
        }
    }

    var isUndefined: Bool { if case .undefined = self { return true }; return false }
    var isNone: Bool { if case .none = self { return true }; return false }

    var asString: String? { if case .string(let s) = self { return s }; return nil }

    /// Python truthiness (`Undefined` is falsy).
    var truthy: Bool {
        switch self {
        case .undefined, .none: return false
        case .bool(let b): return b
        case .int(let i): return i != 0
        case .float(let d): return d != 0
        case .string(let s): return !s.isEmpty
        case .list(let a), .tuple(let a): return !a.isEmpty
        case .dict(let d): return d.count > 0
        case .namespace, .callable, .loop: return true
        }
    }

    /// The Python type name, used in error messages ("'dict object' has no attribute …").
    var typeName: String {
        switch self {
        case .undefined: return "Undefined"
        case .none: return "NoneType"
        case .bool: return "bool"
        case .int: return "int"
        case .float: return "float"
        case .string: return "str"
        case .list: return "list"
        case .tuple: return "tuple"
        case .dict: return "dict"
        case .namespace: return "Namespace"
        case .callable: return "function"
        case .loop: return "LoopContext"
        }
    }

    /// Python `str(x)`; `Undefined` is "".
    var pyStr: String {
        switch self {
        case .undefined: return ""
        case .string(let s): return s
        default: return pyRepr
        }
    }

    /// Python `repr(x)`, used when containers are printed.
    var pyRepr: String {
        switch self {
        case .undefined: return ""
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let d): return PythonJSON.floatRepr(d)
        case .string(let s): return PyFormat.stringRepr(s)
        case .list(let a): return "[" + a.map(\.pyRepr).joined(separator: ", ") + "]"
        case .tuple(let a): return "(" + a.map(\.pyRepr).joined(separator: ", ") + (a.count == 1 ? ",)" : ")")
        case .dict(let d): return "{" + d.entries.map { "\($0.key.pyRepr): \($0.value.pyRepr)" }.joined(separator: ", ") + "}"
        case .namespace(let n): return "<Namespace \(n.attrs.entries.map { "\($0.key.pyStr)=\($0.value.pyRepr)" }.joined(separator: ", "))>"
        case .callable(let c): return "<function \(c.name)>"
        case .loop: return "<LoopContext>"
        }
    }

    /// Items when iterated (`for x in v`): dicts yield keys, strings yield characters.
    func iterate() throws -> [Value] {
        switch self {
        case .undefined: return []
        case .list(let a), .tuple(let a): return a
        case .dict(let d): return d.entries.map(\.key)
        case .string(let s): return s.unicodeScalars.map { .string(String($0)) }
        case .namespace(let n): return n.attrs.entries.map(\.key)
        default: throw TemplateError.runtime("'\(typeName)' object is not iterable")
        }
    }

    var isIterable: Bool {
        switch self {
        case .undefined, .list, .tuple, .dict, .string, .namespace: return true
        default: return false
        }
    }
}

/// jinja2's default `Undefined`: renders empty, is falsy and iterates as empty, but
/// raises on attribute access, calls and arithmetic. `hint` is jinja2's error message.
struct Undefined {
    var hint: String

    static func named(_ name: String) -> Undefined { Undefined(hint: "'\(name)' is undefined") }
    static func attribute(_ owner: Value, _ attr: String) -> Undefined {
        Undefined(hint: "'\(owner.typeName) object' has no attribute '\(attr)'")
    }
    static func item(_ owner: Value, _ key: Value) -> Undefined {
        Undefined(hint: "'\(owner.typeName) object' has no attribute \(key.pyRepr)")
    }

    func fail() -> TemplateError { TemplateError.undefined(hint) }
}

/// Insertion-ordered dict with Python key equality (`1 == 1.0 == True`).
struct PyDict {
    struct Entry {
        var key: Value
        var value: Value
    }
    private(set) var entries: [Entry] = []
    private var index: [HashKey: Int] = [:]

    var count: Int { entries.count }

    subscript(key: Value) -> Value? {
        get { HashKey(key).flatMap { index[$0] }.map { entries[$0].value } }
        set {
            guard let h = HashKey(key), let newValue else { return }
            if let i = index[h] { entries[i].value = newValue } else {
                index[h] = entries.count
                entries.append(Entry(key: key, value: newValue))
            }
        }
    }

    subscript(string key: String) -> Value? {
        get { self[.string(key)] }
        set { self[.string(key)] = newValue }
    }
}

/// Hashable projection of the value kinds Python allows as dict keys.
enum HashKey: Hashable {
    case none, int(Int), float(Double), string(String), tuple([HashKey])

    init?(_ v: Value) {
        switch v {
        case .none: self = .none
        case .bool(let b): self = .int(b ? 1 : 0)
        case .int(let i): self = .int(i)
        case .float(let d): self = (d == d.rounded() && abs(d) < 9e18) ? .int(Int(d)) : .float(d)
        case .string(let s): self = .string(s)
        case .tuple(let a):
            var ks: [HashKey] = []
            for x in a { guard let k = HashKey(x) else { return nil }; ks.append(k) }
            self = .tuple(ks)
        default: return nil
        }
    }
}

/// The mutable object made by `namespace(...)`; `{% set ns.x = … %}` writes into it.
final class Namespace {
    var attrs = PyDict()
}

/// Positional and keyword arguments of a call, as Python passes them.
struct Arguments {
    var positional: [Value] = []
    var keyword: [(String, Value)] = []

    /// Binds arguments to parameter names; a missing parameter with no default is an error.
    func bind(_ names: [String], defaults: [String: Value] = [:], function: String) throws -> [String: Value] {
        var out: [String: Value] = [:]
        if positional.count > names.count {
            throw TemplateError.runtime("\(function)() takes at most \(names.count) arguments (\(positional.count) given)")
        }
        for (i, v) in positional.enumerated() { out[names[i]] = v }
        for (k, v) in keyword {
            guard names.contains(k) else { throw TemplateError.runtime("\(function)() got an unexpected keyword argument '\(k)'") }
            out[k] = v
        }
        for n in names where out[n] == nil {
            if let d = defaults[n] { out[n] = d }
        }
        return out
    }
}

/// A callable value: macros, globals such as `range`, and bound methods like `str.split`.
final class Callable {
    let name: String
    let body: (Arguments) throws -> Value
    init(_ name: String, _ body: @escaping (Arguments) throws -> Value) {
        self.name = name
        self.body = body
    }
}

/// The `loop` variable inside a for loop.
final class LoopState {
    let items: [Value]
    var index0 = 0
    let depth0: Int
    let recurse: Callable?
    init(items: [Value], depth0: Int, recurse: Callable?) {
        self.items = items
        self.depth0 = depth0
        self.recurse = recurse
    }

    func attribute(_ name: String) -> Value? {
        let n = items.count
        switch name {
        case "index0": return .int(index0)
        case "index": return .int(index0 + 1)
        case "revindex": return .int(n - index0)
        case "revindex0": return .int(n - index0 - 1)
        case "first": return .bool(index0 == 0)
        case "last": return .bool(index0 == n - 1)
        case "length": return .int(n)
        case "depth0": return .int(depth0)
        case "depth": return .int(depth0 + 1)
        case "previtem": return index0 > 0 ? items[index0 - 1] : .undefined(Undefined(hint: "there is no previous item"))
        case "nextitem": return index0 + 1 < n ? items[index0 + 1] : .undefined(Undefined(hint: "there is no next item"))
        case "cycle":
            return .callable(Callable("cycle") { [self] args in
                guard !args.positional.isEmpty else { throw TemplateError.runtime("no items for cycling given") }
                return args.positional[self.index0 % args.positional.count]
            })
        case "changed":
            return .callable(Callable("changed") { _ in .bool(true) })
        default: return nil
        }
    }
}
