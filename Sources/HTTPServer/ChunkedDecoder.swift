/// Decodes the chunked transfer coding (RFC 9112 §7.1) incrementally, for request bodies on the
/// server and response bodies in the client. Never trusts a size: hex overflow is an error, and
/// the decoded total is checked against `maxBody` before any byte of a chunk is kept.
struct ChunkedDecoder {
    enum State: Equatable { case size, data(Int), dataEnd, trailer, done }
    private(set) var state: State = .size
    private(set) var decodedBytes = 0
    private var trailerBytes = 0
    private var trailerCount = 0

    let maxBody: Int
    let maxLineBytes: Int
    let maxTrailerBytes: Int
    let maxTrailerCount: Int

    init(maxBody: Int, maxLineBytes: Int = 4096, maxTrailerBytes: Int = 16384, maxTrailerCount: Int = 100) {
        self.maxBody = maxBody; self.maxLineBytes = maxLineBytes
        self.maxTrailerBytes = maxTrailerBytes; self.maxTrailerCount = maxTrailerCount
    }

    var isDone: Bool { state == .done }

    /// Consumes what it can of `bytes`, appending chunk data to `body`; returns the bytes consumed.
    /// Incomplete lines stay unconsumed for the next call.
    mutating func decode(_ bytes: UnsafeBufferPointer<UInt8>, into body: inout [UInt8]) throws(HTTPRejection) -> Int {
        var offset = 0
        while offset < bytes.count, state != .done {
            switch state {
            case .size:
                guard let end = try line(bytes, from: offset) else { return offset }
                let size = try Self.parseSizeLine(UnsafeBufferPointer(rebasing: bytes[offset..<end]))
                if size > maxBody - decodedBytes { throw HTTPRejection(413, "chunked body too large") }
                offset = end + 2
                state = size == 0 ? .trailer : .data(size)
            case .data(let remaining):
                let take = min(remaining, bytes.count - offset)
                body.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[offset..<(offset + take)]))
                decodedBytes += take
                offset += take
                state = remaining == take ? .dataEnd : .data(remaining - take)
            case .dataEnd:
                guard bytes.count - offset >= 2 else { return offset }
                guard bytes[offset] == HTTPBytes.cr, bytes[offset + 1] == HTTPBytes.lf else {
                    throw HTTPRejection(400, "chunk data not followed by CRLF")
                }
                offset += 2
                state = .size
            case .trailer:
                guard let end = try line(bytes, from: offset) else { return offset }
                try acceptTrailer(UnsafeBufferPointer(rebasing: bytes[offset..<end]))
                offset = end + 2
            case .done:
                break
            }
        }
        return offset
    }

    /// The end of the CRLF-terminated line starting at `from`, nil if not all here yet.
    private func line(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) throws(HTTPRejection) -> Int? {
        if let end = HTTPBytes.lineEnd(bytes, from: from) { return end }
        if bytes.count - from > (state == .trailer ? maxTrailerBytes : maxLineBytes) {
            throw HTTPRejection(state == .trailer ? 431 : 400, "chunk line too long")
        }
        return nil
    }

    /// A trailer field line (checked, then dropped: RFC 9110 §6.5.1 forbids merging unknown ones),
    /// or the blank line that ends the message.
    private mutating func acceptTrailer(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPRejection) {
        if line.isEmpty { state = .done; return }
        trailerBytes += line.count + 2
        trailerCount += 1
        if trailerBytes > maxTrailerBytes || trailerCount > maxTrailerCount {
            throw HTTPRejection(431, "trailer section too large")
        }
        _ = try RequestHeadParser.parseField(line)
    }

    /// `1*HEXDIG [ chunk-ext ]`: the size, with extensions checked for stray control bytes and ignored.
    static func parseSizeLine(_ line: UnsafeBufferPointer<UInt8>) throws(HTTPRejection) -> Int {
        var size = 0
        var index = 0
        while index < line.count, let digit = hexValue(line[index]) {
            if size > (Int.max >> 4) { throw HTTPRejection(400, "chunk size overflows") }
            size = size << 4 | digit
            index += 1
        }
        guard index > 0 else { throw HTTPRejection(400, "malformed chunk size") }
        while index < line.count, line[index] == HTTPBytes.space || line[index] == HTTPBytes.tab { index += 1 }
        if index < line.count {
            guard line[index] == 0x3B else { throw HTTPRejection(400, "malformed chunk size") }
            for position in index..<line.count where !HTTPBytes.isFieldValue(line[position]) {
                throw HTTPRejection(400, "invalid character in chunk extension")
            }
        }
        return size
    }

    @inline(__always) static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}
