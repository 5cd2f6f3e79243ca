import Engine
import OrderedJSON

/// A JSON schema compiled for constrained decoding (`response_format: {"type": "json_schema"}`).
///
/// Enforced: `type` (one or a list), `properties`, `required`, `additionalProperties`, `items`,
/// `minItems`, `maxItems`, `minLength`, `maxLength` (characters as Python counts them),
/// `minimum`, `maximum` and their exclusive forms on integers, `enum`, `const`, `anyOf`, `oneOf`
/// (as `anyOf`), a one-element `allOf`, `nullable`, and local `$ref`s into `$defs` /
/// `definitions` (recursion allowed). Objects with `properties` take only those keys unless
/// `additionalProperties` allows more (as OpenAI's strict mode and xgrammar do), each key at
/// most once, in any order. Keywords that only narrow values further (`pattern`, `format`,
/// bounds on non-integer numbers, …) are not enforced; anything that would change the structure
/// and is not listed above is refused.
public struct JSONSchemaGrammar: Sendable {
    enum Node: Sendable {
        case alternatives([Int])
        /// `properties`: each key's JSON-escaped bytes (no quotes) and value node.
        case object(properties: [(key: [UInt8], node: Int)], required: [Int], additional: Int?)
        case array(items: Int, minItems: Int, maxItems: Int?)
        case string(minLength: Int, maxLength: Int?)
        /// `lowest` and `highest` are inclusive bounds, on integers only.
        case number(integer: Bool, lowest: Int?, highest: Int?)
        /// A fixed JSON text: true, false, null, an `enum` member or `const`.
        case literal([UInt8])
    }

    /// Any JSON value: one of the seven nodes after it.
    static let anyNode = 0, trueNode = 1, falseNode = 2, nullNode = 3
    private(set) var nodes: [Node] = [
        .alternatives(Array(1...7)), .literal(Array("true".utf8)), .literal(Array("false".utf8)), .literal(Array("null".utf8)),
        .object(properties: [], required: [], additional: anyNode), .array(items: anyNode, minItems: 0, maxItems: nil),
        .string(minLength: 0, maxLength: nil), .number(integer: false, lowest: nil, highest: nil),
    ]
    /// The node of the whole document.
    private(set) var root = 0
    /// For each `.alternatives` node, the other nodes a value of it can start as, without repeats
    /// (empty for other nodes): reading a value never walks alternatives within alternatives, so
    /// however references and `anyOf`s nest, one step costs one reading per distinct start.
    private(set) var starts: [[Int]] = []
    /// The recognizer's limits at run time.
    let budget: JSONSchemaBudget

    /// Compiles `schema` within `budget`; throws `JSONSchemaError` naming the unsupported or
    /// malformed part, or the limit it goes beyond, and `CancellationError` when
    /// `budget.isCancelled` says so.
    public init(schema: JSONValue, budget: JSONSchemaBudget = JSONSchemaBudget()) throws {
        self.budget = budget
        var compiler = Compiler(document: schema, budget: budget)
        root = try compiler.compile(schema, at: "schema", into: &nodes)
        starts = try compiler.resolveStarts(nodes)
    }

    private struct Compiler {
        let document: JSONValue
        let budget: JSONSchemaBudget
        let deadline: ContinuousClock.Instant
        var references: [String: Int] = [:]
        /// Where each `.alternatives` node comes from, for errors about reference loops.
        var origins: [Int: String] = [:]
        var depth = 0

        init(document: JSONValue, budget: JSONSchemaBudget) {
            self.document = document
            self.budget = budget
            deadline = .now + budget.compileTime
        }

        /// Throws once the schema has cost more than the budget allows, or the caller gave up.
        func checkBudget(nodes: Int) throws {
            if budget.isCancelled() { throw CancellationError() }
            if nodes > budget.maxNodes {
                throw JSONSchemaError("the schema needs more than \(budget.maxNodes) grammar nodes, more than this server "
                                      + "compiles for one request")
            }
            if ContinuousClock.now > deadline {
                throw JSONSchemaError("compiling the schema took longer than this server allows (\(budget.compileTime))")
            }
        }

