@testable import Constraints
import Foundation
import OrderedJSON
import Testing

/// Schemas sent to hurt the server (issue 19): each is refused with a 400's message, or read in
/// bounded work, never a crash or a stall.
@Suite("Hostile JSON schemas")
struct HostileSchemaTests {
    static func grammar(_ schema: String, budget: JSONSchemaBudget = JSONSchemaBudget()) throws -> JSONSchemaGrammar {
        try JSONSchemaGrammar(schema: try JSONValue.parse(schema), budget: budget)
    }

    static func refusal(_ schema: String, budget: JSONSchemaBudget = JSONSchemaBudget()) -> String? {
        do {
            _ = try grammar(schema, budget: budget)
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("reference loops that consume nothing are refused, naming the reference",
          arguments: [(##"{"$ref": "#"}"##, ##"schema.$ref "#""##),
                      (##"{"anyOf": [{"$ref": "#"}, {"$ref": "#"}]}"##, ##"schema.anyOf[0].$ref "#""##),
                      (##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/a"}]}}, "$ref": "#/$defs/a"}"##,
                       ##"schema.$ref "#/$defs/a""##),
                      (##"{"oneOf": [{"type": "string"}, {"allOf": [{"$ref": "#"}]}]}"##, ##"$ref "#""##)])
    func referenceLoops(schema: String, place: String) {
        let message = Self.refusal(schema)
        #expect(message?.contains(place) == true && message?.contains("refers back to itself") == true, "\(message ?? "accepted")")
    }

    @Test("loops through a container consume its bracket, so they are fine")
    func recursionThroughContainers() throws {
        let tree = try Self.grammar(##"{"type": "array", "items": {"$ref": "#"}}"##)
        var json = JSONSchemaPrefix(grammar: tree)
        #expect("[[], [[]]]".utf8.allSatisfy { json.feed($0) } && json.isComplete)
    }

    @Test("integer bounds at the edge of Int64 compile; those that allow only integers beyond 10^18 are refused")
    func hugeIntegerBounds() throws {
        let top = try Self.grammar(#"{"type": "integer", "maximum": 9223372036854775807}"#)
        var small = JSONSchemaPrefix(grammar: top)
        #expect("-42".utf8.allSatisfy { small.feed($0) } && small.isComplete)
        // Every integer written still satisfies the schema: 10^19 is beyond its maximum.
        var big = JSONSchemaPrefix(grammar: top)
        #expect(!"10000000000000000000".utf8.allSatisfy { big.feed($0) })
        _ = try Self.grammar(#"{"type": "integer", "minimum": -9223372036854775808, "maximum": 1e300}"#)
        _ = try Self.grammar(#"{"type": "integer", "exclusiveMaximum": 9223372036854775807, "exclusiveMinimum": -1e30}"#)
        #expect(Self.refusal(#"{"type": "integer", "minimum": 1e19}"#)?.contains("schema.minimum") == true)
        #expect(Self.refusal(#"{"type": "integer", "maximum": -9223372036854775808}"#)?.contains("schema.maximum") == true)
    }

    /// 20 levels, each `{"anyOf": [{"$ref": next}, {"$ref": next}]}`: 2^20 ways to the leaf.
    static var doublingChain: String {
        var defs: [String] = []
        for level in 0..<20 {
            defs.append(##""d\##(level)": {"anyOf": [{"$ref": "#/$defs/d\##(level + 1)"}, {"$ref": "#/$defs/d\##(level + 1)"}]}"##)
        }
        defs.append(#""d20": {"type": "object", "properties": {"x": {"type": "integer"}}}"#)
        return ##"{"$defs": {\##(defs.joined(separator: ", "))}, "$ref": "#/$defs/d0"}"##
    }

    @Test("alternatives of alternatives are read once per distinct start, not once per path")
    func doublingAlternatives() throws {
        let g = try Self.grammar(Self.doublingChain)
        #expect(g.starts[g.root].count == 1)
        var json = JSONSchemaPrefix(grammar: g)
        for b in #"{"x": 12}"#.utf8 {
            let fed = json.feed(b)
            #expect(fed && json.readingCount == 1)
        }
        #expect(json.isComplete)
    }

    @Test("compiling stops at the node budget, the time budget, deep nesting and cancellation")
    func compileBudget() throws {
        var few = JSONSchemaBudget()
        few.maxNodes = 50
        let wide = #"{"anyOf": ["# + (0..<100).map { #"{"const": \#($0)}"# }.joined(separator: ", ") + "]}"
        #expect(Self.refusal(wide, budget: few)?.contains("more than 50 grammar nodes") == true)
        #expect(Self.refusal(wide) == nil)
        var instant = JSONSchemaBudget()
        instant.compileTime = .zero
        #expect(Self.refusal(wide, budget: instant)?.contains("took longer") == true)
        let deep = String(repeating: #"{"type": "array", "items": "#, count: 300) + "{}" + String(repeating: "}", count: 300)
        #expect(Self.refusal(deep)?.contains("nested more than") == true)
        var cancelled = JSONSchemaBudget()
        cancelled.isCancelled = { true }
        #expect(throws: CancellationError.self) { try Self.grammar(wide, budget: cancelled) }
    }

    /// Vocabulary: 0 `{`, 1 `}`, 2 `"x"`, 3 `:`, 4 `1`, 5 <stop>.
    static let vocabulary = TokenByteTable(count: 6) { id in
        id == 5 ? nil : Array(["{", "}", "\"x\"", ":", "1", ""][id].utf8)
    }

    /// `{"x": {"x": … }}` where each level may be either of two same-shaped objects: the readings
    /// double with every level, so the recognizer must give up rather than follow them all.
    static let ambiguous = ##"{"$defs": {"o": {"anyOf": [{"type": "object", "properties": {"x": {"$ref": "#/$defs/o"}}}, {"type": "object", "properties": {"x": {"$ref": "#/$defs/o"}}, "required": []}]}}, "$ref": "#/$defs/o"}"##

    @Test("too many readings at once end the request with a failure instead of following them all")
    func readingBudget() throws {
        var budget = JSONSchemaBudget()
        budget.maxReadings = 8
        let g = try Self.grammar(Self.ambiguous, budget: budget)
        var c = JSONConstraint.schema(g, vocabulary: Self.vocabulary, stopTokens: [5], thinkEnd: nil, startsInReasoning: false)
        var failedAt: Int?
        for step in 0..<20 {
            var logits = [Float](repeating: 0, count: 6)
            c.process(&logits, generated: [])
            if c.failure != nil {
                #expect(logits.allSatisfy { $0 == -.infinity })
                failedAt = step
                break
            }
            let token = [0, 2, 3][step % 3]
            #expect(logits[token] == 0, "step \(step): token \(token) is masked")
            c.didSample(token)
        }
        // 2 readings after `{`, 4 after the next `{`, …: more than 8 by the fourth object.
        #expect(failedAt.map { (7...12).contains($0) } == true, "failed at \(failedAt.map(String.init) ?? "never")")
        #expect(c.failure?.contains("too ambiguous") == true)
    }

    @Test("masking one token is charged its steps; beyond the budget the request fails")
    func stepBudget() throws {
        var budget = JSONSchemaBudget()
        budget.maxStepsPerToken = 100
        let g = try Self.grammar(#"{"type": "object", "properties": {"x": {"type": "integer"}}}"#, budget: budget)
        var c = JSONConstraint.schema(g, vocabulary: Self.vocabulary, stopTokens: [5], thinkEnd: nil, startsInReasoning: false)
        var logits = [Float](repeating: 0, count: 6)
        c.process(&logits, generated: [])
        #expect(c.failure?.contains("more than 100 parser steps") == true)
        #expect(logits.allSatisfy { $0 == -.infinity })
        var roomy = JSONConstraint.schema(try Self.grammar(#"{"type": "object"}"#), vocabulary: Self.vocabulary, stopTokens: [5],
                                          thinkEnd: nil, startsInReasoning: false)
        var open = [Float](repeating: 0, count: 6)
        roomy.process(&open, generated: [])
        #expect(roomy.failure == nil && open[0] == 0)
    }
}
