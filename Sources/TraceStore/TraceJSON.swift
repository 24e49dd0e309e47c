import Specs

/// The trace store's one door to the Specs JSON layer: canonical bytes for hashing, strict parsing.
enum TraceJSON {
    /// Canonical JSON (sorted keys, no whitespace, minimal escapes): the bytes that get hashed.
    static func canonical(_ value: JSONValue) -> [UInt8] {
        JSONWriter.canonical(value)
    }

    /// Compact JSON keeping key order (for `--json` output and OTLP files).
    static func compact(_ value: JSONValue) -> [UInt8] {
        JSONWriter.compactBytes(value)
    }

    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONParser.parse(bytes, file: nil)
    }
}
