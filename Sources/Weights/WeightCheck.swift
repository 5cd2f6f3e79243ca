import Foundation

/// How much of a checkpoint's weights to look at for NaN and infinity when a model loads.
/// A NaN embedding, router or lm_head loads without complaint and then generates token 0
/// forever, so loading checks by default.
public enum WeightCheck: String, Sendable, CaseIterable {
    /// No check.
    case none
    /// Every element (in block formats, every block scale) of small tensors (up to
    /// `WeightCheck.smallTensorBytes`: norms, biases, routers, `e_score_correction_bias`, FP8
    /// scales) and `WeightCheck.sampleWindows` evenly spaced page-sized windows of every
    /// larger one, the first and last page included. Reads
    /// at most 16 KiB of a large tensor, so it stays negligible for a 200 GB checkpoint, and
    /// catches tensors that are all or largely NaN; a single bad element needs `.full`.
    case sampled
    /// Every element of every tensor (reads the whole checkpoint).
    case full

    /// Tensors up to this size are always checked in full.
    public static let smallTensorBytes = 4 << 20
    /// Windows a sampled check reads from a larger tensor.
    public static let sampleWindows = 4
    /// Bytes per sampled window.
    public static let windowBytes = 4096
}

/// What a check found in one tensor.
public struct NonFiniteCount: Equatable, Sendable {
    public var nan = 0
    public var infinity = 0
    /// Elements looked at.
    public var checked = 0

    public init(nan: Int = 0, infinity: Int = 0, checked: Int = 0) {
        self.nan = nan
        self.infinity = infinity
        self.checked = checked
    }

    public var isClean: Bool { nan == 0 && infinity == 0 }
}

extension TensorView {
    /// Counts NaN and infinite elements among those `check` looks at. Integer and bool tensors
    /// have neither and are not read; FP8 E4M3 has NaN (0x7F, 0xFF) and no infinity. In the
    /// ggml block formats the f16 block scales are what can be NaN or infinite (the codes are
    /// small integers), and a bad scale counts every element of its block.
    public func nonFiniteCount(_ check: WeightCheck) -> NonFiniteCount {
        guard check != .none, dtype.isFloatingPoint || dtype.isBlockFormat, elementCount > 0 else { return NonFiniteCount() }
        // Units: elements, or blocks for the block formats.
        let units = elementCount / dtype.blockElements
        let perWindow = max(1, WeightCheck.windowBytes / dtype.byteSize)
        let windows = WeightCheck.sampleWindows
        var count = NonFiniteCount()
        if check == .full || byteCount <= WeightCheck.smallTensorBytes || units <= windows * perWindow {
            scan(0..<units, into: &count)
        } else {
            let lastStart = units - perWindow
            for w in 0..<windows {
                let start = w == windows - 1 ? lastStart : lastStart / (windows - 1) * w
                scan(start..<(start + perWindow), into: &count)
            }
        }
        return count
    }

    private func scan(_ units: Range<Int>, into count: inout NonFiniteCount) {
        if dtype.isBlockFormat { return scanBlockScales(units, into: &count) }
        count.checked += units.count
        let start = data + units.lowerBound * dtype.byteSize, n = units.count
        switch dtype {
        case .f32: Self.classify32(start, n, into: &count)
        case .bf16: Self.classify16(start, n, exponent: 0x7F80, mantissa: 0x007F, into: &count)
        case .f16: Self.classify16(start, n, exponent: 0x7C00, mantissa: 0x03FF, into: &count)
        case .f64: Self.classify64(start, n, into: &count)
        case .f8e4m3:
            let bytes = start.assumingMemoryBound(to: UInt8.self)
            var nan = 0
            for i in 0..<n where bytes[i] & 0x7F == 0x7F { nan += 1 }
            count.nan += nan
        default: break
        }
    }

    private func scanBlockScales(_ blocks: Range<Int>, into count: inout NonFiniteCount) {
        let elements = dtype.blockElements, size = dtype.byteSize, offsets = dtype.blockScaleOffsets
        count.checked += blocks.count * elements
        for b in blocks {
            var nan = false, infinity = false
            for offset in offsets {
                let bits = data.loadUnaligned(fromByteOffset: b * size + offset, as: UInt16.self)
                if bits & 0x7C00 == 0x7C00 { if bits & 0x03FF == 0 { infinity = true } else { nan = true } }
            }
            if nan { count.nan += elements } else if infinity { count.infinity += elements }
        }
    }

