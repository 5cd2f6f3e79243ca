import Foundation
import FuzzKit
import OrderedJSON

/// `JSONValue.parse` on any bytes: it throws or returns, and what it returns survives a round
/// trip through each of its writers (compact, Python's `json.dumps` with indent and
/// `ensure_ascii`) unchanged; the writers' own output is stable (writing a re-parsed value gives
/// the same text); and the String and Data entry points agree.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = Fuzz.bytes(data, size)
    let value: JSONValue
    do { value = try JSONValue.parse(data: Data(bytes)) } catch { return 0 }

    if let text = String(validatingUTF8: bytes.map { CChar(bitPattern: $0) } + [0]), text.utf8.count == bytes.count {
        let again = try? JSONValue.parse(text)
        Fuzz.check(again == value, "parse(String) and parse(data:) differ")
    }
    let writers: [(String, (JSONValue) -> String)] = [
        ("compactJSON", { $0.compactJSON }),
        ("pythonJSON()", { $0.pythonJSON() }),
        ("pythonJSON(indent: 2, ensureASCII: true)", { $0.pythonJSON(indent: 2, ensureASCII: true) }),
    ]
    for (name, write) in writers {
        let text = write(value)
        guard let back = try? JSONValue.parse(text) else {
            Fuzz.check(false, "\(name) wrote text that does not parse: \(text.prefix(200).debugDescription)")
            return 0
        }
        Fuzz.check(back == value, "\(name) round trip changed the value: \(text.prefix(200).debugDescription)")
        Fuzz.check(write(back) == text, "\(name) is not stable: \(text.prefix(200).debugDescription)")
    }
    return 0
}

@main enum FuzzJSONMain {
    static func main() { Fuzz.main(fuzzJSON) }
}
