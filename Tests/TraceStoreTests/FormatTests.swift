import Specs
import Testing
@testable import TraceStore

@Suite("trace file format: header, frames, records")
struct FormatTests {
    @Test("the file header round-trips and a damaged header is rejected with its offset")
    func header() throws {
        for kind in [TraceFileKind.run, .hostIndex] {
            let bytes = TraceFormat.header(kind: kind)
            #expect(bytes.count == TraceFormat.headerSize)
            #expect(try TraceFormat.parseHeader(bytes[...], file: "f") == kind)
            for index in bytes.indices {
                var bad = bytes
                bad[index] ^= 0x01
                #expect(throws: TraceError.self) { try TraceFormat.parseHeader(bad[...], file: "f") }
            }
        }
    }

    @Test("a frame decodes to its payload; every single-byte flip is caught")
    func frameFlips() {
        let payload = Array("{\"hello\":\"world\"}".utf8)
        let frame = TraceFormat.frame(payload: payload)
        #expect(TraceFormat.scanFrame(frame, at: 0) == .frame(payload: 8..<8 + payload.count, end: frame.count))
        for index in frame.indices {
            for bit in [0x01, 0x80] as [UInt8] {
                var bad = frame
                bad[index] ^= bit
                if case .frame = TraceFormat.scanFrame(bad, at: 0) { Issue.record("flip at \(index) not caught") }
            }
        }
    }

    @Test("a frame cut short is incomplete, not corrupt")
    func frameTruncated() {
        let frame = TraceFormat.frame(payload: Array(repeating: 0x41, count: 40))
        for cut in 0..<frame.count {
            guard case .incomplete = TraceFormat.scanFrame(Array(frame[..<cut]), at: 0) else {
                Issue.record("cut at \(cut) not reported incomplete"); continue
            }
        }
    }

    @Test("a record payload is canonical JSON and decodes back to the same record")
    func recordRoundTrip() throws {
        let record = TraceRecord(seq: 7, timestamp: 1_796_239_369_448_721_860, type: .seccompDenial, span: SpanID.random(),
                                 parent: SpanID.random(), body: JSONObject([("z", .string("é\n\"")), ("a", .number(JSONNumber(UInt64.max)))]),
                                 prev: SHA256Digest(hashing: Array("x".utf8)))
        let payload = record.payload()
        let text = String(decoding: payload, as: UTF8.self)
        #expect(text.hasPrefix("{\"body\":{\"a\":18446744073709551615,\"z\":"))
        let decoded = try TraceRecord.decode(payload: payload[...], file: "f", offset: 16)
        #expect(decoded.payload() == payload)
        #expect(decoded.seq == 7 && decoded.span == record.span && decoded.parent == record.parent && decoded.prev == record.prev)
        #expect(decoded.body["a"] == .number(JSONNumber(UInt64.max)))
    }

    static let badPayloads: [(String, String)] = [
        ("not json", "bad record payload"),
        ("[1]", "not a JSON object"),
        ("{\"body\":{},\"extra\":1,\"parent\":null,\"prev\":\"\(String(repeating: "0", count: 64))\",\"seq\":0,\"span\":\"0102030405060708\",\"ts\":1,\"type\":\"t\"}", "unknown key 'extra'"),
        ("{\"body\":{},\"parent\":null,\"prev\":\"\(String(repeating: "0", count: 64))\",\"seq\":-1,\"span\":\"0102030405060708\",\"ts\":1,\"type\":\"t\"}", "seq"),
        ("{\"body\":{},\"parent\":null,\"prev\":\"\(String(repeating: "0", count: 63))\",\"seq\":0,\"span\":\"0102030405060708\",\"ts\":1,\"type\":\"t\"}", "prev"),
        ("{\"body\":{},\"parent\":null,\"prev\":\"\(String(repeating: "0", count: 64))\",\"seq\":0,\"span\":\"0000000000000000\",\"ts\":1,\"type\":\"t\"}", "span"),
        ("{\"parent\":null,\"body\":{},\"prev\":\"\(String(repeating: "0", count: 64))\",\"seq\":0,\"span\":\"0102030405060708\",\"ts\":1,\"type\":\"t\"}", "canonical"),
        ("{\"body\":{}, \"parent\":null,\"prev\":\"\(String(repeating: "0", count: 64))\",\"seq\":0,\"span\":\"0102030405060708\",\"ts\":1,\"type\":\"t\"}", "canonical"),
    ]

    @Test("bad payloads are errors naming what is wrong", arguments: badPayloads)
    func badPayload(payload: String, expected: String) {
        do {
            _ = try TraceRecord.decode(payload: Array(payload.utf8)[...], file: "f", offset: 16)
            Issue.record("accepted: \(payload)")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
            #expect(error.offset == 16)
        }
    }
}
