/// Errors of running a sandbox: setup (workspace, cgroup, launch) and supervision.
extension SandboxRun {
    /// What went wrong, in one line a person can act on.
    public struct Error: Swift.Error, CustomStringConvertible, Sendable {
        /// Extensible error kinds.
        public struct Code: RawRepresentable, Hashable, Sendable {
            public var rawValue: String
            public init(rawValue: String) { self.rawValue = rawValue }
            /// The workspace could not be used or created.
            public static let workspace = Code(rawValue: "workspace")
            /// The run's cgroup could not be created or attached.
            public static let cgroup = Code(rawValue: "cgroup")
            /// The launcher failed a setup step (the message names it).
            public static let launch = Code(rawValue: "launch")
            /// The executable could not be found or executed in the sandbox.
            public static let exec = Code(rawValue: "exec")
            /// The spec or policy asks for something this host cannot give.
            public static let configuration = Code(rawValue: "configuration")
        }

        public var code: Code
        public var message: String
        /// The errno of the failed step, when there is one (ENOENT for a missing command, ...).
        public var errno: Int32
        /// The process that was started for the run and has been killed and reaped, if any.
        public var pid: Int32?

        public init(_ code: Code, _ message: String, errno: Int32 = 0, pid: Int32? = nil) {
            self.code = code
            self.message = message
            self.errno = errno
            self.pid = pid
        }

        public var description: String { message }
    }
}