    // IEEE layouts: all exponent bits set is infinity (mantissa 0) or NaN (mantissa not 0). One
    // plain loop per width, typed when the data is aligned (safetensors does not promise it).

    private static func classify16(_ p: UnsafeRawPointer, _ n: Int, exponent: UInt16, mantissa: UInt16,
                                   into count: inout NonFiniteCount) {
        var nan = 0, infinity = 0
        if Int(bitPattern: p) % 2 == 0 {
            let q = p.assumingMemoryBound(to: UInt16.self)
            for i in 0..<n where q[i] & exponent == exponent {
                if q[i] & mantissa == 0 { infinity += 1 } else { nan += 1 }
            }
        } else {
            for i in 0..<n {
                let bits = p.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)
                if bits & exponent == exponent { if bits & mantissa == 0 { infinity += 1 } else { nan += 1 } }
            }
        }
        count.nan += nan
        count.infinity += infinity
    }

    private static func classify32(_ p: UnsafeRawPointer, _ n: Int, into count: inout NonFiniteCount) {
        let exponent: UInt32 = 0x7F80_0000, mantissa: UInt32 = 0x007F_FFFF
        var nan = 0, infinity = 0
        if Int(bitPattern: p) % 4 == 0 {
            let q = p.assumingMemoryBound(to: UInt32.self)
            for i in 0..<n where q[i] & exponent == exponent {
                if q[i] & mantissa == 0 { infinity += 1 } else { nan += 1 }
            }
        } else {
            for i in 0..<n {
                let bits = p.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)
                if bits & exponent == exponent { if bits & mantissa == 0 { infinity += 1 } else { nan += 1 } }
            }
        }
        count.nan += nan
        count.infinity += infinity
    }

    private static func classify64(_ p: UnsafeRawPointer, _ n: Int, into count: inout NonFiniteCount) {
        let exponent: UInt64 = 0x7FF0_0000_0000_0000, mantissa: UInt64 = 0x000F_FFFF_FFFF_FFFF
        for i in 0..<n {
            let bits = p.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self)
            if bits & exponent == exponent { if bits & mantissa == 0 { count.infinity += 1 } else { count.nan += 1 } }
        }
    }
}

extension DType {
    /// Whether the dtype has NaN or infinity at all.
    public var isFloatingPoint: Bool { [.f32, .bf16, .f16, .f8e4m3, .f64].contains(self) }
}

extension Checkpoint {
    /// Checks the tensors `names` (default: those the model took) for NaN and infinity as
    /// `check` says, in parallel, and throws `WeightsError.nonFinite` for the first bad one in
    /// file order (shard, then offset).
    public func checkWeights(_ check: WeightCheck, tensors names: [String]? = nil) throws {
        guard check != .none else { return }
        var views: [TensorView] = []
        for name in names ?? takenTensorNames {
            guard let view = view(name) else { throw WeightsError.missingTensor(name: name, directory: directory.path) }
            views.append(view)
        }
        views.sort { $0.path == $1.path ? $0.data < $1.data : $0.path < $1.path }
        guard !views.isEmpty else { return }
        let results = UnsafeMutableBufferPointer<NonFiniteCount>.allocate(capacity: views.count)
        defer { results.deallocate() }
        nonisolated(unsafe) let base = results.baseAddress!
        if check == .sampled {
            for file in files { file.adviseRandomAccess(true) }
        }
        defer { if check == .sampled { for file in files { file.adviseRandomAccess(false) } } }
        DispatchQueue.concurrentPerform(iterations: views.count) { i in
            (base + i).initialize(to: views[i].nonFiniteCount(check))
        }
        if let bad = results.indices.first(where: { !results[$0].isClean }) {
            let view = views[bad], found = results[bad]
            throw WeightsError.nonFinite(path: view.path, tensor: view.name, nan: found.nan, infinity: found.infinity,
                                         checked: found.checked, total: view.elementCount)
        }
    }
}