        mutating func compile(_ schema: JSONValue, at path: String, into nodes: inout [Node]) throws -> Int {
            try checkBudget(nodes: nodes.count)
            depth += 1
            defer { depth -= 1 }
            if depth > JSONSchemaBudget.maxDepth {
                throw JSONSchemaError("the schema is nested more than \(JSONSchemaBudget.maxDepth) schemas deep (at "
                                      + "\(path.prefix(60))…)")
            }
            switch schema {
            case .bool(true): return JSONSchemaGrammar.anyNode
            case .bool(false): throw JSONSchemaError("\(path) is `false`, which no value satisfies")
            case .object(let s): return try compile(object: s, at: path, into: &nodes)
            default: throw JSONSchemaError("\(path) must be a JSON schema object")
            }
        }

        private func add(_ node: Node, into nodes: inout [Node]) -> Int {
            nodes.append(node)
            return nodes.count - 1
        }

        private mutating func compile(object s: JSONObject, at path: String, into nodes: inout [Node]) throws -> Int {
            if case .string(let ref)? = s["$ref"] { return try reference(ref, at: path, into: &nodes) }
            if let values = s["enum"] {
                guard case .array(let members) = values, !members.isEmpty else {
                    throw JSONSchemaError("\(path).enum must be a non-empty array")
                }
                try checkBudget(nodes: nodes.count + members.count)
                return add(.alternatives(members.map { add(.literal(Array($0.compactJSON.utf8)), into: &nodes) }), into: &nodes)
            }
            if let value = s["const"] { return add(.literal(Array(value.compactJSON.utf8)), into: &nodes) }
            for keyword in ["anyOf", "oneOf"] {
                guard let options = s[keyword] else { continue }
                guard case .array(let list) = options, !list.isEmpty else {
                    throw JSONSchemaError("\(path).\(keyword) must be a non-empty array of schemas")
                }
                let alternatives = try list.enumerated().map { try compile($1, at: "\(path).\(keyword)[\($0)]", into: &nodes) }
                origins[nodes.count] = "\(path).\(keyword)"
                return add(.alternatives(alternatives), into: &nodes)
            }
            if let all = s["allOf"] {
                guard case .array(let list) = all, list.count == 1 else {
                    throw JSONSchemaError("\(path).allOf is supported with one schema only")
                }
                return try compile(list[0], at: "\(path).allOf[0]", into: &nodes)
            }
            for keyword in ["not", "if", "prefixItems", "patternProperties", "dependentSchemas", "unevaluatedProperties"]
            where s[keyword] != nil {
                throw JSONSchemaError("\(path).\(keyword) is not supported")
            }

            var types: [String]
            switch s["type"] {
            case nil: types = s["properties"] != nil ? ["object"] : s["items"] != nil ? ["array"] : []
            case .string(let t)?: types = [t]
            case .array(let list)?:
                types = try list.map {
                    guard case .string(let t) = $0 else { throw JSONSchemaError("\(path).type must list type names") }
                    return t
                }
            default: throw JSONSchemaError("\(path).type must be a type name or a list of them")
            }
            if s["nullable"] == .bool(true), !types.isEmpty, !types.contains("null") { types.append("null") }
            guard !types.isEmpty else { return JSONSchemaGrammar.anyNode }
            let typed = try types.map { try compile(type: $0, s, at: path, into: &nodes) }
            return typed.count == 1 ? typed[0] : add(.alternatives(typed), into: &nodes)
        }

