/// One server-sent event (the `text/event-stream` format of the HTML standard, §9.2).
public struct ServerSentEvent: Sendable, Equatable {
    /// The `event:` type; nil for the default "message".
    public var event: String?
    /// The payload; each line becomes one `data:` line.
    public var data: String
    public var id: String?

    public init(data: String, event: String? = nil, id: String? = nil) {
        self.data = data; self.event = event; self.id = id
    }

    /// `event: …\ndata: …\n\n`. CR and LF inside `event` and `id` are dropped (they would end the field).
    public var encoded: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.utf8.count + 16)
        if let event { out += "event: ".utf8; out += event.utf8.filter { $0 != 10 && $0 != 13 }; out.append(10) }
        if let id { out += "id: ".utf8; out += id.utf8.filter { $0 != 10 && $0 != 13 }; out.append(10) }
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            out += "data: ".utf8
            out += line.utf8.filter { $0 != 13 }
            out.append(10)
        }
        out.append(10)
        return out
    }
}

extension HTTPResponder {
    /// Starts a 200 `text/event-stream` response (no caching, no proxy buffering).
    public func startEventStream(headers: HTTPHeaders = HTTPHeaders()) {
        var headers = headers
        headers.set("Content-Type", "text/event-stream")
        headers.set("Cache-Control", "no-cache")
        startStream(status: 200, headers: headers)
    }

    /// Sends one event; false once the peer is gone (see `write`).
    @discardableResult public func send(_ event: ServerSentEvent) -> Bool { write(event.encoded) }
}

/// Splits a `text/event-stream` body into events as bytes arrive (lines end in LF, CRLF or CR).
public struct ServerSentEventDecoder: Sendable {
    private var line: [UInt8] = []
    private var event: String?
    private var data: [String] = []
    private var id: String?
    private var lastWasCR = false

    public init() {}

    /// Feeds bytes; returns the events they completed.
    public mutating func feed(_ bytes: [UInt8]) -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == 10 && lastWasCR { lastWasCR = false; continue }
            lastWasCR = byte == 13
            if byte == 10 || byte == 13 {
                if let event = endLine() { events.append(event) }
            } else {
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            defer { event = nil; data = []; id = nil }
            return data.isEmpty ? nil : ServerSentEvent(data: data.joined(separator: "\n"), event: event, id: id)
        }
        if line.first == 0x3A { return nil }  // a comment
        let colon = line.firstIndex(of: 0x3A) ?? line.count
        let name = String(decoding: line[..<colon], as: UTF8.self)
        var valueStart = min(colon + 1, line.count)
        if valueStart < line.count && line[valueStart] == 0x20 { valueStart += 1 }
        let value = String(decoding: line[valueStart...], as: UTF8.self)
        switch name {
        case "event": event = value
        case "data": data.append(value)
        case "id": id = value
        default: break
        }
        return nil
    }
}
