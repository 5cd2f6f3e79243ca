/// Recursive-descent parser following jinja2's `parser.py` grammar and operator precedence:
/// condexpr < or < and < not < compare/in < +,- < ~ < *,/,//,% < ** < unary -,+ < postfix/filters.
struct Parser {
    private var t: [Token]
    private var i = 0
    private var loopDepth = 0
    /// Nesting depth of expressions and statements; bounded so that hostile input cannot
    /// overflow the stack (jinja2 hits Python's recursion limit in the same places).
    private var nesting = 0
    /// > 0 while parsing an `if`/`elif` condition or the test of `a if b else c`: jinja2 defers
    /// "No filter/test named" errors there to render time (its "soft frame").
    private var soft = 0
    private static let maxNesting = 128

    private mutating func enterNesting() throws {
        nesting += 1
        if nesting > Parser.maxNesting { throw fail("template nesting too deep") }
    }

    init(tokens: [Token]) { t = tokens }

    static func parse(_ source: String) throws -> [Stmt] {
        var lexer = Lexer(source)
        var p = Parser(tokens: try lexer.tokenize())
        let (body, _) = try p.subparse(end: [])
        return body
    }

    // MARK: token helpers

    private var cur: Token { t[i] }
    private func peek(_ n: Int = 1) -> Token { t[min(i + n, t.count - 1)] }
    private mutating func advance() -> Token { let tok = t[i]; if i < t.count - 1 { i += 1 }; return tok }
    private func isOp(_ v: String) -> Bool { cur.kind == .op && cur.value == v }
    private func isName(_ v: String) -> Bool { cur.kind == .name && cur.value == v }

    private func describe(_ tok: Token) -> String {
        switch tok.kind {
        case .eof: return "end of template"
        case .blockEnd, .varEnd: return "end of statement block"
        case .blockBegin: return "begin of statement block"
        case .varBegin: return "begin of print statement"
        case .text: return "template data"
        default: return "'\(tok.value)'"
        }
    }

    private func fail(_ m: String) -> TemplateError { TemplateError.syntax(m, line: cur.line) }

    private mutating func skipOp(_ v: String) -> Bool { if isOp(v) { _ = advance(); return true }; return false }
    private mutating func skipName(_ v: String) -> Bool { if isName(v) { _ = advance(); return true }; return false }

    private mutating func expectOp(_ v: String) throws {
        guard skipOp(v) else { throw fail("expected '\(v)', got \(describe(cur))") }
    }

    private mutating func expectKind(_ k: Token.Kind, _ what: String) throws -> Token {
        guard cur.kind == k else { throw fail("expected \(what), got \(describe(cur))") }
        return advance()
    }

    private mutating func expectName() throws -> String { try expectKind(.name, "name").value }
    private mutating func expectBlockEnd() throws { _ = try expectKind(.blockEnd, "end of statement block") }

    // MARK: statements

    /// Parses until a block tag whose name is in `end`; returns the body and that name,
    /// leaving the name token current.
    private mutating func subparse(end: Set<String>) throws -> ([Stmt], String?) {
        var body: [Stmt] = []
        while true {
            switch cur.kind {
            case .text:
                let tok = advance()
                body.append(Stmt(.text(tok.value), line: tok.line))
            case .varBegin:
                let line = advance().line
                let e = try parseTuple()
                _ = try expectKind(.varEnd, "end of print statement")
                body.append(Stmt(.output(e), line: line))
            case .blockBegin:
                _ = advance()
                if cur.kind == .name, end.contains(cur.value) { return (body, cur.value) }
                body.append(try parseStatement())
                try expectBlockEnd()
            case .eof:
                if !end.isEmpty {
                    throw fail("Unexpected end of template. Jinja was looking for the following tags: " +
                               end.sorted().map { "'\($0)'" }.joined(separator: " or "))
                }
                return (body, nil)
            default:
                throw fail("unexpected \(describe(cur))")
            }
        }
    }

    /// Parses a statement body up to one of `end`, consuming the end tag's name.
    private mutating func statements(until end: Set<String>) throws -> ([Stmt], String) {
        _ = skipOp(":")
        try expectBlockEnd()
        let (body, tag) = try subparse(end: end)
        _ = advance()
        return (body, tag ?? "")
    }