        private mutating func compile(type: String, _ s: JSONObject, at path: String, into nodes: inout [Node]) throws -> Int {
            switch type {
            case "string":
                let minLength = try count(s["minLength"], "\(path).minLength") ?? 0
                let maxLength = try count(s["maxLength"], "\(path).maxLength")
                if let maxLength, maxLength < minLength { throw JSONSchemaError("\(path).maxLength is below minLength") }
                return add(.string(minLength: minLength, maxLength: maxLength), into: &nodes)
            case "integer":
                let (lowest, highest) = try integerBounds(s, at: path)
                return add(.number(integer: true, lowest: lowest, highest: highest), into: &nodes)
            case "number": return add(.number(integer: false, lowest: nil, highest: nil), into: &nodes)
            case "boolean": return add(.alternatives([JSONSchemaGrammar.trueNode, JSONSchemaGrammar.falseNode]), into: &nodes)
            case "null": return JSONSchemaGrammar.nullNode
            case "array":
                let items = try s["items"].map { try compile($0, at: "\(path).items", into: &nodes) } ?? JSONSchemaGrammar.anyNode
                let minItems = try count(s["minItems"], "\(path).minItems") ?? 0
                let maxItems = try count(s["maxItems"], "\(path).maxItems")
                if let maxItems, maxItems < minItems { throw JSONSchemaError("\(path).maxItems is below minItems") }
                return add(.array(items: items, minItems: minItems, maxItems: maxItems), into: &nodes)
            case "object":
                var properties: [(key: [UInt8], node: Int)] = []
                if let p = s["properties"] {
                    guard case .object(let declared) = p else { throw JSONSchemaError("\(path).properties must be an object") }
                    for (key, schema) in declared.entries {
                        let escaped = Array(JSONValue.string(key).compactJSON.utf8.dropFirst().dropLast())
                        properties.append((escaped, try compile(schema, at: "\(path).properties.\(key)", into: &nodes)))
                    }
                }
                var required: [Int] = []
                if let r = s["required"] {
                    guard case .array(let names) = r else { throw JSONSchemaError("\(path).required must be a list of names") }
                    for name in names {
                        guard case .string(let key) = name else { throw JSONSchemaError("\(path).required must list names") }
                        let escaped = Array(JSONValue.string(key).compactJSON.utf8.dropFirst().dropLast())
                        guard let i = properties.firstIndex(where: { $0.key == escaped }) else {
                            throw JSONSchemaError("\(path).required names '\(key)', which is not in properties")
                        }
                        if !required.contains(i) { required.append(i) }
                    }
                }
                let additional: Int?
                switch s["additionalProperties"] {
                case nil: additional = properties.isEmpty ? JSONSchemaGrammar.anyNode : nil
                case .bool(false)?: additional = nil
                case let schema?: additional = try compile(schema, at: "\(path).additionalProperties", into: &nodes)
                }
                return add(.object(properties: properties, required: required, additional: additional), into: &nodes)
            default:
                throw JSONSchemaError("\(path).type \"\(type)\" is not a JSON schema type")
            }
        }

        /// `minimum`, `maximum`, `exclusiveMinimum` and `exclusiveMaximum` (a number, or draft 4's
        /// boolean beside `minimum`/`maximum`) as inclusive integer bounds. The recognizer reads
        /// magnitudes below 10^18 only, so a bound beyond that is tightened to it (every integer
        /// written then still satisfies the schema), and a schema that allows only integers beyond
        /// it is refused.
        private func integerBounds(_ s: JSONObject, at path: String) throws -> (Int?, Int?) {
            func number(_ keyword: String) throws -> Double? {
                switch s[keyword] {
                case nil, .bool?: return nil
                case .int(let n)?: return Double(n)
                case .double(let x)? where x.isFinite: return x
                default: throw JSONSchemaError("\(path).\(keyword) must be a number")
                }
            }
            var lowest: Double? = try number("minimum").map { $0.rounded(.up) }
            var highest: Double? = try number("maximum").map { $0.rounded(.down) }
            if s["exclusiveMinimum"] == .bool(true), let m = lowest, m == (try number("minimum")) { lowest = m + 1 }
            if s["exclusiveMaximum"] == .bool(true), let m = highest, m == (try number("maximum")) { highest = m - 1 }
            if let x = try number("exclusiveMinimum") { lowest = max(lowest ?? -.infinity, x.rounded(.down) + 1) }
            if let x = try number("exclusiveMaximum") { highest = min(highest ?? .infinity, x.rounded(.up) - 1) }
            if let lowest, let highest, lowest > highest { throw JSONSchemaError("\(path): no integer is within its bounds") }
            let reach = Double(JSONSchemaBudget.largestInteger)
            if let lowest, lowest > reach {
                throw JSONSchemaError("\(path).minimum: integers of 10^18 and more are not supported")
            }
            if let highest, highest < -reach {
                throw JSONSchemaError("\(path).maximum: integers of -10^18 and less are not supported")
            }
            return (lowest.map { Int(max($0, -reach)) }, highest.map { Int(min($0, reach)) })
        }

