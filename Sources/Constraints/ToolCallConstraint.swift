import Engine

/// Token sequences in a prefix tree: which next tokens keep a partial sequence on the way to one
/// of the entries.
public struct TokenTrie: Sendable {
    /// Per node: token → child node. Node 0 is the root.
    private(set) var children: [[Int: Int]] = [[:]]
    /// Per node: the entry that ends here, if any.
    private(set) var terminal: [Int?] = [nil]
    /// Per node: the entries in its subtree.
    private(set) var reachable: [Set<Int>] = [[]]

    public init(_ sequences: [[Int]]) {
        for (entry, tokens) in sequences.enumerated() {
            var node = 0
            reachable[0].insert(entry)
            for t in tokens {
                if let next = children[node][t] {
                    node = next
                } else {
                    children.append([:])
                    terminal.append(nil)
                    reachable.append([])
                    children[node][t] = children.count - 1
                    node = children.count - 1
                }
                reachable[node].insert(entry)
            }
            if terminal[node] == nil { terminal[node] = entry }
        }
    }

    public static let root = 0

    /// Next tokens from `node` that still lead to an entry in `allowed` (nil: any entry).
    public func nextTokens(from node: Int, allowed: Set<Int>? = nil) -> [Int] {
        children[node].compactMap { token, child in
            guard let allowed else { return token }
            return reachable[child].isDisjoint(with: allowed) ? nil : token
        }
    }

    public func child(_ node: Int, _ token: Int) -> Int? { children[node][token] }
    public func entry(endingAt node: Int) -> Int? { terminal[node] }
}

/// The GLM-4.5 tool-call format as token ids, for `ToolCallConstraint` (spec §8.1):
///
///     "\n" <tool_call> NAME "\n" { <arg_key> KEY </arg_key> "\n" <arg_value> VALUE </arg_value> "\n" } </tool_call>
///
/// `NAME "\n"` and `KEY` are the tokenizer's encodings of the text (what the chat template renders
/// for a call in the history); VALUE is free text without added tokens.
public struct ToolCallGrammar: Sendable {
    public struct Function: Sendable {
        public var name: String
        /// Encoding of `name + "\n"`.
        public var nameTokens: [Int]
        /// The schema's property names with their encodings; nil when the schema names no
        /// properties (any key is accepted then).
        public var properties: [(name: String, tokens: [Int])]?
        /// Property names that must appear before `</tool_call>`.
        public var required: Set<String>

        public init(name: String, nameTokens: [Int], properties: [(name: String, tokens: [Int])]?, required: Set<String>) {
            self.name = name
            self.nameTokens = nameTokens
            self.properties = properties
            self.required = required
        }
    }

    public struct Tokens: Sendable {
        public var newline: Int
        public var toolCallStart: Int
        public var toolCallEnd: Int
        public var argKeyStart: Int
        public var argKeyEnd: Int
        public var argValueStart: Int
        public var argValueEnd: Int
        public var thinkEnd: Int

        public init(newline: Int, toolCallStart: Int, toolCallEnd: Int, argKeyStart: Int, argKeyEnd: Int,
                    argValueStart: Int, argValueEnd: Int, thinkEnd: Int) {
            self.newline = newline
            self.toolCallStart = toolCallStart
            self.toolCallEnd = toolCallEnd
            self.argKeyStart = argKeyStart
            self.argKeyEnd = argKeyEnd
            self.argValueStart = argValueStart
            self.argValueEnd = argValueEnd
            self.thinkEnd = thinkEnd
        }
    }

    public var functions: [Function]
    public var tokens: Tokens
    /// Tokens that end generation (allowed only after a complete call).
    public var stopTokens: Set<Int>
    /// Tokens never allowed inside keys and values (the tokenizer's added tokens).
    public var markupTokens: Set<Int>
    /// More calls may follow the first (`parallel_tool_calls`, never for a named tool).
    public var allowsMultipleCalls: Bool

    public init(functions: [Function], tokens: Tokens, stopTokens: Set<Int>, markupTokens: Set<Int>,
                allowsMultipleCalls: Bool) {
        self.functions = functions
        self.tokens = tokens
        self.stopTokens = stopTokens
        self.markupTokens = markupTokens
        self.allowsMultipleCalls = allowsMultipleCalls
    }
}

/// Enforces `tool_choice: "required"` or a named function during decoding: the answer must be one
/// or more complete GLM tool calls of the allowed functions (argument keys from each function's
/// schema, required keys present), followed by a stop token.
///
/// With thinking on (`startsInReasoning`), the model first thinks freely (it may not stop
/// there); `</think>` or a `<tool_call>` then starts the forced call. With thinking off (the
/// prompt already ends with `<think></think>`) the call starts at the first token. Argument
/// values are free text up to `</arg_value>`; their JSON types are not enforced.
public struct ToolCallConstraint: LogitProcessor {
    private enum State {
        case reasoning
        /// These exact tokens, then `next`.
        case literal([Int], next: Next)
        case name(node: Int)
        /// After the name line or a value: another `<arg_key>` or `</tool_call>`.
        case betweenArguments
        case key(node: Int)
        case anyKey
        case value
        case afterCall
        /// Finished, or left the grammar (nothing is enforced any more).
        case done
    }

    private enum Next { case name, value, betweenArguments }

