/// Non-ASCII class members as UTF-8 byte sequences, so the byte-level VM can run `[à-ÿ]` or
/// `[^/é]`: a scalar range becomes an alternation of byte-range sequences (the construction RE2 and
/// Rust's `utf8-ranges` use). Surrogates are never matched: they are not valid in UTF-8.
struct ScalarRanges {
    /// Sorted, disjoint, non-adjacent ranges of scalars ≥ 0x80.
    private(set) var ranges: [ClosedRange<UInt32>] = []

    static let maxScalar: UInt32 = 0x10FFFF

    var isEmpty: Bool { ranges.isEmpty }

    mutating func insert(_ range: ClosedRange<UInt32>) {
        guard range.upperBound >= 0x80 else { return }
        var merged = max(range.lowerBound, 0x80)...range.upperBound
        var kept: [ClosedRange<UInt32>] = []
        for existing in ranges {
            if existing.upperBound + 1 < merged.lowerBound || merged.upperBound + 1 < existing.lowerBound {
                kept.append(existing)
            } else {
                merged = min(existing.lowerBound, merged.lowerBound)...max(existing.upperBound, merged.upperBound)
            }
        }
        kept.append(merged)
        ranges = kept.sorted { $0.lowerBound < $1.lowerBound }
    }

    /// Every non-ASCII scalar not in this set.
    var complement: ScalarRanges {
        var result = ScalarRanges()
        var next: UInt32 = 0x80
        for range in ranges {
            if range.lowerBound > next { result.ranges.append(next...range.lowerBound - 1) }
            next = range.upperBound + 1
        }
        if next <= Self.maxScalar { result.ranges.append(next...Self.maxScalar) }
        return result
    }

    /// One alternative per byte-range sequence.
    var nodes: [RegexNode] {
        var sequences: [[ClosedRange<UInt8>]] = []
        for range in ranges { Self.split(range.lowerBound, range.upperBound, into: &sequences) }
        return sequences.map { sequence in
            .sequence(sequence.map { range in var set = ByteSet(); set.insert(range); return .bytes(set) })
        }
    }

    /// Splits `low...high` until each piece's UTF-8 encodings differ only within per-byte ranges.
    static func split(_ low: UInt32, _ high: UInt32, into sequences: inout [[ClosedRange<UInt8>]]) {
        guard low <= high else { return }
        if low <= 0xDFFF && high >= 0xD800 {
            if low < 0xD800 { split(low, 0xD7FF, into: &sequences) }
            if high > 0xDFFF { split(0xE000, high, into: &sequences) }
            return
        }
        for boundary: UInt32 in [0x7F, 0x7FF, 0xFFFF] where low <= boundary && boundary < high {
            split(low, boundary, into: &sequences); split(boundary + 1, high, into: &sequences)
            return
        }
        for level: UInt32 in 1..<4 {
            let mask: UInt32 = (1 << (6 * level)) - 1
            guard low & ~mask != high & ~mask else { continue }
            if low & mask != 0 {
                split(low, low | mask, into: &sequences); split((low | mask) + 1, high, into: &sequences)
                return
            }
            if high & mask != mask {
                split(low, (high & ~mask) - 1, into: &sequences); split(high & ~mask, high, into: &sequences)
                return
            }
        }
        let a = encode(low), b = encode(high)
        sequences.append(zip(a, b).map { $0...$1 })
    }

    static func encode(_ scalar: UInt32) -> [UInt8] {
        switch scalar {
        case ..<0x80: return [UInt8(scalar)]
        case ..<0x800: return [UInt8(0xC0 | scalar >> 6), UInt8(0x80 | scalar & 0x3F)]
        case ..<0x10000:
            return [UInt8(0xE0 | scalar >> 12), UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)]
        default:
            return [UInt8(0xF0 | scalar >> 18), UInt8(0x80 | scalar >> 12 & 0x3F),
                    UInt8(0x80 | scalar >> 6 & 0x3F), UInt8(0x80 | scalar & 0x3F)]
        }
    }
}