        private func count(_ value: JSONValue?, _ path: String) throws -> Int? {
            switch value {
            case nil: return nil
            case .int(let n)? where n >= 0: return Int(n)
            default: throw JSONSchemaError("\(path) must be a non-negative integer")
            }
        }

        /// A local reference ("#", "#/$defs/Name", "#/definitions/Name", deeper JSON pointers),
        /// compiled once, so recursive schemas are finite.
        private mutating func reference(_ ref: String, at path: String, into nodes: inout [Node]) throws -> Int {
            if let known = references[ref] { return known }
            guard ref == "#" || ref.hasPrefix("#/") else {
                throw JSONSchemaError("\(path).$ref \"\(ref)\": only references inside the schema (#/...) are supported")
            }
            var target = document
            let parts = ref == "#" ? [] : ref.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false)
            for raw in parts {
                let part = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                guard case .object(let o) = target, let next = o[part] else {
                    throw JSONSchemaError("\(path).$ref \"\(ref)\" does not point into the schema")
                }
                target = next
            }
            // Reserve the node first: the target may refer back to itself.
            origins[nodes.count] = "\(path).$ref \"\(ref)\""
            let slot = add(.alternatives([]), into: &nodes)
            references[ref] = slot
            let compiled = try compile(target, at: ref, into: &nodes)
            nodes[slot] = .alternatives([compiled])
            return slot
        }

        /// `starts` for every node. Alternatives that lead back to themselves through alternatives
        /// only (`{"$ref": "#"}`, `a → b → a`, `anyOf: [{"$ref": "#"}]`) would be read without
        /// consuming input, forever: such a schema is refused, naming where the loop starts.
        func resolveStarts(_ nodes: [Node]) throws -> [[Int]] {
            var starts = [[Int]](repeating: [], count: nodes.count)
            enum Mark { case new, open, done }
            var marks = [Mark](repeating: .new, count: nodes.count)
            var total = 0
            for first in nodes.indices {
                guard case .alternatives = nodes[first], marks[first] == .new else { continue }
                // Depth first without recursion (reference chains may be long): (node, next option).
                var path: [(node: Int, next: Int)] = [(first, 0)]
                marks[first] = .open
                while let (node, next) = path.last {
                    guard case .alternatives(let options) = nodes[node] else { preconditionFailure("not alternatives") }
                    if next < options.count {
                        path[path.count - 1].next += 1
                        let option = options[next]
                        guard case .alternatives = nodes[option] else { continue }
                        switch marks[option] {
                        case .new:
                            marks[option] = .open
                            path.append((option, 0))
                        case .open:
                            let loop = path.map(\.node).drop { $0 != option }
                            let place = loop.lazy.compactMap { origins[$0] }.first { $0.contains("$ref") }
                                ?? loop.lazy.compactMap { origins[$0] }.first ?? "schema"
                            throw JSONSchemaError("\(place) refers back to itself before any value starts (a reference "
                                                  + "loop that consumes no input)")
                        case .done: break
                        }
                        continue
                    }
                    var seen = Set<Int>(), list: [Int] = []
                    for option in options {
                        if case .alternatives = nodes[option] {
                            for s in starts[option] where seen.insert(s).inserted { list.append(s) }
                        } else if seen.insert(option).inserted {
                            list.append(option)
                        }
                    }
                    total += list.count
                    if total > budget.maxNodes * 4 {
                        throw JSONSchemaError("the schema's alternatives need more than \(budget.maxNodes * 4) entries, "
                                              + "more than this server compiles for one request")
                    }
                    starts[node] = list
                    marks[node] = .done
                    path.removeLast()
                }
                try checkBudget(nodes: nodes.count)
            }
            return starts
        }
    }
}

