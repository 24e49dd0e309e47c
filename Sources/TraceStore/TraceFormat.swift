// The trace file format, version 1.
//
// A trace directory holds one file per run (`<run-id>.trace`) and one host index (`host.index`).
// Both have the same layout; all integers are little-endian.
//
//   file    := header frame*
//   header  := magic "WDNTRACE" (8 bytes) | version u16 (= 1) | kind u16 (1 run, 2 host index)
//              | crc32c u32 over the 12 bytes before it                                   (16 bytes)
//   frame   := length u32 | crc u32 | payload (length bytes) | length u32 again (trailer)
//              crc   = CRC-32C (Castagnoli) over the leading length field and the payload
//              length <= 16 MiB; the trailer lets a reader find the last frame from the end of
//              the file, so opening the host index costs the same however long it is.
//   payload := canonical JSON (sorted keys, no whitespace, minimal escapes; Specs.JSONWriter) of
//              {"body":{...},"parent":"<16 hex>"|null,"prev":"<64 hex>","seq":N,"span":"<16 hex>",
//               "ts":<ns since epoch>,"type":"<record type>"}
//
// Chaining: `prev` is the SHA-256 of the previous frame's bytes (length through trailer). `seq`
// counts from 0 in each file without gaps. A run file's first record (seq 0, `run.start`) chains to
// the host index record that opened it (`index.open`); the host index chains record to record, its
// first record chaining to 32 zero bytes. `index.close` records carry each run's final hash and
// record count, so the host index commits to every run and all runs of a host form one chain.
//
// A frame is valid when the length is in range, the CRC matches and the trailer equals the length;
// a record is valid when its payload is canonical (re-encoding gives the same bytes), its seq is
// the previous seq + 1 and its prev is the previous frame's hash.

/// Which of the two trace file kinds a file is.
public enum TraceFileKind: UInt16, Sendable {
    case run = 1
    case hostIndex = 2
}

/// Constants and frame encoding/decoding of the trace file format (layout above).
public enum TraceFormat {
    public static let magic: [UInt8] = Array("WDNTRACE".utf8)
    public static let version: UInt16 = 1
    public static let headerSize = 16
    /// Bytes a frame adds around its payload: length, crc, trailer.
    public static let frameOverhead = 12
    /// The largest payload a frame may carry.
    public static let maxPayload = 16 << 20

    /// The 16-byte file header for `kind`.
    public static func header(kind: TraceFileKind) -> [UInt8] {
        var bytes = magic
        append16(&bytes, version)
        append16(&bytes, kind.rawValue)
        append32(&bytes, CRC32C.checksum(bytes))
        return bytes
    }

    /// Checks a file header and returns the file's kind.
    public static func parseHeader(_ bytes: ArraySlice<UInt8>, file: String) throws(TraceError) -> TraceFileKind {
        guard bytes.count >= headerSize else {
            throw TraceError(.format, "file is shorter than the 16-byte trace header", file: file, offset: 0)
        }
        let start = bytes.startIndex
        guard Array(bytes[start..<start + 8]) == magic else {
            throw TraceError(.format, "not a trace file (bad magic)", file: file, offset: 0)
        }
        guard read32(bytes, start + 12) == CRC32C.checksum(Array(bytes[start..<start + 12])) else {
            throw TraceError(.format, "file header checksum mismatch", file: file, offset: 0)
        }
        let version = read16(bytes, start + 8)
        guard version == self.version else {
            throw TraceError(.format, "unsupported trace format version \(version)", file: file, offset: 8)
        }
        guard let kind = TraceFileKind(rawValue: read16(bytes, start + 10)) else {
            throw TraceError(.format, "unknown trace file kind \(read16(bytes, start + 10))", file: file, offset: 10)
        }
        return kind
    }