    private mutating func parseStatement() throws -> Stmt {
        try enterNesting()
        defer { nesting -= 1 }
        let tok = cur
        guard tok.kind == .name else { throw fail("tag name expected") }
        let line = tok.line
        _ = advance()
        switch tok.value {
        case "for": return try parseFor(line)
        case "if": return try parseIf(line)
        case "set": return try parseSet(line)
        case "macro": return try parseMacro(line)
        case "call": return try parseCallBlock(line)
        case "filter":
            let filters = try parseFilterChain()
            let (body, _) = try statements(until: ["endfilter"])
            return Stmt(.filterBlock(filters, body: body), line: line)
        case "with":
            var assigns: [(Target, Expr)] = []
            while cur.kind != .blockEnd {
                if !assigns.isEmpty { try expectOp(",") }
                let target = try parseAssignTarget(tuple: false)
                try expectOp("=")
                assigns.append((target, try parseExpression()))
            }
            let (body, _) = try statements(until: ["endwith"])
            return Stmt(.with(assigns, body: body), line: line)
        case "print":
            return Stmt(.output(try parseTuple()), line: line)
        case "generation":
            // HF's AssistantTracker tag: renders its body through a caller(), so it is a scope.
            let (body, _) = try statements(until: ["endgeneration"])
            return Stmt(.scoped(body), line: line)
        case "block":
            _ = try expectName()
            _ = skipName("scoped")
            _ = skipName("required")
            let (body, _) = try statements(until: ["endblock"])
            if cur.kind == .name { _ = advance() }
            return Stmt(.scoped(body), line: line)
        case "break", "continue":
            guard loopDepth > 0 else { throw TemplateError.syntax("'\(tok.value)' outside of a loop", line: line) }
            return Stmt(tok.value == "break" ? .breakLoop : .continueLoop, line: line)
        case "extends", "include", "import", "from":
            throw TemplateError.syntax("'\(tok.value)' is not supported: chat templates are rendered without a loader", line: line)
        default:
            throw TemplateError.syntax("Encountered unknown tag '\(tok.value)'.", line: line)
        }
    }

    private mutating func parseFor(_ line: Int) throws -> Stmt {
        let target = try parseAssignTarget(tuple: true, endNames: ["in"])
        guard skipName("in") else { throw fail("expected 'in', got \(describe(cur))") }
        let iter = try parseTuple(condexpr: false, endNames: ["recursive"])
        var condition: Expr?
        if skipName("if") { condition = try parseExpression() }
        let recursive = skipName("recursive")
        loopDepth += 1
        var (body, tag) = try statements(until: ["endfor", "else"])
        loopDepth -= 1
        var otherwise: [Stmt]?
        if tag == "else" {
            (body, tag) = (body, tag)
            let (elseBody, _) = try statements(until: ["endfor"])
            otherwise = elseBody
        }
        return Stmt(.forLoop(target: target, iterable: iter, condition: condition, body: body, otherwise: otherwise,
                             recursive: recursive), line: line)
    }

    private mutating func softly(_ body: (inout Parser) throws -> Expr) rethrows -> Expr {
        soft += 1
        defer { soft -= 1 }
        return try body(&self)
    }

    private mutating func parseIf(_ line: Int) throws -> Stmt {
        var branches: [(Expr, [Stmt])] = []
        var otherwise: [Stmt]?
        var cond = try softly { try $0.parseTuple(condexpr: false) }
        while true {
            let (body, tag) = try statements(until: ["elif", "else", "endif"])
            branches.append((cond, body))
            if tag == "elif" { cond = try softly { try $0.parseTuple(condexpr: false) }; continue }
            if tag == "else" { otherwise = try statements(until: ["endif"]).0 }
            break
        }
        return Stmt(.ifChain(branches, otherwise: otherwise), line: line)
    }

    private mutating func parseSet(_ line: Int) throws -> Stmt {
        let target = try parseAssignTarget(tuple: true, namespace: true)
        if skipOp("=") { return Stmt(.set(target, try parseTuple()), line: line) }
        let filters = skipOp("|") ? try parseFilterChain() : []
        let (body, _) = try statements(until: ["endset"])
        return Stmt(.setBlock(target, filters: filters, body: body), line: line)
    }

    private mutating func parseSignature() throws -> [(String, Expr?)] {
        var params: [(String, Expr?)] = []
        try expectOp("(")
        while !isOp(")") {
            if !params.isEmpty { try expectOp(",") }
            if isOp(")") { break }
            let name = try expectName()
            params.append((name, skipOp("=") ? try parseExpression() : nil))
        }
        try expectOp(")")
        return params
    }