/// Limits on what one `json_schema` may cost, so that no request holds the server: compiling is
/// bounded in time and grammar size, and reading in parse states and work per token.
public struct JSONSchemaBudget: Sendable {
    /// Grammar nodes (a few per schema keyword).
    public var maxNodes = 20_000
    /// Wall-clock time for compiling one schema.
    public var compileTime: Duration = .seconds(1)
    /// Readings of the text the recognizer may follow at once (alternatives that all still fit).
    public var maxReadings = 1_000
    /// Recognizer steps (one reading, one byte) spent masking the vocabulary for one token. GLM's
    /// 151k-token vocabulary costs about 130,000 steps per reading followed (measured on a simple
    /// object schema), so this allows some 15 readings' worth.
    public var maxStepsPerToken = 2_000_000
    /// Polled while compiling: true stops it with `CancellationError` (the client went away).
    public var isCancelled: @Sendable () -> Bool = { false }

    /// Schemas nested deeper than this are refused.
    public static let maxDepth = 200
    /// Integer bounds are read up to this magnitude (10^18 - 1).
    static let largestInteger = 999_999_999_999_999_999

    public init() {}
}

public struct JSONSchemaError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A byte-at-a-time recognizer for the prefixes of JSON texts a `JSONSchemaGrammar` accepts.
/// It follows every way the text so far can be read (alternatives fork), so `feed` is exact:
/// a byte is accepted when some completion of the text is valid. White space between tokens is
/// bounded as in `JSONObjectPrefix`.
struct JSONSchemaPrefix: JSONPrefixRecognizer {
    typealias Number = JSONLexer.Number
    typealias StringState = JSONLexer.StringState
    enum ObjectPhase: Hashable, Sendable { case open, key, colon(value: Int), afterValue }
    enum ArrayPhase: Hashable, Sendable { case open, value, afterValue }
    enum Frame: Hashable, Sendable {
        case value(Int)
        case object(node: Int, seen: [Int], phase: ObjectPhase)
        case key(bytes: [UInt8], state: StringState)
        case array(node: Int, count: Int, phase: ArrayPhase)
        case string(node: Int, text: StringCount, state: StringState)
        case number(node: Int, state: Number, value: IntegerPrefix)
        case literal(node: Int, next: Int)
    }
    /// A string value's characters so far, as Python counts them once decoded (a `\u` surrogate
    /// pair is one), for `minLength`/`maxLength`.
    struct StringCount: Hashable, Sendable {
        var characters = 0
        /// UTF-8 continuation bytes the current character still needs (checked under `maxLength`,
        /// where a stray byte would decode to one more character than was counted).
        var continuation = 0
        /// The hex digits of the `\u` escape being read.
        var escape = 0
        var afterHighSurrogate = false
    }
    /// An integer's sign and magnitude so far (nil beyond 10^17: larger than any bound that matters).
    struct IntegerPrefix: Hashable, Sendable {
        var negative = false
        var magnitude: Int? = 0
    }
    struct Reading: Hashable, Sendable {
        var stack: [Frame]
        var spaces = 0
    }

    let grammar: JSONSchemaGrammar
    private var readings: [Reading]

    init(grammar: JSONSchemaGrammar) {
        self.grammar = grammar
        readings = [Reading(stack: [.value(grammar.root)])]
    }

    var isComplete: Bool { readings.contains { isComplete($0) } }
    /// The only reading is inside a string value, or a key any text may spell, after no escape.
    var isInsidePlainString: Bool {
        guard readings.count == 1, let top = readings[0].stack.last else { return false }
        if case .string(let node, _, .plain) = top, case .string(_, nil) = grammar.nodes[node] { return true }
        if case .key(_, .plain) = top, readings[0].stack.count >= 2,
           case .object(let node, _, _) = readings[0].stack[readings[0].stack.count - 2],
           case .object(let properties, _, .some) = grammar.nodes[node], properties.isEmpty {
            return true
        }
        return false
    }
    var canContinue: Bool { readings.contains { !$0.stack.isEmpty } }

    private func isComplete(_ r: Reading) -> Bool {
        if r.stack.isEmpty { return true }
        if r.stack.count == 1, case .number(let node, let n, let value) = r.stack[0] { return isWhole(node, n, value) }
        return false
    }

