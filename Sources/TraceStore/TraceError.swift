import Glibc

/// The one error type of the TraceStore module: what went wrong, and where in which file.
public struct TraceError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure this is; extensible, compared by value.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A system call failed (open, read, write, fdatasync, rename...).
        public static let io = Code("io")
        /// A file is not a trace file, or a frame or payload is malformed (checksum, length, JSON).
        public static let format = Code("format")
        /// The hash chain, a sequence number or the host index disagrees with the records.
        public static let chain = Code("chain")
        /// A record could not be made durable and the policy is to fail closed.
        public static let durability = Code("durability")
        /// A run or file named by the caller does not exist.
        public static let notFound = Code("not-found")
        /// The writer or recorder was already closed or failed.
        public static let closed = Code("closed")
        /// Recovery found damage it must not repair (anything but a torn tail of the last file).
        public static let unrepairable = Code("unrepairable")
        /// A caller passed an invalid argument (a bad run id, a body that is not an object).
        public static let invalidArgument = Code("invalid-argument")
    }

    public var code: Code
    public var message: String
    /// The file the problem is in, when there is one.
    public var file: String?
    /// Byte offset of the bad frame (or of the file header) in `file`.
    public var offset: Int64?
    /// Sequence number of the bad record, when it could be read.
    public var seq: UInt64?
    /// The errno of a failed system call.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, file: String? = nil, offset: Int64? = nil,
                seq: UInt64? = nil, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.offset = offset
        self.seq = seq
        self.errno = errno
    }

    /// `file@offset (seq N): message (errno text)`.
    public var description: String {
        var text = ""
        if let file { text += file }
        if let offset { text += "@\(offset)" }
        if let seq { text += (text.isEmpty ? "" : " ") + "(seq \(seq))" }
        if !text.isEmpty { text += ": " }
        text += message
        if let errno { text += " (" + String(cString: strerror(errno)) + ")" }
        return text
    }

    /// An error for a failed system call, reading the current errno.
    static func system(_ call: String, _ path: String?, errno code: Int32 = Glibc.errno) -> TraceError {
        TraceError(.io, "\(call) failed", file: path, errno: code)
    }
}
