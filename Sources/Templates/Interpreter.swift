/// A variable scope. jinja2 opens a new one per for-loop iteration, macro call, `with` block and
/// call block; `if` does not open one. Lookups fall through to the parent.
final class Scope {
    var vars: [String: Value] = [:]
    let parent: Scope?
    init(parent: Scope?) { self.parent = parent }

    func lookup(_ name: String) -> Value? {
        var s: Scope? = self
        while let c = s {
            if let v = c.vars[name] { return v }
            s = c.parent
        }
        return nil
    }
}

/// Walks the statement tree and writes output. Work is bounded so that hostile or broken
/// templates end with an error instead of hanging or exhausting the stack.
final class Interpreter {
    enum Flow { case normal, breakLoop, continueLoop }

    /// Work budget: statements, loop iterations, filter and macro calls.
    var maxSteps = 2_000_000
    static let maxCallDepth = 64
    static let maxOutput = 64 << 20

    private var steps = 0
    private var callDepth = 0

    func tick(_ n: Int = 1) throws {
        // Saturating: `n` can come from the template (`'x' * 9223372036854775807`).
        let (sum, overflow) = steps.addingReportingOverflow(n)
        steps = overflow ? Int.max : sum
        if steps > maxSteps { throw TemplateError(kind: .limit, message: "rendering took too many steps") }
    }

    func checkSize(_ s: String) throws {
        if s.utf8.count > Interpreter.maxOutput { throw TemplateError(kind: .limit, message: "output too large") }
    }

    // MARK: statements

    func render(_ body: [Stmt], scope: Scope) throws -> String {
        var out = ""
        _ = try exec(body, scope, &out)
        return out
    }

    func exec(_ stmts: [Stmt], _ scope: Scope, _ out: inout String) throws -> Flow {
        for st in stmts {
            try tick()
            do {
                let flow = try execOne(st, scope, &out)
                if flow != .normal { return flow }
            } catch let e as TemplateError {
                throw e.at(st.line)
            }
        }
        return .normal
    }

    private func execOne(_ st: Stmt, _ scope: Scope, _ out: inout String) throws -> Flow {
        switch st.kind {
        case .text(let s):
            out += s
        case .output(let e):
            out += try eval(e, scope).pyStr
            try checkSize(out)
        case .ifChain(let branches, let otherwise):
            for (cond, body) in branches where try eval(cond, scope).truthy {
                return try exec(body, scope, &out)
            }
            if let otherwise { return try exec(otherwise, scope, &out) }
        case .forLoop(let target, let iterable, let condition, let body, let otherwise, let recursive):
            let items = try eval(iterable, scope).iterate()
            try runLoop(items: items, target: target, condition: condition, body: body, otherwise: otherwise,
                        recursive: recursive, depth0: 0, scope: scope, out: &out)
        case .set(let target, let e):
            try assign(target, try eval(e, scope), scope)
        case .setBlock(let target, let filters, let body):
            var v = Value.string(try render(body, scope: Scope(parent: scope)))
            for (name, args) in filters { v = try applyFilter(name, v, try evalArgs(args, scope)) }
            try assign(target, v, scope)
        case .macro(let def):
            scope.vars[def.name] = .callable(makeMacro(def, scope: scope))
        case .callBlock(let callExpr, let params, let body):
            guard case .call(let callee, let args) = callExpr.kind else { break }
            let caller = makeMacro(MacroDef(name: "caller", params: params, body: body), scope: scope)
            var a = try evalArgs(args, scope)
            a.keyword.append(("caller", .callable(caller)))
            out += try call(try eval(callee, scope), a).pyStr
        case .filterBlock(let filters, let body):
            var v = Value.string(try render(body, scope: Scope(parent: scope)))
            for (name, args) in filters { v = try applyFilter(name, v, try evalArgs(args, scope)) }
            out += v.pyStr
        case .with(let assigns, let body):
            let inner = Scope(parent: scope)
            let values = try assigns.map { try eval($0.1, scope) }
            for ((target, _), v) in zip(assigns, values) { try assign(target, v, inner) }
            return try exec(body, inner, &out)
        case .scoped(let body):
            return try exec(body, Scope(parent: scope), &out)
        case .breakLoop:
            return .breakLoop
        case .continueLoop:
            return .continueLoop
        }
        return .normal
    }

