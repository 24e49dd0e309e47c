import Glibc
import Specs

extension Supervisor {
    /// Refuses a spec whose sandbox would see the control socket: a policy bind (or the agent's code
    /// directory, mounted at /agent) whose host source is the socket's directory or one above it would
    /// put the socket, and with it deploy/invoke/stop of every agent, inside the sandbox. Checked at
    /// deploy and again when a deployment is reloaded after a restart (the files may have changed).
    func checkSocketHidden(_ spec: AgentSpec) throws(SupervisorError) {
        let socketDirectory = Self.resolved(String(config.socketPath.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")))
        let sources = spec.policy.filesystem.binds.map { ($0.source, "the policy's bind of \($0.source)") }
            + (spec.codeDirectory.map { [($0, "the agent's code directory \($0)")] } ?? [])
        for (source, what) in sources {
            let host = Self.resolved(source)
            if socketDirectory == host || socketDirectory.hasPrefix(host == "/" ? "/" : host + "/") {
                throw SupervisorError(.invalidSpec, """
                    \(spec.file): \(what) would show the supervisor's control socket \(config.socketPath) inside \
                    the sandbox; move the socket (--socket, "socket" in the config) or narrow the bind
                    """)
            }
        }
    }

    /// `path` with symlinks resolved where it exists (as given otherwise), for prefix comparison.
    static func resolved(_ path: String) -> String {
        guard let real = realpath(path.isEmpty ? "/" : path, nil) else { return path.isEmpty ? "/" : path }
        defer { free(real) }
        return String(cString: real)
    }
}
