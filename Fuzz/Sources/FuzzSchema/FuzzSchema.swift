import Foundation
import Constraints
import FuzzKit
import OrderedJSON

/// The JSON-schema compiler and its recognizer, through `JSONConstraint.schema` as the sampler
/// drives it: `JSONSchemaGrammar(schema:)` compiles any parsed schema or throws a
/// `JSONSchemaError`; then a decode is simulated over a vocabulary of the 256 single bytes, some
/// multi-byte tokens and a stop token, each step masking logits and sampling a fuzz-chosen
/// allowed token. Checked at every step:
/// * whenever the stop token is allowed, the text so far is one whole JSON document;
/// * some token is always allowed once the document has started (the recognizer only accepts
///   bytes that have a valid completion), unless the constraint went beyond its budget and says so;
/// * a multi-byte token is allowed only when its bytes are allowed one at a time.
///
/// Input: the schema's JSON text, a NUL byte, one byte of options (bit 0: start in reasoning;
/// bit 1: the bytes after are text to feed, not choices), then the driving bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSchema(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let cut = bytes.firstIndex(of: 0) ?? bytes.count
    guard let schema = try? JSONValue.parse(data: Data(bytes[..<cut])) else { return 0 }
    let grammar: JSONSchemaGrammar
    do { grammar = try JSONSchemaGrammar(schema: schema) } catch {
        Fuzz.check(error is JSONSchemaError, "the compiler threw \(type(of: error)): \(error)")
        return 0
    }
    var reader = FuzzReader(cut < bytes.count ? Array(bytes[(cut + 1)...]) : [])
    let options = reader.byte()
    let reasoning = options & 1 != 0
    let feedsText = options & 2 != 0
    var constraint = JSONConstraint.schema(grammar, vocabulary: vocabulary, stopTokens: [stop], thinkEnd: thinkEnd,
                                           startsInReasoning: reasoning)
    var inReasoning = reasoning
    var text: [UInt8] = []
    var steps = 0
    while !reader.bytes.isEmpty && steps < 200 {
        steps += 1
        var logits = [Float](repeating: 0, count: vocabularySize)
        constraint.process(&logits, generated: [])
        let allowed = logits.indices.filter { logits[$0] > -.infinity }
        // Over its budget the constraint gives up (the engine then ends the request) and allows nothing.
        if constraint.failure != nil {
            Fuzz.check(allowed.isEmpty, "a constraint that gave up still allows tokens")
            break
        }
        if inReasoning {
            Fuzz.check(!allowed.contains(stop), "stop allowed while reasoning")
        } else {
            if allowed.contains(stop) {
                Fuzz.check((try? JSONValue.parse(data: Data(text))) != nil,
                           "stop allowed after \(String(decoding: text, as: UTF8.self).debugDescription), which is not JSON")
            }
            Fuzz.check(!allowed.isEmpty || text.isEmpty,
                       "dead end after \(String(decoding: text, as: UTF8.self).debugDescription): no token allowed")
        }
        let token: Int
        if feedsText {
            let b = Int(reader.byte())
            guard allowed.contains(b) else { break }
            token = b
        } else {
            guard !allowed.isEmpty else { break }
            token = allowed[reader.int(below: allowed.count)]
        }
        if token == stop { break }
        if !inReasoning, token >= 256, token < vocabularySize, token != thinkEnd {
            // The multi-byte shortcut agrees with feeding the bytes one at a time.
            var probe = constraint
            for b in multiByteTokens[token - 257] {
                var l = [Float](repeating: 0, count: vocabularySize)
                probe.process(&l, generated: [])
                Fuzz.check(l[Int(b)] > -.infinity, "token \(String(decoding: multiByteTokens[token - 257], as: UTF8.self).debugDescription) allowed after \(String(decoding: text, as: UTF8.self).debugDescription), but not its bytes one by one")
                probe.didSample(Int(b))
            }
        }
        constraint.didSample(token)
        if token == thinkEnd { inReasoning = false }
        else if !inReasoning, let piece = tokenBytes(token) { text += piece }
    }
    return 0
}

let multiByteTokens: [[UInt8]] = ["{\"", "\":", "\":\"", "\",\"", "\"}", "true", "false", "null", "[]", "{}", "0.5e-3", "-12",
                                  "\\u00e9", "\\ud83d\\ude00", "é", "😀", "    ", "\n", "\",", "]}", "abc"].map { Array($0.utf8) }
let stop = 256
let vocabularySize = 257 + multiByteTokens.count + 1
let thinkEnd = vocabularySize - 1

func tokenBytes(_ id: Int) -> [UInt8]? {
    switch id {
    case 0..<256: [UInt8(id)]
    case 257..<(257 + multiByteTokens.count): multiByteTokens[id - 257]
    default: nil  // the stop token and </think> have no bytes of their own
    }
}

let vocabulary = TokenByteTable(count: vocabularySize, bytesOf: tokenBytes)

@main enum FuzzSchemaMain {
    static func main() { Fuzz.main(fuzzSchema) }
}
