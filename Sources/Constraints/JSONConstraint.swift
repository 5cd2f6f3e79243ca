import Engine

/// Every token's bytes, laid out flat, for constraints that check text a token at a time.
/// Tokens without bytes of their own (added and special tokens: markup, stop tokens) are left
/// out; they never belong to constrained text.
public struct TokenByteTable: Sendable {
    private let bytes: [UInt8]
    /// Token i's bytes are bytes[starts[i] ..< starts[i + 1]]; empty for tokens left out.
    private let starts: [Int32]

    /// - Parameter bytesOf: a token's bytes, or nil to leave it out.
    public init(count: Int, bytesOf: (Int) -> [UInt8]?) {
        var bytes: [UInt8] = [], starts: [Int32] = [0]
        starts.reserveCapacity(count + 1)
        for id in 0..<count {
            bytes += bytesOf(id) ?? []
            starts.append(Int32(bytes.count))
        }
        self.bytes = bytes
        self.starts = starts
    }

    public var count: Int { starts.count - 1 }

    func withBytes<R>(of id: Int, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        bytes.withUnsafeBufferPointer { all in
            body(UnsafeBufferPointer(rebasing: all[Int(starts[id])..<Int(starts[id + 1])]))
        }
    }
}

/// A byte-at-a-time recognizer for the prefixes of one JSON object (RFC 8259): `feed` says
/// whether a byte keeps the text a prefix of some object. Bytes ≥ 0x80 are accepted inside
/// strings without UTF-8 checks (a token may end mid-character). White space between tokens is
/// bounded, enough for a line break and indentation, so that a model cannot pad forever.
struct JSONObjectPrefix: JSONPrefixRecognizer {
    private enum Container: Sendable { case object, array }
    private enum State: Sendable {
        case start            // before the opening `{`
        case keyOrEnd         // after `{`
        case key              // after `,` in an object
        case colon            // after a key
        case value            // after `:`, or `,` in an array
        case valueOrEnd       // after `[`
        case afterValue       // `,` or the container's closing bracket
        case string(isKey: Bool, JSONLexer.StringState)
        case number(JSONLexer.Number)
        case literal(word: StaticString, next: Int)
        case done
    }

    private var stack: [Container] = []
    private var state = State.start
    /// White-space bytes in a row outside strings.
    private var spaces = 0

    /// True once the object is closed: nothing but white space may follow.
    var isComplete: Bool { if case .done = state { return true }; return false }
    var canContinue: Bool { !isComplete }
    /// Any key is allowed, so keys count as plain strings too.
    var isInsidePlainString: Bool { if case .string(_, .plain) = state { return true }; return false }

    /// Consumes `byte`; false when no JSON object starts with the text so far (the recognizer
    /// is then undefined: feed copies when probing).
    mutating func feed(_ byte: UInt8) -> Bool {
        let space = JSONLexer.isSpace(byte)
        switch state {
        case .string: break
        default:
            spaces = space ? spaces + 1 : 0
            if spaces > 2 + 4 * stack.count { return false }   // "\n" and four spaces per level
        }
        switch state {
        case .start:
            if space { return true }
            guard byte == UInt8(ascii: "{") else { return false }
            stack.append(.object)
            state = .keyOrEnd
        case .keyOrEnd, .key:
            if space { return true }
            if byte == UInt8(ascii: "\"") { state = .string(isKey: true, .plain); return true }
            guard case .keyOrEnd = state, byte == UInt8(ascii: "}") else { return false }
            close()
        case .colon:
            if space { return true }
            guard byte == UInt8(ascii: ":") else { return false }
            state = .value
        case .value, .valueOrEnd:
            if space { return true }
            if case .valueOrEnd = state, byte == UInt8(ascii: "]") { close(); return true }
            return startValue(byte)
        case .afterValue:
            if space { return true }
            switch (byte, stack.last) {
            case (UInt8(ascii: ","), .object?): state = .key
            case (UInt8(ascii: ","), .array?): state = .value
            case (UInt8(ascii: "}"), .object?), (UInt8(ascii: "]"), .array?): close()
            default: return false
            }
        case .string(let isKey, let s):
            guard let next = JSONLexer.stringByte(s, byte) else { return false }
            state = next.map { .string(isKey: isKey, $0) } ?? (isKey ? .colon : .afterValue)
        case .number(let n):
            if let next = JSONLexer.numberByte(n, byte, integer: false) {
                state = .number(next)
                return true
            }
            guard JSONLexer.isAccepting(n) else { return false }
            // The number is complete; the byte belongs to what follows it (and is counted there).
            state = .afterValue
            spaces = 0
            return feed(byte)
        case .literal(let word, let next):
            guard word.withUTF8Buffer({ $0[next] }) == byte else { return false }
            state = next + 1 == word.utf8CodeUnitCount ? .afterValue : .literal(word: word, next: next + 1)
        case .done:
            return space
        }
        return true
    }