    private mutating func parseMacro(_ line: Int) throws -> Stmt {
        let name = try expectName()
        let params = try parseSignature()
        let savedDepth = loopDepth
        loopDepth = 0
        let (body, _) = try statements(until: ["endmacro"])
        loopDepth = savedDepth
        return Stmt(.macro(MacroDef(name: name, params: params, body: body)), line: line)
    }

    private mutating func parseCallBlock(_ line: Int) throws -> Stmt {
        let params = isOp("(") ? try parseSignature() : []
        let call = try parseExpression()
        guard case .call = call.kind else { throw TemplateError.syntax("expected call", line: line) }
        let savedDepth = loopDepth
        loopDepth = 0
        let (body, _) = try statements(until: ["endcall"])
        loopDepth = savedDepth
        return Stmt(.callBlock(call: call, params: params, body: body), line: line)
    }

    private mutating func parseFilterChain() throws -> [(String, CallArgs)] {
        var filters: [(String, CallArgs)] = []
        guard cur.kind == .name else { return filters }
        repeat {
            filters.append(try parseFilterSpec())
        } while skipOp("|")
        return filters
    }

    private mutating func parseAssignTarget(tuple: Bool, namespace: Bool = false, endNames: Set<String> = []) throws -> Target {
        if namespace, cur.kind == .name, peek().kind == .op, peek().value == "." {
            let line = cur.line
            let base = Expr(.name(try expectName()), line: line)
            _ = advance()
            return .attribute(base, try expectName())
        }
        func one(_ p: inout Parser) throws -> Target {
            if p.skipOp("(") {
                let inner = try p.parseAssignTarget(tuple: true)
                try p.expectOp(")")
                return inner
            }
            return .name(try p.expectName())
        }
        var items = [try one(&self)]
        guard tuple else { return items[0] }
        var isTuple = false
        while isOp(",") {
            isTuple = true
            _ = advance()
            if cur.kind == .blockEnd || isOp(")") || isOp("=") || (cur.kind == .name && endNames.contains(cur.value)) { break }
            items.append(try one(&self))
        }
        return isTuple ? .tuple(items) : items[0]
    }

    // MARK: expressions

    mutating func parseExpression(condexpr: Bool = true) throws -> Expr {
        try enterNesting()
        defer { nesting -= 1 }
        return condexpr ? try parseCondexpr() : try parseOr()
    }

    private func isTupleEnd(_ endNames: Set<String>) -> Bool {
        switch cur.kind {
        case .varEnd, .blockEnd, .eof: return true
        case .op: return cur.value == ")"
        case .name: return endNames.contains(cur.value)
        default: return false
        }
    }

    mutating func parseTuple(condexpr: Bool = true, endNames: Set<String> = [], explicitParens: Bool = false) throws -> Expr {
        let line = cur.line
        var args: [Expr] = []
        var isTuple = false
        while true {
            if !args.isEmpty { try expectOp(",") }
            if isTupleEnd(endNames) { break }
            args.append(try parseExpression(condexpr: condexpr))
            if isOp(",") { isTuple = true } else { break }
        }
        if !isTuple {
            if let first = args.first { return first }
            if !explicitParens { throw fail("Expected an expression, got \(describe(cur))") }
        }
        return Expr(.tuple(args), line: line)
    }

    private mutating func parseCondexpr() throws -> Expr {
        var e = try parseOr()
        while isName("if") {
            let line = advance().line
            let test = try softly { try $0.parseOr() }
            let otherwise = skipName("else") ? try parseCondexpr() : nil
            e = Expr(.condition(test: test, then: e, otherwise: otherwise), line: line)
        }
        return e
    }

    private mutating func parseOr() throws -> Expr {
        var e = try parseAnd()
        while isName("or") { let line = advance().line; e = Expr(.or(e, try parseAnd()), line: line) }
        return e
    }

    private mutating func parseAnd() throws -> Expr {
        var e = try parseNot()
        while isName("and") { let line = advance().line; e = Expr(.and(e, try parseNot()), line: line) }
        return e
    }

    private mutating func parseNot() throws -> Expr {
        if isName("not") {
            try enterNesting()
            defer { nesting -= 1 }
            let line = advance().line
            return Expr(.not(try parseNot()), line: line)
        }
        return try parseCompare()
    }

