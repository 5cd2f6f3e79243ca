import Foundation

/// A small JSON reader for tokenizer files. `JSONSerialization` takes ~2.5 s on GLM's 8.5 MB
/// tokenizer.json on Linux (bridging 470k values through `Any`); this typed recursive-descent
/// parser over bytes takes a fraction of that and reports the byte offset of errors.
indirect enum JSON: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSON])
    /// Members in file order (tokenizer.json vocabularies are big; no dictionary needed).
    case object([(String, JSON)])

    subscript(key: String) -> JSON? {
        if case .object(let members) = self {
            return members.first(where: { $0.0 == key })?.1
        }
        return nil
    }

    var string: String? { if case .string(let s) = self { return s }; return nil }
    var bool: Bool? { if case .bool(let b) = self { return b }; return nil }
    var array: [JSON]? { if case .array(let a) = self { return a }; return nil }
    var object: [(String, JSON)]? { if case .object(let o) = self { return o }; return nil }
    var isNull: Bool { if case .null = self { return true }; return false }
    var int: Int? {
        if case .number(let d) = self, d == d.rounded(), abs(d) < 9e15 { return Int(d) }
        return nil
    }

    struct ParseError: Error { let offset: Int; let message: String }

    static func parse(_ data: Data) throws -> JSON {
        try data.withUnsafeBytes { raw in
            var parser = Parser(p: raw.bindMemory(to: UInt8.self))
            parser.skipSpace()
            let value = try parser.value(depth: 0)
            parser.skipSpace()
            if parser.i != parser.p.count { throw parser.error("trailing characters") }
            return value
        }
    }

    private struct Parser {
        let p: UnsafeBufferPointer<UInt8>
        var i = 0

        func error(_ message: String) -> ParseError { ParseError(offset: i, message: message) }

        mutating func skipSpace() {
            while i < p.count, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        }

        mutating func expect(_ literal: String) throws {
            for b in literal.utf8 {
                guard i < p.count, p[i] == b else { throw error("expected \(literal)") }
                i += 1
            }
        }

        mutating func value(depth: Int) throws -> JSON {
            guard depth < 512 else { throw error("nesting too deep") }
            guard i < p.count else { throw error("unexpected end of input") }
            switch p[i] {
            case UInt8(ascii: "{"):
                i += 1
                var members: [(String, JSON)] = []
                skipSpace()
                if i < p.count, p[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard i < p.count, p[i] == UInt8(ascii: "\"") else { throw error("expected a key") }
                    let key = try string()
                    skipSpace()
                    try expect(":")
                    skipSpace()
                    members.append((key, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < p.count else { throw error("unterminated object") }
                    if p[i] == UInt8(ascii: ",") { i += 1; continue }
                    if p[i] == UInt8(ascii: "}") { i += 1; return .object(members) }
                    throw error("expected , or }")
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [JSON] = []
                skipSpace()
                if i < p.count, p[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < p.count else { throw error("unterminated array") }
                    if p[i] == UInt8(ascii: ",") { i += 1; continue }
                    if p[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                    throw error("expected , or ]")
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            default:
                return .number(try number())
            }
        }

        mutating func number() throws -> Double {
            let start = i
            while i < p.count, (p[i] >= 0x30 && p[i] <= 0x39) || p[i] == 0x2D || p[i] == 0x2B
                    || p[i] == 0x2E || p[i] == 0x65 || p[i] == 0x45 { i += 1 }
            guard i > start, let d = Double(String(decoding: p[start..<i], as: UTF8.self)) else {
                i = start
                throw error("invalid value")
            }
            return d
        }

        mutating func string() throws -> String {
            i += 1  // opening quote
            let start = i
            // Fast path: no escapes.
            while i < p.count, p[i] != UInt8(ascii: "\""), p[i] != UInt8(ascii: "\\"), p[i] >= 0x20 { i += 1 }
            guard i < p.count else { throw error("unterminated string") }
            if p[i] == UInt8(ascii: "\"") {
                let s = try validated(p[start..<i])
                i += 1
                return s
            }
            var bytes = Array(p[start..<i])
            while true {
                guard i < p.count else { throw error("unterminated string") }
                let b = p[i]
                if b == UInt8(ascii: "\"") { i += 1; break }
                if b < 0x20 { throw error("control character in string") }
                if b != UInt8(ascii: "\\") { bytes.append(b); i += 1; continue }
                i += 1
                guard i < p.count else { throw error("unterminated escape") }
                let e = p[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var v = try hex4()
                    if (0xD800..<0xDC00).contains(v), i + 1 < p.count, p[i] == 0x5C, p[i + 1] == UInt8(ascii: "u") {
                        let save = i
                        i += 2
                        let low = try hex4()
                        if (0xDC00..<0xE000).contains(low) {
                            v = 0x10000 + ((v - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            i = save
                        }
                    }
                    // Lone surrogates become U+FFFD, as Python's json + str → UTF-8 would reject them.
                    let scalar = Unicode.Scalar(v) ?? "\u{FFFD}"
                    bytes.append(contentsOf: Array(String(scalar).utf8))
                default:
                    throw error("bad escape")
                }
            }
            return try validated(bytes[...])
        }

        mutating func hex4() throws -> UInt32 {
            guard i + 4 <= p.count else { throw error("short \\u escape") }
            var v: UInt32 = 0
            for _ in 0..<4 {
                let c = p[i]
                let d: UInt32
                switch c {
                case 0x30...0x39: d = UInt32(c - 0x30)
                case 0x41...0x46: d = UInt32(c - 0x41 + 10)
                case 0x61...0x66: d = UInt32(c - 0x61 + 10)
                default: throw error("bad hex digit")
                }
                v = v << 4 | d
                i += 1
            }
            return v
        }

        func validated<C: Collection>(_ bytes: C) throws -> String where C.Element == UInt8 {
            // (String(validating:) needs macOS 15; decoding + comparing is exact and portable.)
            let s = String(decoding: bytes, as: UTF8.self)
            guard s.utf8.elementsEqual(bytes) else { throw error("invalid UTF-8 in string") }
            return s
        }
    }
}

extension JSON {
    /// Reads a JSON file that must hold an object, with errors naming the file.
    static func loadObject(_ url: URL) throws -> JSON {
        let file = url.path
        let json: JSON
        do {
            json = try JSON.parse(try Data(contentsOf: url))
        } catch let e as JSON.ParseError {
            throw TokenizerError.malformed(file: file, reason: "JSON: \(e.message) at byte \(e.offset)")
        } catch {
            throw TokenizerError.unreadable(file: file, reason: error.localizedDescription)
        }
        guard json.object != nil else { throw TokenizerError.malformed(file: file, reason: "not a JSON object") }
        return json
    }
}
