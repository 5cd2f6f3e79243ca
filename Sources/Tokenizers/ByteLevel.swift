/// GPT-2's reversible byte ↔ printable-character mapping (`bytes_to_unicode`), which Hugging Face
/// byte-level BPE uses to store raw bytes as vocabulary strings (`Ġ` = space, `Ċ` = "\n").
enum ByteLevel {
    /// byte → character. Printable Latin-1 bytes map to themselves; the other 68 bytes map to
    /// U+0100 upwards in byte order.
    static let byteToScalar: [Unicode.Scalar] = {
        var isPrintable = [Bool](repeating: false, count: 256)
        for b in 0x21...0x7E { isPrintable[b] = true }
        for b in 0xA1...0xAC { isPrintable[b] = true }
        for b in 0xAE...0xFF { isPrintable[b] = true }
        var table = [Unicode.Scalar](repeating: "\0", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if isPrintable[b] {
                table[b] = Unicode.Scalar(UInt8(b))
            } else {
                table[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// character value → byte + 1 (0 = not a byte-level character). All mapped values are < 0x144.
    static let scalarToByte: [UInt16] = {
        var table = [UInt16](repeating: 0, count: 0x144)
        for (b, s) in byteToScalar.enumerated() { table[Int(s.value)] = UInt16(b) + 1 }
        return table
    }()

    /// Raw bytes of a vocabulary string, or nil when some character is outside the mapping.
    static func bytes(fromVocabString s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            let v = Int(u.value)
            guard v < scalarToByte.count, scalarToByte[v] != 0 else { return nil }
            out.append(UInt8(scalarToByte[v] - 1))
        }
        return out
    }

    /// What the HF ByteLevel decoder yields for one token string: the mapped bytes, or the
    /// string's own UTF-8 when any character is unmapped (HF falls back per token).
    static func decoderBytes(forTokenString s: String) -> [UInt8] {
        bytes(fromVocabString: s) ?? Array(s.utf8)
    }

    /// The vocabulary-string spelling of raw bytes.
    static func vocabString(fromBytes bytes: some Sequence<UInt8>) -> String {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(byteToScalar[Int(b)]) }
        return String(s)
    }
}
