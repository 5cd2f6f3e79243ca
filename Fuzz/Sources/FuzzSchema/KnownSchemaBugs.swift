import Foundation
import OrderedJSON

/// Schemas that hit the bugs of issue 19's "Seen" 1–3, which are being fixed on main in
/// Sources/Constraints. Until then the harness skips them (`FUZZ_KNOWN_BUGS=1` runs them); the
/// reproducers are in Fuzz/KnownCrashers/FuzzSchema/. Delete each rule when its fix lands.
enum KnownSchemaBugs {
    enum Bug { case refCycle, hugeIntegerBound, expansion }

    /// How many alternatives one value may fork into before it counts as the exponential case.
    static let expansionLimit = 512

    static func match(_ document: JSONValue) -> Bug? {
        if hasHugeIntegerBound(document) { return .hugeIntegerBound }
        var finder = Finder(document: document)
        for schema in allObjects(document) {
            switch finder.expansions(schema, visiting: []) {
            case nil: return .refCycle
            case let n? where n > expansionLimit: return .expansion
            default: continue
            }
        }
        return nil
    }

    /// Seen 2: `minimum`/`maximum` (or exclusive) integers beyond what `Int(Double)` takes.
    static func hasHugeIntegerBound(_ v: JSONValue) -> Bool {
        switch v {
        case .object(let o):
            for (k, x) in o.entries {
                if ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].contains(k), case .int(let n) = x,
                   n.magnitude > 1_000_000_000_000_000_000 { return true }
                if hasHugeIntegerBound(x) { return true }
            }
            return false
        case .array(let a): return a.contains(where: hasHugeIntegerBound)
        default: return false
        }
    }

    static func allObjects(_ v: JSONValue) -> [JSONValue] {
        switch v {
        case .object(let o): return [v] + o.entries.flatMap { allObjects($0.value) }
        case .array(let a): return a.flatMap(allObjects)
        default: return []
        }
    }

    /// Follows what the compiler does before a value consumes a byte: `$ref`, `anyOf` / `oneOf`
    /// members, a one-element `allOf`, `enum` members and `type` lists.
    struct Finder {
        let document: JSONValue
        var memo: [String: Int] = [:]

        /// The alternatives `schema` forks into, or nil for a `$ref` loop that consumes nothing (Seen 1).
        mutating func expansions(_ schema: JSONValue, visiting: Set<String>) -> Int? {
            guard case .object(let s) = schema else { return 1 }
            if case .string(let ref)? = s["$ref"] {
                if visiting.contains(ref) { return nil }
                if let known = memo[ref] { return known }
                guard let target = resolve(ref) else { return 1 }
                guard let n = expansions(target, visiting: visiting.union([ref])) else { return nil }
                memo[ref] = n
                return n
            }
            if case .array(let members)? = s["enum"] { return members.count }
            if s["enum"] != nil || s["const"] != nil { return 1 }
            for keyword in ["anyOf", "oneOf"] {
                guard let options = s[keyword] else { continue }
                guard case .array(let list) = options else { return 1 }
                var total = 0
                for member in list {
                    guard let n = expansions(member, visiting: visiting) else { return nil }
                    total = min(total + n, Int.max / 4)
                }
                return total
            }
            if case .array(let list)? = s["allOf"], list.count == 1 { return expansions(list[0], visiting: visiting) }
            if case .array(let types)? = s["type"] { return max(types.count, 1) }
            return 1
        }

        /// The compiler's JSON-pointer walk: objects only, `~1` and `~0` unescaped.
        func resolve(_ ref: String) -> JSONValue? {
            guard ref == "#" || ref.hasPrefix("#/") else { return nil }
            var target = document
            let parts = ref == "#" ? [] : ref.dropFirst(2).split(separator: "/", omittingEmptySubsequences: false)
            for raw in parts {
                let part = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
                guard case .object(let o) = target, let next = o[part] else { return nil }
                target = next
            }
            return target
        }
    }
}
