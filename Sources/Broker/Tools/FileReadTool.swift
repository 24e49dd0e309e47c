import Glibc
import HostOS
import Specs

/// `fs.read`: a regular file of the workspace, up to a byte limit, as text (UTF-8) or base64.
struct FileReadTool: BrokerTool {
    let workspace: WorkspaceRoot
    /// Bytes returned when neither the call nor the rule asks for fewer.
    static let defaultLimit: UInt64 = 1 << 20

    let descriptor = ToolDescriptor(
        name: "fs.read", description: "Read a file of the workspace (path relative to the workspace, or under /workspace).",
        inputSchema: FileReadTool.schemaJSON, annotations: ToolDescriptor.hints(readOnly: true, idempotent: true))
    let schema = ToolArguments.schema(FileReadTool.schemaText)

    static let schemaText = #"""
    {"type": "object", "additionalProperties": false, "required": ["path"],
     "properties": {"path": {"type": "string", "minLength": 1, "maxLength": 4096, "description": "file to read"},
                    "offset": {"type": "integer", "minimum": 0, "description": "first byte to read"},
                    "maxBytes": {"type": "integer", "minimum": 1, "description": "most bytes to return"}}}
    """#
    static let schemaJSON = ToolArguments.schema(schemaText).json

    func call(_ arguments: JSONObject, rule: ToolRule) -> ToolResult {
        let path = ToolArguments.string(arguments, "path") ?? ""
        let relative: String
        switch workspace.relative(path) {
        case .success(let value): relative = value
        case .failure(let refusal): return refusal.result
        }
        let file: FileDescriptor
        // O_NONBLOCK: a FIFO planted in the workspace must not hang the broker in open or read.
        do { file = try workspace.open(relative, .readOnly, options: [.nonBlocking]) } catch {
            return WorkspaceRoot.explain(error, path: path)
        }
        defer { try? file.close() }
        guard let location = workspace.location(of: file), WorkspaceRoot.allows(rule, location) else {
            return .denial("\(path): not among the paths the policy allows fs.read (\(rule.paths.joined(separator: ", ")))")
        }
        let status: FileDescriptor.Status
        do { status = try file.status() } catch { return .failure("\(path): \(error)") }
        guard status.kind == .regular else { return .failure("\(path): not a regular file (\(status.kind.rawValue))") }
        let ruleLimit = rule.maxBytes ?? Self.defaultLimit
        let limit = Int(min(ruleLimit, UInt64(max(1, ToolArguments.integer(arguments, "maxBytes") ?? Int64(ruleLimit)))))
        let offset = ToolArguments.integer(arguments, "offset") ?? 0
        let bytes: [UInt8]
        // Sized by the file, not the limit: a 1 GiB allowance must not allocate 1 GiB for a small file.
        let want = min(limit, Int(max(0, status.size - offset)))
        do { bytes = try Self.read(file, offset: offset, limit: want) } catch { return .failure("\(path): \(error)") }
        let truncated = offset + Int64(bytes.count) < status.size
        let text = String(validating: bytes, as: UTF8.self)
        var structured = JSONObject([("path", .string(location)), ("size", .number(JSONNumber(status.size))),
                                     ("offset", .number(JSONNumber(offset))), ("bytes", .number(JSONNumber(bytes.count))),
                                     ("truncated", .bool(truncated)), ("encoding", .string(text == nil ? "base64" : "utf-8"))])
        let content = text ?? Base64.encode(bytes)
        structured["content"] = .string(content)
        return ToolResult(text: content, structured: structured)
    }

    /// pread from `offset` until `limit` bytes or end of file.
    static func read(_ file: FileDescriptor, offset: Int64, limit: Int) throws(Errno) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: limit)
        var filled = 0
        while filled < limit {
            let count = result.withUnsafeMutableBytes { pread(file.rawValue, $0.baseAddress! + filled, limit - filled, off_t(offset) + off_t(filled)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Errno(rawValue: errno)
            }
            if count == 0 { break }
            filled += count
        }
        result.removeSubrange(filled...)
        return result
    }
}

/// Standard base64 (RFC 4648 §4) for binary file content.
enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i < bytes.count {
            let chunk = (UInt32(bytes[i]) << 16) | (i + 1 < bytes.count ? UInt32(bytes[i + 1]) << 8 : 0)
                | (i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0)
            let available = min(3, bytes.count - i)
            for k in 0..<4 {
                out.append(k <= available ? alphabet[Int((chunk >> (18 - 6 * UInt32(k))) & 63)] : UInt8(ascii: "="))
            }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }
}