    private mutating func startValue(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "{"): stack.append(.object); state = .keyOrEnd
        case UInt8(ascii: "["): stack.append(.array); state = .valueOrEnd
        case UInt8(ascii: "\""): state = .string(isKey: false, .plain)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            state = .number(JSONLexer.numberStart(byte, integer: false)!)
        case UInt8(ascii: "t"): state = .literal(word: "true", next: 1)
        case UInt8(ascii: "f"): state = .literal(word: "false", next: 1)
        case UInt8(ascii: "n"): state = .literal(word: "null", next: 1)
        default: return false
        }
        return true
    }

    private mutating func close() {
        stack.removeLast()
        state = stack.isEmpty ? .done : .afterValue
    }
}

/// The lexical parts both JSON recognizers share: strings, numbers, white space.
enum JSONLexer {
    enum StringState: Hashable, Sendable { case plain, escape, unicode(digitsLeft: Int) }
    enum Number: Hashable, Sendable { case sign, zero, integer, dot, fraction, exponent, exponentSign, exponentDigits }

    static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    /// A string byte after `"`: nil when it is not allowed, .some(nil) when it closes the string.
    static func stringByte(_ state: StringState, _ byte: UInt8) -> StringState?? {
        switch state {
        case .plain:
            if byte == UInt8(ascii: "\"") { return .some(nil) }
            if byte == UInt8(ascii: "\\") { return .escape }
            return byte < 0x20 ? nil : .plain
        case .escape:
            if byte == UInt8(ascii: "u") { return .unicode(digitsLeft: 4) }
            return Array("\"\\/bfnrt".utf8).contains(byte) ? .plain : nil
        case .unicode(let left):
            guard isHexDigit(byte) else { return nil }
            return left == 1 ? .plain : .unicode(digitsLeft: left - 1)
        }
    }

    /// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? (no fraction or exponent for `integer`).
    static func numberStart(_ byte: UInt8, integer: Bool) -> Number? {
        if byte == UInt8(ascii: "-") { return .sign }
        if byte == UInt8(ascii: "0") { return .zero }
        return (UInt8(ascii: "1")...UInt8(ascii: "9")).contains(byte) ? .integer : nil
    }

    /// The next number state, or nil when `byte` does not continue the number.
    static func numberByte(_ n: Number, _ byte: UInt8, integer: Bool) -> Number? {
        let digit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        let exponentMark = !integer && (byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E"))
        switch n {
        case .sign:
            if byte == UInt8(ascii: "0") { return .zero }
            return digit ? .integer : nil
        case .zero, .integer, .fraction:
            if digit && n != .zero { return n }
            if byte == UInt8(ascii: "."), n != .fraction, !integer { return .dot }
            return exponentMark ? .exponent : nil
        case .dot:
            return digit ? .fraction : nil
        case .exponent:
            if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { return .exponentSign }
            return digit ? .exponentDigits : nil
        case .exponentSign, .exponentDigits:
            return digit ? .exponentDigits : nil
        }
    }

    /// A number that may end here.
    static func isAccepting(_ n: Number) -> Bool { [.zero, .integer, .fraction, .exponentDigits].contains(n) }

    static func isHexDigit(_ b: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(b)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(b)
    }
}

/// Byte-level recognizers of the prefixes of JSON documents, for `JSONConstraint`.
protocol JSONPrefixRecognizer: Sendable {
    /// Consumes `byte`; false when no valid document starts with the text so far (the
    /// recognizer is then undefined: feed copies when probing).
    mutating func feed(_ byte: UInt8) -> Bool
    /// The text so far is a whole document: only a stop may follow.
    var isComplete: Bool { get }
    /// The text can still grow into a valid document.
    var canContinue: Bool { get }
    /// Inside a string where any text is allowed and no escape is pending: bytes other than
    /// `"`, `\` and control bytes are accepted.
    var isInsidePlainString: Bool { get }
    /// The work one `feed` costs now (readings of the text it follows).
    var readingCount: Int { get }
    /// A `feed` went beyond the recognizer's limits (it refused the byte for that reason).
    var isOverBudget: Bool { get }
}

extension JSONPrefixRecognizer {
    var readingCount: Int { 1 }
    var isOverBudget: Bool { false }
}

/// Enforces a JSON `response_format` (`json_object`: `JSONObjectPrefix`; `json_schema`:
/// `JSONSchemaPrefix`): the answer is one document the recognizer accepts, then a stop token.
/// Every step, each token whose bytes would leave it is masked.
///
/// With thinking on (`startsInReasoning`), the model first thinks freely (it may not stop there);
/// the document starts after `</think>`. With thinking off it starts at the first token.
public struct JSONConstraint: LogitProcessor {
    private let vocabulary: TokenByteTable
    private let stopTokens: Set<Int>
    private let thinkEnd: Int?
    private var reasoning: Bool
    private var json: any JSONPrefixRecognizer
    /// Recognizer steps allowed for masking one token.
    private let stepsPerToken: Int
    public private(set) var failure: String?