    /// The inclusive bounds of an integer node that has any.
    private func integerBounds(_ node: Int) -> (Int?, Int?)? {
        guard case .number(true, let lowest, let highest) = grammar.nodes[node], lowest != nil || highest != nil else { return nil }
        return (lowest, highest)
    }

    /// The number read so far may end here.
    private func isWhole(_ node: Int, _ n: Number, _ value: IntegerPrefix) -> Bool {
        guard JSONLexer.isAccepting(n) else { return false }
        guard let (lowest, highest) = integerBounds(node) else { return true }
        guard let m = value.magnitude else { return (value.negative ? lowest : highest) == nil }
        let v = value.negative ? -m : m
        return (lowest.map { v >= $0 } ?? true) && (highest.map { v <= $0 } ?? true)
    }

    /// Some integer that starts with the digits read so far lies within the node's bounds.
    private func canReachBounds(_ node: Int, _ n: Number, _ value: IntegerPrefix) -> Bool {
        guard let (lowest, highest) = integerBounds(node) else { return true }
        switch n {
        case .sign: return (lowest ?? 0) <= 0          // "-" goes on to 0 or any negative integer
        case .zero: return isWhole(node, n, value)
        default: break
        }
        // Magnitudes m·10^k … m·10^k + 10^k − 1 for k = 0, 1, …; only a bound on the side the sign
        // grows towards can rule them all out.
        let limit = value.negative ? lowest.map { -$0 } : highest
        guard let limit else { return true }
        guard var low = value.magnitude else { return false }
        var span = 1
        while low <= limit {
            let (lo, hi) = value.negative ? (-(low + span - 1), -low) : (low, low + span - 1)
            if (lowest.map { hi >= $0 } ?? true) && (highest.map { lo <= $0 } ?? true) { return true }
            let (next, overflow) = low.multipliedReportingOverflow(by: 10)
            if overflow || span > Int.max / 10 { return false }
            (low, span) = (next, span * 10)
        }
        return false
    }

    var readingCount: Int { readings.count }
    private(set) var isOverBudget = false

    mutating func feed(_ byte: UInt8) -> Bool {
        var next: [Reading] = []
        for reading in readings { step(reading, byte, into: &next) }
        if next.count > 1 { next = Array(Set(next)) }
        if next.count > grammar.budget.maxReadings {
            isOverBudget = true
            next = []
        }
        readings = next
        return !next.isEmpty
    }

