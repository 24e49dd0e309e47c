import Specs
import Supervisor

/// What the daemon's CLI clients (`deploy`, `ps`, `invoke`, `logs`, `stop`) share: `--socket PATH`
/// (default: $WARDEN_SOCKET, else the daemon's default), and how they report a failed request.
struct ControlOptions {
    var socketPath = SupervisorConfig.defaultSocketPath()

    /// Consumes `--socket` if it is next.
    mutating func parse(_ cursor: inout ArgumentCursor) throws(UsageError) -> Bool {
        if let value = try cursor.value(for: "--socket") { socketPath = value; return true }
        return false
    }

    var client: ControlClient { ControlClient(socketPath: socketPath) }

    /// Sends a request; on a non-2xx answer or no daemon, prints why and returns nil.
    func call(_ command: String, _ method: String, _ target: String, body: [UInt8] = []) -> ControlClient.Reply? {
        do throws(SupervisorError) {
            let reply = try client.request(method, target, body: body)
            guard (200..<300).contains(reply.status) else {
                printError("warden \(command): \(reply.errorMessage)")
                return nil
            }
            return reply
        } catch {
            printError("warden \(command): \(error)")
            return nil
        }
    }

    /// A path component or query value made safe for a request target.
    static func escape(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            let c = Character(UnicodeScalar(byte))
            if c.isLetter && byte < 0x80 || c.isNumber && byte < 0x80 || "-_.~".contains(c) { out.append(c) } else {
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }
}

extension JSONValue {
    /// A member of an object value (nil for anything else).
    subscript(member key: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[key]
    }

    /// The value as text for a table cell.
    var cell: String {
        switch self {
        case .string(let text): return text
        case .number(let number): return number.description
        case .bool(let flag): return flag ? "true" : "false"
        case .null: return "-"
        default: return JSONWriter.compact(self)
        }
    }
}