    private func runLoop(items all: [Value], target: Target, condition: Expr?, body: [Stmt], otherwise: [Stmt]?,
                         recursive: Bool, depth0: Int, scope: Scope, out: inout String) throws {
        var items = all
        if let condition {
            // The loop filter sees the loop target but not `loop`.
            items = try all.filter { item in
                let s = Scope(parent: scope)
                try assign(target, item, s)
                return try eval(condition, s).truthy
            }
        }
        if items.isEmpty {
            if let otherwise { _ = try exec(otherwise, scope, &out) }
            return
        }
        var recurse: Callable?
        if recursive {
            recurse = Callable("loop") { [unowned self] args in
                guard let next = args.positional.first else { throw TemplateError.runtime("loop() takes exactly one argument") }
                var sub = ""
                try self.enterCall()
                defer { self.callDepth -= 1 }
                try self.runLoop(items: try next.iterate(), target: target, condition: condition, body: body, otherwise: nil,
                                 recursive: true, depth0: depth0 + 1, scope: scope, out: &sub)
                return .string(sub)
            }
        }
        let loop = LoopState(items: items, depth0: depth0, recurse: recurse)
        for (idx, item) in items.enumerated() {
            try tick()
            loop.index0 = idx
            let s = Scope(parent: scope)
            try assign(target, item, s)
            s.vars["loop"] = .loop(loop)
            if try exec(body, s, &out) == .breakLoop { break }
        }
    }

    func assign(_ target: Target, _ v: Value, _ scope: Scope) throws {
        switch target {
        case .name(let n):
            scope.vars[n] = v
        case .tuple(let targets):
            let items = try v.iterate()
            guard items.count == targets.count else {
                throw TemplateError.runtime(items.count < targets.count
                    ? "not enough values to unpack (expected \(targets.count), got \(items.count))"
                    : "too many values to unpack (expected \(targets.count))")
            }
            for (t, x) in zip(targets, items) { try assign(t, x, scope) }
        case .attribute(let base, let attr):
            guard case .namespace(let ns) = try eval(base, scope) else {
                throw TemplateError.runtime("cannot assign attribute on non-namespace object")
            }
            // A namespace holding itself would make printing it recurse without end.
            guard !Self.reaches(v, ns) else { throw TemplateError.runtime("a namespace cannot contain itself") }
            ns.attrs[string: attr] = v
        }
    }

    /// Whether `ns` is `value` or inside it (lists, tuples, dicts, namespaces).
    static func reaches(_ value: Value, _ ns: Namespace) -> Bool {
        switch value {
        case .namespace(let inner): inner === ns || inner.attrs.entries.contains { reaches($0.value, ns) }
        case .list(let items), .tuple(let items): items.contains { reaches($0, ns) }
        case .dict(let d): d.entries.contains { reaches($0.value, ns) }
        default: false
        }
    }

    func enterCall() throws {
        callDepth += 1
        if callDepth > Interpreter.maxCallDepth {
            callDepth -= 1
            throw TemplateError(kind: .limit, message: "maximum call depth exceeded")
        }
    }

    /// Scopes captured by macros. A macro holds its defining scope and that scope holds the
    /// macro, so `releaseMacroScopes` must clear them after a render or the cycle leaks.
    private var macroScopes: [Scope] = []

    func releaseMacroScopes() {
        for scope in macroScopes { scope.vars.removeAll() }
        macroScopes.removeAll()
    }

    private func makeMacro(_ def: MacroDef, scope: Scope) -> Callable {
        macroScopes.append(scope)
        return Callable(def.name) { [unowned self] args in
            try self.enterCall()
            defer { self.callDepth -= 1 }
            try self.tick()
            let s = Scope(parent: scope)
            var positional = args.positional
            var extraKw = PyDict()
            for (k, v) in args.keyword {
                if k == "caller" { s.vars["caller"] = v; continue }
                if def.params.contains(where: { $0.0 == k }) { s.vars[k] = v } else { extraKw[string: k] = v }
            }
            for (name, defaultExpr) in def.params where s.vars[name] == nil {
                if !positional.isEmpty { s.vars[name] = positional.removeFirst(); continue }
                if let defaultExpr { s.vars[name] = try self.eval(defaultExpr, s) } else {
                    s.vars[name] = .undefined(Undefined(hint: "parameter '\(name)' was not provided"))
                }
            }
            s.vars["varargs"] = .tuple(positional)
            s.vars["kwargs"] = .dict(extraKw)
            if s.vars["caller"] == nil { s.vars["caller"] = .undefined(.named("caller")) }
            return .string(try self.render(def.body, scope: s))
        }
    }

    // MARK: expressions

    func evalArgs(_ a: CallArgs, _ scope: Scope) throws -> Arguments {
        var out = Arguments()
        out.positional = try a.positional.map { try eval($0, scope) }
        if let star = a.star { out.positional += try eval(star, scope).iterate() }
        out.keyword = try a.keyword.map { ($0.0, try eval($0.1, scope)) }
        if let ss = a.starStar {
            guard case .dict(let d) = try eval(ss, scope) else { throw TemplateError.runtime("argument after ** must be a mapping") }
            for e in d.entries { out.keyword.append((e.key.pyStr, e.value)) }
        }
        return out
    }