    private let grammar: ToolCallGrammar
    private let names: TokenTrie
    /// Per function: a trie over its property names (nil when any key is allowed).
    private let keys: [TokenTrie?]
    private var state: State
    private var function = 0
    private var usedKeys: Set<Int> = []
    private var keyText: [Int] = []

    public init(grammar: ToolCallGrammar, startsInReasoning: Bool) {
        self.grammar = grammar
        names = TokenTrie(grammar.functions.map(\.nameTokens))
        keys = grammar.functions.map { f in f.properties.map { TokenTrie($0.map(\.tokens)) } }
        let t = grammar.tokens
        state = startsInReasoning ? .reasoning : .literal([t.newline, t.toolCallStart], next: .name)
    }

    /// The function being called (after its name was generated).
    public var currentFunction: String? { grammar.functions.indices.contains(function) ? grammar.functions[function].name : nil }

    public mutating func process(_ logits: inout [Float], generated: [Int]) {
        switch state {
        case .done:
            return
        case .reasoning:
            ban(grammar.stopTokens, in: &logits)
        case .value:
            ban(grammar.markupTokens.union(grammar.stopTokens), in: &logits, except: grammar.tokens.argValueEnd)
        case .anyKey:
            ban(grammar.markupTokens.union(grammar.stopTokens), in: &logits, except: grammar.tokens.argKeyEnd)
        default:
            allowOnly(allowedTokens(), in: &logits)
        }
    }

    public mutating func didSample(_ token: Int) {
        let t = grammar.tokens
        switch state {
        case .done:
            break
        case .reasoning:
            if token == t.thinkEnd { state = .literal([t.newline, t.toolCallStart], next: .name) }
            else if token == t.toolCallStart { state = .name(node: TokenTrie.root) }
        case .literal(var rest, let next):
            guard rest.first == token else { state = .done; return }
            rest.removeFirst()
            if !rest.isEmpty { state = .literal(rest, next: next); return }
            switch next {
            case .name: state = .name(node: TokenTrie.root)
            case .value: state = .value
            case .betweenArguments: state = .betweenArguments
            }
        case .name(let node):
            guard let child = names.child(node, token) else { state = .done; return }
            if let f = names.entry(endingAt: child) {
                function = f
                usedKeys = []
                state = .betweenArguments
            } else {
                state = .name(node: child)
            }
        case .betweenArguments:
            if token == t.argKeyStart {
                keyText = []
                state = keys[function] == nil ? .anyKey : .key(node: TokenTrie.root)
            } else if token == t.toolCallEnd {
                state = .afterCall
            } else {
                state = .done
            }
        case .key(let node):
            if token == t.argKeyEnd, let k = keys[function]?.entry(endingAt: node) {
                usedKeys.insert(k)
                state = .literal([t.newline, t.argValueStart], next: .value)
            } else if let child = keys[function]?.child(node, token) {
                state = .key(node: child)
            } else {
                state = .done
            }
        case .anyKey:
            if token == t.argKeyEnd { state = .literal([t.newline, t.argValueStart], next: .value) }
        case .value:
            if token == t.argValueEnd { state = .literal([t.newline], next: .betweenArguments) }
        case .afterCall:
            if grammar.stopTokens.contains(token) { state = .done }
            else if token == t.newline && grammar.allowsMultipleCalls { state = .literal([t.toolCallStart], next: .name) }
            else { state = .done }
        }
    }

    /// Allowed tokens in the states that allow only a few.
    private func allowedTokens() -> [Int] {
        let t = grammar.tokens
        switch state {
        case .literal(let rest, _):
            return [rest[0]]
        case .name(let node):
            return names.nextTokens(from: node)
        case .betweenArguments:
            let f = grammar.functions[function]
            var out: [Int] = []
            if let props = f.properties {
                if usedKeys.count < props.count { out.append(t.argKeyStart) }
                let usedNames = Set(usedKeys.map { props[$0].name })
                if f.required.isSubset(of: usedNames) { out.append(t.toolCallEnd) }
            } else {
                out = [t.argKeyStart, t.toolCallEnd]
            }
            return out
        case .key(let node):
            guard let trie = keys[function], let props = grammar.functions[function].properties else { return [] }
            let unused = Set(props.indices).subtracting(usedKeys)
            var out = trie.nextTokens(from: node, allowed: unused)
            if let k = trie.entry(endingAt: node), unused.contains(k) { out.append(t.argKeyEnd) }
            return out
        case .afterCall:
            return Array(grammar.stopTokens) + (grammar.allowsMultipleCalls ? [t.newline] : [])
        case .reasoning, .value, .anyKey, .done:
            return []
        }
    }

    private func allowOnly(_ allowed: [Int], in logits: inout [Float]) {
        guard !allowed.isEmpty else { return }
        var kept: [(Int, Float)] = []
        for a in allowed where a >= 0 && a < logits.count { kept.append((a, logits[a])) }
        guard !kept.isEmpty else { return }
        // If the model (or a logit bias) ruled out every allowed token, choose among them evenly.
        let allRuledOut = kept.allSatisfy { !($0.1 > -.infinity) }
        for i in logits.indices { logits[i] = -.infinity }
        for (a, v) in kept { logits[a] = allRuledOut || v.isNaN ? 0 : v }
    }

    private func ban(_ tokens: Set<Int>, in logits: inout [Float], except: Int? = nil) {
        for t in tokens where t != except && t >= 0 && t < logits.count { logits[t] = -.infinity }
    }
}
