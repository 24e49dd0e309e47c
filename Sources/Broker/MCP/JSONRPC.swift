import Specs

/// JSON-RPC 2.0 as MCP uses it: message shapes, error codes, and the checks that tell a request
/// from a notification, a response, and garbage.
public enum JSONRPC {
    /// Invalid JSON.
    public static let parseError = -32700
    /// Valid JSON that is not a JSON-RPC message.
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    /// Unknown tool, malformed params.
    public static let invalidParams = -32602
    public static let internalError = -32603

    /// One incoming message.
    public enum Message: Sendable {
        case request(id: JSONValue, method: String, params: JSONValue?)
        case notification(method: String, params: JSONValue?)
        case response(id: JSONValue, result: JSONValue)
        case failure(id: JSONValue, code: Int, message: String)
    }

    /// A message that is not well-formed: the id to answer with (null if unknown) and why.
    public struct Malformed: Error, Sendable {
        public let id: JSONValue
        public let message: String
    }

    /// Sorts out a parsed JSON value (MCP: ids are strings or integers, never null).
    public static func classify(_ value: JSONValue) -> Result<Message, Malformed> {
        guard case .object(let object) = value else {
            return .failure(Malformed(id: .null, message: "a JSON-RPC message must be an object, found \(value.kindDescription)"))
        }
        let id = object["id"]
        let answerID = id.flatMap { isValidID($0) ? $0 : nil } ?? .null
        guard object["jsonrpc"] == .string("2.0") else {
            return .failure(Malformed(id: answerID, message: "\"jsonrpc\" must be \"2.0\""))
        }
        if let id, !isValidID(id) {
            return .failure(Malformed(id: .null, message: "\"id\" must be a string or an integer"))
        }
        if let method = object["method"] {
            guard case .string(let name) = method, !name.isEmpty else {
                return .failure(Malformed(id: answerID, message: "\"method\" must be a non-empty string"))
            }
            let params = object["params"]
            if let params, !isStructured(params) {
                return .failure(Malformed(id: answerID, message: "\"params\" must be an object or an array"))
            }
            guard let id else { return .success(.notification(method: name, params: params)) }
            return .success(.request(id: id, method: name, params: params))
        }
        guard let id else { return .failure(Malformed(id: .null, message: "neither a request (no \"method\") nor a response (no \"id\")")) }
        if let result = object["result"], object["error"] == nil { return .success(.response(id: id, result: result)) }
        if case .object(let error)? = object["error"], object["result"] == nil,
           case .number(let code)? = error["code"], let value = code.int64, case .string(let text)? = error["message"] {
            return .success(.failure(id: id, code: Int(value), message: text))
        }
        return .failure(Malformed(id: id, message: "a response needs exactly one of \"result\" or a well-formed \"error\""))
    }

    static func isValidID(_ value: JSONValue) -> Bool {
        switch value {
        case .string: return true
        case .number(let number): return number.isInteger
        default: return false
        }
    }

    static func isStructured(_ value: JSONValue) -> Bool {
        switch value {
        case .object, .array: return true
        default: return false
        }
    }

    /// `{"jsonrpc": "2.0", "id": id, "result": result}`.
    public static func response(id: JSONValue, result: JSONValue) -> JSONValue {
        .object(JSONObject([("jsonrpc", .string("2.0")), ("id", id), ("result", result)]))
    }

    /// `{"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}`.
    public static func error(id: JSONValue, code: Int, message: String) -> JSONValue {
        .object(JSONObject([("jsonrpc", .string("2.0")), ("id", id),
                            ("error", .object(JSONObject([("code", .number(JSONNumber(code))), ("message", .string(message))])))]))
    }

    /// A request (`id` set) or a notification.
    public static func request(id: JSONValue?, method: String, params: JSONValue?) -> JSONValue {
        var object = JSONObject([("jsonrpc", .string("2.0"))])
        if let id { object["id"] = id }
        object["method"] = .string(method)
        if let params { object["params"] = params }
        return .object(object)
    }
}
