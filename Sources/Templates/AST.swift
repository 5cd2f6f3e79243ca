/// Expression nodes. Each carries the template line it started on, for error messages.
final class Expr {
    enum Kind {
        case literal(Value)
        case name(String)
        case list([Expr])
        case tuple([Expr])
        case dict([(Expr, Expr)])
        case attribute(Expr, String)
        case item(Expr, Expr)
        case slice(Expr, Expr?, Expr?, Expr?)
        case call(Expr, CallArgs)
        case filter(Expr, String, CallArgs)
        case test(Expr, String, CallArgs, negated: Bool)
        case unary(String, Expr)
        case binary(String, Expr, Expr)
        case compare(Expr, [(String, Expr)])
        case and(Expr, Expr)
        case or(Expr, Expr)
        case not(Expr)
        case condition(test: Expr, then: Expr, otherwise: Expr?)
        case concat([Expr])
    }
    let kind: Kind
    let line: Int
    init(_ kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
    }
}

struct CallArgs {
    var positional: [Expr] = []
    var keyword: [(String, Expr)] = []
    var star: Expr?
    var starStar: Expr?
}

/// Assignment targets of `set` and `for`: a name, `ns.attr`, or a tuple of names.
indirect enum Target {
    case name(String)
    case attribute(Expr, String)
    case tuple([Target])
}

struct MacroDef {
    let name: String
    let params: [(String, Expr?)]
    let body: [Stmt]
}

/// Statement nodes.
final class Stmt {
    enum Kind {
        case text(String)
        case output(Expr)
        case ifChain([(Expr, [Stmt])], otherwise: [Stmt]?)
        case forLoop(target: Target, iterable: Expr, condition: Expr?, body: [Stmt], otherwise: [Stmt]?, recursive: Bool)
        case set(Target, Expr)
        case setBlock(Target, filters: [(String, CallArgs)], body: [Stmt])
        case macro(MacroDef)
        case callBlock(call: Expr, params: [(String, Expr?)], body: [Stmt])
        case filterBlock([(String, CallArgs)], body: [Stmt])
        case with([(Target, Expr)], body: [Stmt])
        case scoped([Stmt])
        case breakLoop
        case continueLoop
    }
    let kind: Kind
    let line: Int
    init(_ kind: Kind, line: Int) {
        self.kind = kind
        self.line = line
    }
}
