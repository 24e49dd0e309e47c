/// Turns generated token bytes into text to show, as it arrives: never half a UTF-8 code point, and
/// never text that might turn out to be the start of a stop string.
///
/// Bytes wait in two places: an incomplete UTF-8 sequence at the end (a token may carry the first
/// bytes of an emoji, the next token the rest), and the longest tail of the text that is a prefix of
/// some stop string (it may complete across the next tokens, and a stop string is never emitted).
public struct TextStream: Sendable {
    private let stops: [[UInt8]]
    /// Complete UTF-8 not yet emitted because it may begin a stop string.
    private var held: [UInt8] = []
    /// The bytes of an unfinished code point.
    private var partial: [UInt8] = []
    /// The stop string that ended the text, once one has.
    public private(set) var matchedStop: String?

    /// A stream that ends at the first of `stopStrings` (which must not be empty strings).
    public init(stopStrings: [String]) {
        stops = stopStrings.map { Array($0.utf8) }.filter { !$0.isEmpty }
    }

    /// Adds a token's bytes; returns the text that is now safe to show (possibly empty). After a stop
    /// string matched, returns the text before it and ignores everything after.
    public mutating func append(_ bytes: some Sequence<UInt8>) -> String {
        guard matchedStop == nil else { return "" }
        partial += bytes
        let complete = Self.completePrefixLength(partial)
        held += partial[..<complete]
        partial.removeFirst(complete)
        if let (index, stop) = firstStop() {
            matchedStop = String(decoding: stop, as: UTF8.self)
            let text = String(decoding: held[..<index], as: UTF8.self)
            held.removeAll()
            partial.removeAll()
            return text
        }
        let keep = longestStopPrefixSuffix()
        let text = String(decoding: held[..<(held.count - keep)], as: UTF8.self)
        held.removeFirst(held.count - keep)
        return text
    }

    /// Everything still held, at the end of generation (an unfinished code point becomes U+FFFD).
    public mutating func finish() -> String {
        guard matchedStop == nil else { return "" }
        let text = String(decoding: held + partial, as: UTF8.self)
        held.removeAll()
        partial.removeAll()
        return text
    }

    /// The earliest position where a stop string occurs in `held` (the longest stop at that position).
    private func firstStop() -> (Int, [UInt8])? {
        var best: (Int, [UInt8])?
        for stop in stops where stop.count <= held.count {
            var start = 0
            let limit = min(held.count - stop.count, best?.0 ?? Int.max)
            while start <= limit {
                if held[start] == stop[0] && held[start..<(start + stop.count)].elementsEqual(stop) {
                    if let current = best, current.0 == start, current.1.count >= stop.count { break }
                    best = (start, stop)
                    break
                }
                start += 1
            }
        }
        return best
    }

    /// How many trailing bytes of `held` are a proper prefix of some stop string.
    private func longestStopPrefixSuffix() -> Int {
        var longest = 0
        for stop in stops {
            var length = min(stop.count - 1, held.count)
            while length > longest {
                if held[(held.count - length)...].elementsEqual(stop[..<length]) {
                    longest = length
                    break
                }
                length -= 1
            }
        }
        return longest
    }

    /// The length of `bytes` without a trailing, still-incomplete UTF-8 sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        let n = bytes.count
        var i = n - 1
        // Look back over at most three continuation bytes for the lead byte of the last sequence.
        while i >= 0 && i >= n - 4 {
            let byte = bytes[i]
            if byte & 0xC0 != 0x80 {
                let needed = byte >= 0xF8 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : byte >= 0xC0 ? 2 : 1
                return n - i < needed ? i : n
            }
            i -= 1
        }
        return n
    }
}