    private mutating func parseCompare() throws -> Expr {
        let line = cur.line
        let e = try parseMath1()
        var ops: [(String, Expr)] = []
        while true {
            if cur.kind == .op, ["==", "!=", "<", ">", "<=", ">="].contains(cur.value) {
                let op = advance().value
                ops.append((op, try parseMath1()))
            } else if skipName("in") {
                ops.append(("in", try parseMath1()))
            } else if isName("not"), peek().kind == .name, peek().value == "in" {
                _ = advance(); _ = advance()
                ops.append(("notin", try parseMath1()))
            } else { break }
        }
        return ops.isEmpty ? e : Expr(.compare(e, ops), line: line)
    }

    private mutating func parseMath1() throws -> Expr {
        var e = try parseConcat()
        while cur.kind == .op, cur.value == "+" || cur.value == "-" {
            let tok = advance()
            e = Expr(.binary(tok.value, e, try parseConcat()), line: tok.line)
        }
        return e
    }

    private mutating func parseConcat() throws -> Expr {
        let line = cur.line
        var args = [try parseMath2()]
        while skipOp("~") { args.append(try parseMath2()) }
        return args.count == 1 ? args[0] : Expr(.concat(args), line: line)
    }

    private mutating func parseMath2() throws -> Expr {
        var e = try parsePow()
        while cur.kind == .op, ["*", "/", "//", "%"].contains(cur.value) {
            let tok = advance()
            e = Expr(.binary(tok.value, e, try parsePow()), line: tok.line)
        }
        return e
    }

    private mutating func parsePow() throws -> Expr {
        var e = try parseUnary()
        while isOp("**") { let tok = advance(); e = Expr(.binary("**", e, try parseUnary()), line: tok.line) }
        return e
    }

    private mutating func parseUnary(withFilter: Bool = true) throws -> Expr {
        try enterNesting()
        defer { nesting -= 1 }
        var e: Expr
        if cur.kind == .op, cur.value == "-" || cur.value == "+" {
            let tok = advance()
            e = Expr(.unary(tok.value, try parseUnary(withFilter: false)), line: tok.line)
        } else {
            e = try parsePrimary()
        }
        e = try parsePostfix(e)
        if withFilter { e = try parseFilterExpr(e) }
        return e
    }