    private func step(_ reading: Reading, _ byte: UInt8, into out: inout [Reading]) {
        var r = reading
        let space = JSONLexer.isSpace(byte)
        guard let top = r.stack.popLast() else {  // the document is complete: a little white space may follow
            if space && r.spaces < 2 {
                r.spaces += 1
                out.append(r)
            }
            return
        }
        if top.countsSpaces {  // "\n" and four spaces per open container
            r.spaces = space ? r.spaces + 1 : 0
            let open = r.stack.reduce(top.isContainer ? 1 : 0) { $0 + ($1.isContainer ? 1 : 0) }
            if r.spaces > 2 + 4 * open { return }
        }

        switch top {
        case .value(let node):
            if space { r.stack.append(top); out.append(r); return }
            start(node, byte, r, into: &out)

        case .literal(let node, let at):
            guard case .literal(let text) = grammar.nodes[node], text[at] == byte else { return }
            if at + 1 < text.count { r.stack.append(.literal(node: node, next: at + 1)) }
            out.append(r)

        case .string(let node, let text, let state):
            guard let s = JSONLexer.stringByte(state, byte),
                  case .string(let minLength, let maxLength) = grammar.nodes[node] else { return }
            guard let s else {  // the closing quote
                if text.characters >= minLength && (maxLength == nil || text.continuation == 0) { out.append(r) }
                return
            }
            // Only a string with bounds counts, so an unbounded one stays one state per escape phase.
            let counted = minLength > 0 || maxLength != nil ? Self.count(text, state, byte) : text
            if let maxLength {
                guard counted.characters <= maxLength, Self.isWholeUTF8(text, state, byte) else { return }
                // No room left: an escape under way can only be the second half of a surrogate pair.
                if counted.characters == maxLength, s != .plain {
                    guard counted.afterHighSurrogate else { return }
                    if case .unicode(let left) = s {
                        let lowest = counted.escape << (4 * left), highest = lowest | ((1 << (4 * left)) - 1)
                        guard highest >= 0xDC00 && lowest <= 0xDFFF else { return }
                    }
                }
            }
            r.stack.append(.string(node: node, text: counted, state: s))
            out.append(r)

        case .key(let bytes, let state):
            guard case .object(let node, var seen, _)? = r.stack.popLast(),
                  case .object(let properties, _, let additional) = grammar.nodes[node] else { return }
            guard let s = JSONLexer.stringByte(state, byte) else { return }
            guard let s else {  // the key is complete
                if let i = properties.indices.first(where: { properties[$0].key == bytes && !seen.contains($0) }) {
                    seen.append(i)
                    r.stack.append(.object(node: node, seen: seen, phase: .colon(value: properties[i].node)))
                } else if let additional, !properties.contains(where: { $0.key == bytes }) {
                    r.stack.append(.object(node: node, seen: seen, phase: .colon(value: additional)))
                } else {
                    return
                }
                out.append(r)
                return
            }
            let grown = bytes + [byte]
            if additional == nil {
                let fits = properties.indices.contains { i in
                    !seen.contains(i) && properties[i].key.count >= grown.count && properties[i].key.starts(with: grown)
                }
                if !fits { return }
            }
            r.stack.append(.object(node: node, seen: seen, phase: .key))
            r.stack.append(.key(bytes: grown, state: s))
            out.append(r)

        case .object(let node, let seen, let phase):
            if space { r.stack.append(top); out.append(r); return }
            guard case .object(let properties, let required, let additional) = grammar.nodes[node] else { return }
            let canClose = required.allSatisfy(seen.contains)
            let canGrow = additional != nil || seen.count < properties.count
            switch phase {
            case .open, .key:
                if byte == UInt8(ascii: "\"") && (phase == .key || canGrow) {
                    r.stack.append(.object(node: node, seen: seen, phase: .key))
                    r.stack.append(.key(bytes: [], state: .plain))
                    out.append(r)
                } else if byte == UInt8(ascii: "}") && phase == .open && canClose {
                    out.append(r)
                }
            case .colon(let value):
                guard byte == UInt8(ascii: ":") else { return }
                r.stack.append(.object(node: node, seen: seen, phase: .afterValue))
                r.stack.append(.value(value))
                out.append(r)
            case .afterValue:
                if byte == UInt8(ascii: ",") && canGrow {
                    r.stack.append(.object(node: node, seen: seen, phase: .key))
                    out.append(r)
                } else if byte == UInt8(ascii: "}") && canClose {
                    out.append(r)
                }
            }

        case .array(let node, let count, let phase):
            guard case .array(let items, let minItems, let maxItems) = grammar.nodes[node] else { return }
            if space { r.stack.append(top); out.append(r); return }
            let canGrow = maxItems.map { count < $0 } ?? true
            if byte == UInt8(ascii: "]") && phase != .value && count >= minItems {
                out.append(r)
                return
            }
            switch phase {
            case .open, .value:
                guard canGrow else { return }
                r.stack.append(.array(node: node, count: count + 1, phase: .afterValue))
                start(items, byte, r, into: &out)
            case .afterValue:
                guard byte == UInt8(ascii: ","), canGrow else { return }
                r.stack.append(.array(node: node, count: count, phase: .value))
                out.append(r)
            }

        case .number(let node, let n, let value):
            guard case .number(let integer, _, _) = grammar.nodes[node] else { return }
            if let m = JSONLexer.numberByte(n, byte, integer: integer) {
                let grown = grow(node, value, m, byte)
                guard canReachBounds(node, m, grown) else { return }
                r.stack.append(.number(node: node, state: m, value: grown))
                out.append(r)
            } else if isWhole(node, n, value) {
                // The number is complete; the byte belongs to what follows it.
                r.spaces = 0
                step(r, byte, into: &out)
            }
        }
    }

