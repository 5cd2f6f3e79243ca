/// jinja2 "tests" (`x is defined`, `x is string`, …) with Python's type rules:
/// bool counts as a number, and dicts and strings count as sequences.
extension Interpreter {
    static let testNames: Set<String> = [
        "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "==", "escaped", "even", "false", "filter",
        "float", "ge", ">=", "gt", ">", "greaterthan", "in", "integer", "iterable", "le", "<=", "lower", "lt", "<",
        "lessthan", "mapping", "ne", "!=", "none", "number", "odd", "sameas", "sequence", "string", "test", "true",
        "undefined", "upper",
    ]

    func applyTest(_ name: String, _ v: Value, _ a: Arguments) throws -> Bool {
        try tick()
        let arg = a.positional.first ?? a.keyword.first?.1
        func needArg() throws -> Value {
            guard let arg else { throw TemplateError.runtime("test '\(name)' needs an argument") }
            return arg
        }
        switch name {
        case "defined": return !v.isUndefined
        case "undefined": return v.isUndefined
        case "none": return v.isNone
        case "boolean": if case .bool = v { return true }; return false
        case "true": if case .bool(true) = v { return true }; return false
        case "false": if case .bool(false) = v { return true }; return false
        case "string": if case .string = v { return true }; return false
        case "mapping": if case .dict = v { return true }; return false
        case "number":
            switch v { case .int, .float, .bool: return true; default: return false }
        case "integer": if case .int = v { return true }; return false
        case "float": if case .float = v { return true }; return false
        case "iterable": return v.isIterable  // jinja2's Undefined is iterable too
        case "sequence":
            switch v { case .string, .list, .tuple, .dict: return true; default: return false }
        case "callable":
            // jinja2's Undefined defines __call__ (it raises), so Python's callable() is true.
            switch v { case .callable, .undefined: return true; case .loop(let l): return l.recurse != nil; default: return false }
        case "escaped": return false
        case "lower": return v.pyStr == v.pyStr.lowercased()
        case "upper": return v.pyStr == v.pyStr.uppercased()
        case "even", "odd":
            if case .undefined(let u) = v { throw u.fail() }
            guard let i = Operators.intIndex(v) else {
                if case .float(let d) = v { return d.truncatingRemainder(dividingBy: 2) == (name == "even" ? 0 : 1) }
                throw TemplateError.runtime("unsupported operand type(s) for %: '\(v.typeName)' and 'int'")
            }
            return (i % 2 == 0) == (name == "even")
        case "divisibleby":
            guard case .int(let m) = try Operators.binary("%", v, try needArg(), self) else { return false }
            return m == 0
        case "eq", "equalto", "==": return Operators.equals(v, try needArg())
        case "ne", "!=": return !Operators.equals(v, try needArg())
        case "lt", "lessthan", "<": return try Operators.less(v, try needArg())
        case "gt", "greaterthan", ">": return try Operators.less(try needArg(), v)
        case "le", "<=": return try !Operators.less(try needArg(), v)
        case "ge", ">=": return try !Operators.less(v, try needArg())
        case "in": return try Operators.contains(try needArg(), v)
        case "sameas":
            let other = try needArg()
            switch (v, other) {
            case (.none, .none): return true
            case (.bool(let x), .bool(let y)): return x == y
            case (.namespace(let x), .namespace(let y)): return x === y
            case (.callable(let x), .callable(let y)): return x === y
            case (.int(let x), .int(let y)): return x == y && (-5...256).contains(x)
            default: return false
            }
        case "filter":
            guard case .string(let n) = v else { return false }
            return Interpreter.filterNames.contains(n)
        case "test":
            guard case .string(let n) = v else { return false }
            return Interpreter.testNames.contains(n)
        default:
            throw TemplateError.runtime("No test named '\(name)'.")
        }
    }
}
