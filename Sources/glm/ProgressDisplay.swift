import Foundation
import Weights

#if canImport(Glibc)
import Glibc
#endif

/// A one-line progress bar on stderr for long loads; silent when stderr is not a terminal.
final class ProgressDisplay {
    private let label: String
    private let enabled = isatty(2) != 0
    private let start = Date()
    private var shown = false

    init(label: String) { self.label = label }

    func update(_ p: LoadProgress) {
        guard enabled else { return }
        let fraction = p.bytesTotal > 0 ? Double(p.bytesDone) / Double(p.bytesTotal) : 1
        let width = 30, filled = Int(fraction * Double(width))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        let elapsed = Date().timeIntervalSince(start)
        let rate = elapsed > 0 ? Double(p.bytesDone) / elapsed : 0
        let line = String(format: "\r%@ %@ %3.0f%%  %@ / %@  %d/%d tensors  %@/s ", label, bar, fraction * 100,
                          Self.bytes(p.bytesDone), Self.bytes(p.bytesTotal), p.tensorsDone, p.tensorsTotal, Self.bytes(Int(rate)))
        FileHandle.standardError.write(Data(line.utf8))
        shown = true
    }

    func finish() {
        if shown { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    static func bytes(_ n: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(n), unit = 0
        while value >= 1000 && unit < units.count - 1 { value /= 1000; unit += 1 }
        return unit == 0 ? "\(n) B" : String(format: "%.1f %@", value, units[unit])
    }
}