    /// The first byte of a value of `node`.
    private func start(_ node: Int, _ byte: UInt8, _ reading: Reading, into out: inout [Reading]) {
        var r = reading
        switch grammar.nodes[node] {
        case .alternatives:
            for option in grammar.starts[node] { start(option, byte, reading, into: &out) }
        case .object:
            guard byte == UInt8(ascii: "{") else { return }
            r.stack.append(.object(node: node, seen: [], phase: .open))
            out.append(r)
        case .array:
            guard byte == UInt8(ascii: "[") else { return }
            r.stack.append(.array(node: node, count: 0, phase: .open))
            out.append(r)
        case .string:
            guard byte == UInt8(ascii: "\"") else { return }
            r.stack.append(.string(node: node, text: StringCount(), state: .plain))
            out.append(r)
        case .number(let integer, _, _):
            guard let n = JSONLexer.numberStart(byte, integer: integer) else { return }
            let value = grow(node, IntegerPrefix(), n, byte)
            guard canReachBounds(node, n, value) else { return }
            r.stack.append(.number(node: node, state: n, value: value))
            out.append(r)
        case .literal(let text):
            guard text.first == byte else { return }
            if text.count > 1 { r.stack.append(.literal(node: node, next: 1)) }
            out.append(r)
        }
    }
}

extension JSONSchemaPrefix {
    /// `text` after `byte`, read in string state `state`: a character counts where it starts,
    /// an escape where it ends (a low surrogate right after a high one adds nothing).
    fileprivate static func count(_ text: StringCount, _ state: StringState, _ byte: UInt8) -> StringCount {
        var t = text
        switch state {
        case .plain:
            if byte & 0xC0 == 0x80 {  // a UTF-8 continuation byte
                t.continuation = max(0, t.continuation - 1)
            } else if byte != UInt8(ascii: "\\") {
                t.characters += 1
                t.afterHighSurrogate = false
                t.continuation = byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : 0
            }
        case .escape:
            if byte == UInt8(ascii: "u") {
                t.escape = 0
            } else {
                t.characters += 1
                t.afterHighSurrogate = false
            }
        case .unicode(let left):
            t.escape = t.escape * 16 + Int(hexValue(byte))
            if left == 1 {
                let pairs = t.afterHighSurrogate && (0xDC00...0xDFFF).contains(t.escape)
                if !pairs { t.characters += 1 }
                t.afterHighSurrogate = !pairs && (0xD800...0xDBFF).contains(t.escape)
            }
        }
        return t
    }

    /// `byte` keeps the string well-formed UTF-8: continuation bytes only where a character needs
    /// them, and nothing else (no new character, escape or closing quote) while one does.
    fileprivate static func isWholeUTF8(_ text: StringCount, _ state: StringState, _ byte: UInt8) -> Bool {
        guard state == .plain else { return true }
        if byte & 0xC0 == 0x80 { return text.continuation > 0 }
        return text.continuation == 0 && !(0xC0...0xC1).contains(byte) && byte < 0xF5
    }

    private static func hexValue(_ b: UInt8) -> UInt8 {
        b <= UInt8(ascii: "9") ? b - UInt8(ascii: "0") : (b | 0x20) - UInt8(ascii: "a") + 10
    }

    /// `value` after `byte` took the number to state `n`: digits of the integer part only, and only
    /// for an integer with bounds (other numbers keep one state).
    fileprivate func grow(_ node: Int, _ value: IntegerPrefix, _ n: Number, _ byte: UInt8) -> IntegerPrefix {
        guard integerBounds(node) != nil else { return value }
        var v = value
        switch n {
        case .sign: v.negative = true
        case .zero, .integer:
            v.magnitude = v.magnitude.flatMap { m in m < 100_000_000_000_000_000 ? m * 10 + Int(byte - UInt8(ascii: "0")) : nil }
        default: break
        }
        return v
    }
}

private extension JSONSchemaPrefix.Frame {
    var isContainer: Bool {
        switch self {
        case .object, .array: return true
        default: return false
        }
    }

    /// White space in a row is counted outside strings; a number hands its terminator on.
    var countsSpaces: Bool {
        switch self {
        case .key, .string, .number: return false
        default: return true
        }
    }
}