    func call(_ f: Value, _ args: Arguments) throws -> Value {
        switch f {
        case .callable(let c):
            let v = try c.body(args)
            if case .string(let s) = v { try checkSize(s) }
            return v
        case .undefined(let u): throw u.fail()
        case .loop(let l):
            guard let r = l.recurse else { throw TemplateError.runtime("'LoopContext' object is not callable") }
            return try r.body(args)
        default: throw TemplateError.runtime("'\(f.typeName)' object is not callable")
        }
    }

    func eval(_ e: Expr, _ scope: Scope) throws -> Value {
        switch e.kind {
        case .literal(let v): return v
        case .name(let n): return scope.lookup(n) ?? .undefined(.named(n))
        case .list(let items): return .list(try items.map { try eval($0, scope) })
        case .tuple(let items): return .tuple(try items.map { try eval($0, scope) })
        case .dict(let pairs):
            var d = PyDict()
            for (k, v) in pairs {
                let key = try eval(k, scope)
                guard HashKey(key) != nil else { throw TemplateError.runtime("unhashable type: '\(key.typeName)'") }
                d[key] = try eval(v, scope)
            }
            return .dict(d)
        case .attribute(let base, let name): return try getAttr(try eval(base, scope), name)
        case .item(let base, let key): return try getItem(try eval(base, scope), try eval(key, scope))
        case .slice(let base, let a, let b, let c):
            return try Operators.slice(try eval(base, scope), a.map { try eval($0, scope) }, b.map { try eval($0, scope) },
                                       c.map { try eval($0, scope) })
        case .call(let callee, let args):
            return try call(try eval(callee, scope), try evalArgs(args, scope))
        case .filter(let base, let name, let args):
            return try applyFilter(name, try eval(base, scope), try evalArgs(args, scope))
        case .test(let base, let name, let args, _):
            return .bool(try applyTest(name, try eval(base, scope), try evalArgs(args, scope)))
        case .unary(let op, let x):
            return try Operators.unary(op, try eval(x, scope))
        case .binary(let op, let l, let r):
            return try Operators.binary(op, try eval(l, scope), try eval(r, scope), self)
        case .compare(let first, let ops):
            var left = try eval(first, scope)
            for (op, rhs) in ops {
                let right = try eval(rhs, scope)
                if !(try Operators.compare(op, left, right)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .and(let l, let r):
            let a = try eval(l, scope)
            return a.truthy ? try eval(r, scope) : a
        case .or(let l, let r):
            let a = try eval(l, scope)
            return a.truthy ? a : try eval(r, scope)
        case .not(let x):
            return .bool(!(try eval(x, scope).truthy))
        case .condition(let test, let then, let otherwise):
            if try eval(test, scope).truthy { return try eval(then, scope) }
            if let otherwise { return try eval(otherwise, scope) }
            return .undefined(Undefined(hint: "the inline if-expression on line \(e.line) evaluated to false and no else section was defined."))
        case .concat(let parts):
            var s = ""
            for p in parts { s += try eval(p, scope).pyStr }
            try checkSize(s)
            return .string(s)
        }
    }

    /// `a.b`: Python attributes first (so `d.items` is the method), then items — jinja2's `getattr`.
    func getAttr(_ v: Value, _ name: String) throws -> Value {
        switch v {
        case .undefined(let u): throw u.fail()
        case .dict(let d):
            if let m = Methods.method(v, name) { return .callable(m) }
            return d[string: name] ?? .undefined(.attribute(v, name))
        case .namespace(let ns):
            return ns.attrs[string: name] ?? .undefined(.attribute(v, name))
        case .loop(let l):
            return l.attribute(name) ?? .undefined(.attribute(v, name))
        default:
            if let m = Methods.method(v, name) { return .callable(m) }
            return .undefined(.attribute(v, name))
        }
    }

    /// `a[b]`: items first, then attributes for string keys — jinja2's `getitem`.
    func getItem(_ v: Value, _ key: Value) throws -> Value {
        switch v {
        case .undefined(let u): throw u.fail()
        case .dict(let d):
            if let x = d[key] { return x }
        case .list(let a), .tuple(let a):
            if let i = Operators.intIndex(key) {
                let j = i < 0 ? i + a.count : i
                if j >= 0 && j < a.count { return a[j] }
                return .undefined(.item(v, key))
            }
        case .string(let s):
            if let i = Operators.intIndex(key) {
                let u = Array(s.unicodeScalars)
                let j = i < 0 ? i + u.count : i
                if j >= 0 && j < u.count { return .string(String(u[j])) }
                return .undefined(.item(v, key))
            }
        case .namespace(let ns):
            if let x = ns.attrs[key] { return x }
        case .loop:
            break
        default:
            break
        }
        if case .string(let name) = key { return try getAttr(v, name) }
        return .undefined(.item(v, key))
    }
}
