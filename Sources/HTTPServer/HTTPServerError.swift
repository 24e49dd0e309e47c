import Glibc

/// The one error type of the HTTPServer module: server setup, the client and URL parsing.
public struct HTTPServerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, coarsely.
    public enum Code: Sendable, Equatable {
        /// A system call failed (`errno` in `systemError`).
        case system
        /// The descriptor handed to `addListener` is not a listening socket.
        case notListening
        /// The server was stopped, or `start` was called twice.
        case invalidState
        /// The URL could not be parsed, or names a scheme other than http.
        case invalidURL
        /// Name resolution failed.
        case resolution
        /// Every address the host resolved to was refused by the caller's address filter.
        case addressNotAllowed
        /// The operation ran past its deadline.
        case timeout
        /// The peer closed the connection before the response was complete.
        case connectionClosed
        /// The peer's response broke HTTP/1.1 framing.
        case malformedResponse
        /// The response exceeded the caller's size limit.
        case responseTooLarge
    }

    public var code: Code
    public var message: String
    /// The errno value for `.system`.
    public var systemError: Int32?

    public init(_ code: Code, _ message: String, systemError: Int32? = nil) {
        self.code = code; self.message = message; self.systemError = systemError
    }

    /// An error for the failed call `call`, from the current `errno`.
    static func system(_ call: String, _ error: Int32 = errno) -> HTTPServerError {
        HTTPServerError(.system, "\(call): \(String(cString: strerror(error)))", systemError: error)
    }

    public var description: String { message }
}