    /// `response_format: {"type": "json_object"}`.
    public static func object(vocabulary: TokenByteTable, stopTokens: Set<Int>, thinkEnd: Int?,
                              startsInReasoning: Bool) -> JSONConstraint {
        JSONConstraint(JSONObjectPrefix(), vocabulary: vocabulary, stopTokens: stopTokens, thinkEnd: thinkEnd,
                       startsInReasoning: startsInReasoning, stepsPerToken: .max)
    }

    /// `response_format: {"type": "json_schema", ...}`.
    public static func schema(_ grammar: JSONSchemaGrammar, vocabulary: TokenByteTable, stopTokens: Set<Int>,
                              thinkEnd: Int?, startsInReasoning: Bool) -> JSONConstraint {
        JSONConstraint(JSONSchemaPrefix(grammar: grammar), vocabulary: vocabulary, stopTokens: stopTokens,
                       thinkEnd: thinkEnd, startsInReasoning: startsInReasoning,
                       stepsPerToken: grammar.budget.maxStepsPerToken)
    }

    init(_ recognizer: any JSONPrefixRecognizer, vocabulary: TokenByteTable, stopTokens: Set<Int>, thinkEnd: Int?,
         startsInReasoning: Bool, stepsPerToken: Int) {
        self.stepsPerToken = stepsPerToken
        self.vocabulary = vocabulary
        self.stopTokens = stopTokens
        self.thinkEnd = thinkEnd
        reasoning = startsInReasoning && thinkEnd != nil
        json = recognizer
    }

    public mutating func process(_ logits: inout [Float], generated: [Int]) {
        if reasoning {
            for t in stopTokens where t >= 0 && t < logits.count { logits[t] = -.infinity }
            return
        }
        let complete = json.isComplete, open = json.canContinue
        // Every probe is charged what it costs, so an ambiguous schema ends the request with an
        // error instead of holding the engine (and every other request) for seconds a token.
        var spent = 0
        func giveUp(_ reason: String) {
            failure = reason
            for id in logits.indices { logits[id] = -.infinity }
        }
        // Two shortcuts before probing a token byte by byte: its first byte must be one the
        // recognizer takes now (256 probes, once), and inside a plain string, text without
        // quotes, backslashes or control bytes is accepted.
        var firstByteFits = [Bool](repeating: false, count: 256)
        if open {
            spent += 256 * json.readingCount
            for b in 0..<256 {
                var probe = json
                firstByteFits[b] = probe.feed(UInt8(b))
                if probe.isOverBudget { return giveUp(Self.tooAmbiguous) }
            }
        }
        let insideString = json.isInsidePlainString
        for id in logits.indices where logits[id] > -.infinity {
            if stopTokens.contains(id) {
                if !complete { logits[id] = -.infinity }
                continue
            }
            guard id < vocabulary.count, open else { logits[id] = -.infinity; continue }
            var overBudget = false
            let fits = vocabulary.withBytes(of: id) { bytes in
                guard let first = bytes.first, firstByteFits[Int(first)] else { return false }
                if bytes.count == 1 { return true }
                if insideString && bytes.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
                    return true
                }
                var probe = json
                for b in bytes {
                    spent += probe.readingCount
                    if !probe.feed(b) {
                        overBudget = probe.isOverBudget
                        return false
                    }
                }
                return true
            }
            if overBudget { return giveUp(Self.tooAmbiguous) }
            if spent > stepsPerToken {
                return giveUp("the response_format JSON schema needs more than \(stepsPerToken) parser steps to choose one "
                              + "token, more than this server spends on a request")
            }
            if !fits { logits[id] = -.infinity }
        }
    }

    private static let tooAmbiguous = "the response_format JSON schema is too ambiguous to enforce: the text so far can be "
        + "read in more ways at once than this server follows for a request"

    public mutating func didSample(_ token: Int) {
        if reasoning {
            if token == thinkEnd { reasoning = false }
            return
        }
        guard token < vocabulary.count else { return }
        vocabulary.withBytes(of: token) { bytes in
            for b in bytes { _ = json.feed(b) }
        }
    }
}