    /// Frames a payload: length, CRC-32C, payload, length.
    public static func frame(payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + frameOverhead)
        append32(&out, UInt32(payload.count))
        let crc = payload.withUnsafeBytes { body in
            CRC32C.checksum(body, continuing: CRC32C.checksum(Array(out)))
        }
        append32(&out, crc)
        out.append(contentsOf: payload)
        append32(&out, UInt32(payload.count))
        return out
    }

    /// Completes the frame starting at `start` whose payload follows 8 placeholder bytes:
    /// fills in length and CRC and appends the trailer.
    static func sealFrame(_ bytes: inout [UInt8], from start: Int, checksum: Bool = true) {
        let length = UInt32(bytes.count - start - 8)
        for i in 0..<4 { bytes[start + i] = UInt8((length >> UInt32(8 * i)) & 0xFF) }
        defer { append32(&bytes, length) }
        guard checksum else { return }  // `chain` computes it once `prev` is filled in
        let crc = bytes.withUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(start + 8)...]),
                            continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<start + 4])))
        }
        for i in 0..<4 { bytes[start + 4 + i] = UInt8((crc >> UInt32(8 * i)) & 0xFF) }
    }

    /// Links a frame made by `TraceRecord.unchainedFrame` into the chain: writes `prev` as hex at
    /// `prevOffset` (relative to the frame at `start` of `bytes`), recomputes the CRC, and returns
    /// the frame's hash, which the next frame links to. The frame ends at `end` (default: the end of `bytes`).
    static func chain(_ bytes: inout [UInt8], frameAt start: Int, end: Int? = nil, prevOffset: Int, prev: SHA256Digest) -> SHA256Digest {
        let hex: StaticString = "0123456789abcdef"
        bytes.withUnsafeMutableBufferPointer { out in
            hex.withUTF8Buffer { digits in
                prev.withBytes { raw in
                    var at = start + prevOffset
                    for byte in raw {
                        out[at] = digits[Int(byte >> 4)]
                        out[at + 1] = digits[Int(byte & 0xF)]
                        at += 2
                    }
                }
            }
        }
        let end = end ?? bytes.count
        let crc = bytes.withUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(start + 8)..<(end - 4)]),
                            continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[start..<start + 4])))
        }
        for i in 0..<4 { bytes[start + 4 + i] = UInt8((crc >> UInt32(8 * i)) & 0xFF) }
        return SHA256Digest(hashing: bytes[start..<end])
    }

    /// What is at an offset of a file's bytes.
    public enum FrameScan: Equatable, Sendable {
        /// A valid frame: payload bytes `payload`, next frame at `end`.
        case frame(payload: Range<Int>, end: Int)
        /// The bytes end before the frame does: what a crash in the middle of a write leaves.
        case incomplete(String)
        /// A complete frame that is wrong (length out of range, CRC or trailer mismatch).
        case corrupt(String)
    }

    /// Decodes the frame starting at `offset` in `bytes`.
    public static func scanFrame(_ bytes: [UInt8], at offset: Int) -> FrameScan {
        guard bytes.count - offset >= 8 else { return .incomplete("\(bytes.count - offset) bytes where a frame header needs 8") }
        let length = Int(read32(bytes[...], offset))
        guard length <= maxPayload else { return .corrupt("frame length \(length) exceeds the 16 MiB limit") }
        let end = offset + 8 + length + 4
        guard end <= bytes.count else {
            return .incomplete("frame of \(length) bytes needs \(end - offset) bytes, \(bytes.count - offset) remain")
        }
        let crc = bytes.withUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[offset + 8..<offset + 8 + length]),
                            continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 4])))
        }
        guard crc == read32(bytes[...], offset + 4) else { return .corrupt("frame checksum mismatch") }
        guard read32(bytes[...], end - 4) == UInt32(length) else { return .corrupt("frame trailer does not match its length") }
        return .frame(payload: offset + 8..<offset + 8 + length, end: end)
    }

    static func append16(_ out: inout [UInt8], _ value: UInt16) {
        out.append(UInt8(value & 0xFF)); out.append(UInt8(value >> 8))
    }

    static func append32(_ out: inout [UInt8], _ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0.assumingMemoryBound(to: UInt8.self)) }
    }

    static func read16(_ bytes: ArraySlice<UInt8>, _ at: Int) -> UInt16 {
        UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }

    static func read32(_ bytes: ArraySlice<UInt8>, _ at: Int) -> UInt32 {
        UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }
}