    private mutating func parsePrimary() throws -> Expr {
        let tok = cur
        switch tok.kind {
        case .name:
            _ = advance()
            switch tok.value {
            case "true", "True": return Expr(.literal(.bool(true)), line: tok.line)
            case "false", "False": return Expr(.literal(.bool(false)), line: tok.line)
            case "none", "None": return Expr(.literal(.none), line: tok.line)
            default: return Expr(.name(tok.value), line: tok.line)
            }
        case .string:
            var s = advance().value
            while cur.kind == .string { s += advance().value }
            return Expr(.literal(.string(s)), line: tok.line)
        case .int:
            _ = advance()
            if let v = Lexer.parseInt(tok.value) { return Expr(.literal(.int(v)), line: tok.line) }
            return Expr(.literal(.float(Double(tok.value) ?? .infinity)), line: tok.line)
        case .float:
            _ = advance()
            return Expr(.literal(.float(Double(tok.value) ?? .nan)), line: tok.line)
        case .op where tok.value == "(":
            _ = advance()
            let e = try parseTuple(explicitParens: true)
            try expectOp(")")
            return e
        case .op where tok.value == "[":
            _ = advance()
            var items: [Expr] = []
            while !isOp("]") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("]") { break }
                items.append(try parseExpression())
            }
            try expectOp("]")
            return Expr(.list(items), line: tok.line)
        case .op where tok.value == "{":
            _ = advance()
            var items: [(Expr, Expr)] = []
            while !isOp("}") {
                if !items.isEmpty { try expectOp(",") }
                if isOp("}") { break }
                let k = try parseExpression()
                try expectOp(":")
                items.append((k, try parseExpression()))
            }
            try expectOp("}")
            return Expr(.dict(items), line: tok.line)
        default:
            throw fail("unexpected \(describe(tok))")
        }
    }

    private mutating func parsePostfix(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            if isOp(".") || isOp("[") { e = try parseSubscript(e) }
            else if isOp("(") { e = try parseCall(e) }
            else { return e }
        }
    }

    private mutating func parseFilterExpr(_ base: Expr) throws -> Expr {
        var e = base
        while true {
            if isOp("|") {
                let line = advance().line
                let (name, args) = try parseFilterSpec()
                e = Expr(.filter(e, name, args), line: line)
            } else if isName("is") {
                e = try parseTest(e)
            } else if isOp("(") {
                e = try parseCall(e)
            } else { return e }
        }
    }

    private mutating func parseSubscript(_ base: Expr) throws -> Expr {
        let tok = advance()
        if tok.value == "." {
            let attr = advance()
            if attr.kind == .name { return Expr(.attribute(base, attr.value), line: tok.line) }
            if attr.kind == .int, let v = Lexer.parseInt(attr.value) {
                return Expr(.item(base, Expr(.literal(.int(v)), line: tok.line)), line: tok.line)
            }
            throw TemplateError.syntax("expected name or number", line: attr.line)
        }
        var args: [Expr] = []
        var slice: (Expr?, Expr?, Expr?)?
        while !isOp("]") {
            if !args.isEmpty || slice != nil { try expectOp(",") }
            // Slices: a[start:stop:step], any part optional.
            var start: Expr?
            if !isOp(":") {
                start = try parseExpression()
                if !isOp(":") { args.append(start!); continue }
            }
            _ = advance()
            var stop: Expr?, step: Expr?
            if !isOp(":") && !isOp("]") && !isOp(",") { stop = try parseExpression() }
            if skipOp(":"), !isOp("]") && !isOp(",") { step = try parseExpression() }
            slice = (start, stop, step)
        }
        try expectOp("]")
        if let slice, args.isEmpty { return Expr(.slice(base, slice.0, slice.1, slice.2), line: tok.line) }
        if slice != nil { throw TemplateError.syntax("extended slicing is not supported", line: tok.line) }
        guard !args.isEmpty else { throw TemplateError.syntax("expected subscript expression", line: tok.line) }
        return Expr(.item(base, args.count == 1 ? args[0] : Expr(.tuple(args), line: tok.line)), line: tok.line)
    }

    private mutating func parseCallArgs() throws -> CallArgs {
        try expectOp("(")
        var args = CallArgs()
        var first = true
        while !isOp(")") {
            if !first { try expectOp(","); if isOp(")") { break } }
            first = false
            if skipOp("*") { args.star = try parseExpression() }
            else if skipOp("**") { args.starStar = try parseExpression() }
            else if cur.kind == .name, peek().kind == .op, peek().value == "=" {
                let name = advance().value
                _ = advance()
                args.keyword.append((name, try parseExpression()))
            } else {
                if !args.keyword.isEmpty || args.star != nil { throw fail("invalid syntax for function call expression") }
                args.positional.append(try parseExpression())
            }
        }
        try expectOp(")")
        return args
    }

    private mutating func parseCall(_ base: Expr) throws -> Expr {
        let line = cur.line
        return Expr(.call(base, try parseCallArgs()), line: line)
    }

    private mutating func parseDottedName() throws -> String {
        var name = try expectName()
        while isOp("."), peek().kind == .name { _ = advance(); name += "." + advance().value }
        return name
    }

    private mutating func parseFilterSpec() throws -> (String, CallArgs) {
        let line = cur.line
        let name = try parseDottedName()
        // jinja2 rejects unknown filters and tests when compiling, not when rendering.
        guard soft > 0 || Interpreter.filterNames.contains(name) else { throw TemplateError.syntax("No filter named '\(name)'.", line: line) }
        return (name, isOp("(") ? try parseCallArgs() : CallArgs())
    }

    private mutating func parseTest(_ base: Expr) throws -> Expr {
        let line = advance().line
        let negated = skipName("not")
        let nameLine = cur.line
        let name = try parseDottedName()
        guard soft > 0 || Interpreter.testNames.contains(name) else { throw TemplateError.syntax("No test named '\(name)'.", line: nameLine) }
        var args = CallArgs()
        if isOp("(") {
            args = try parseCallArgs()
        } else if [.name, .string, .int, .float].contains(cur.kind) || isOp("(") || isOp("[") || isOp("{") {
            if !(isName("else") || isName("or") || isName("and")) {
                if isName("is") { throw fail("You cannot chain multiple tests with is") }
                args.positional = [try parsePostfix(try parsePrimary())]
            }
        }
        let test = Expr(.test(base, name, args, negated: false), line: line)
        return negated ? Expr(.not(test), line: line) : test
    }
}

extension Lexer {
    /// Python int literal forms that jinja2 accepts: decimal, 0b, 0o, 0x.
    static func parseInt(_ text: String) -> Int? {
        let lower = text.lowercased()
        if lower.hasPrefix("0x") { return Int(lower.dropFirst(2), radix: 16) }
        if lower.hasPrefix("0o") { return Int(lower.dropFirst(2), radix: 8) }
        if lower.hasPrefix("0b") { return Int(lower.dropFirst(2), radix: 2) }
        return Int(text)
    }
}
