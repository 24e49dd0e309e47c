// SPDX-License-Identifier: Apache-2.0
import Glibc

extension LaunchPlan {
    /// Rejects a plan the launcher cannot run, naming the offending field, before anything starts.
    func validate() throws(LaunchError) {
        guard !executable.isEmpty else { throw .invalid("executable is empty") }
        guard !arguments.isEmpty else { throw .invalid("argv is empty (argv[0] is required)") }
        for (index, argument) in arguments.enumerated() where argument.utf8.contains(0) {
            throw .invalid("argv[\(index)] contains a NUL byte")
        }
        for (key, value) in environment {
            guard !key.isEmpty, !key.utf8.contains(UInt8(ascii: "=")), !key.utf8.contains(0), !value.utf8.contains(0) else {
                throw .invalid("environment variable \"\(key)\" has an empty name, '=' in its name, or a NUL byte")
            }
        }
        guard workingDirectory.hasPrefix("/") else { throw .invalid("working directory \(workingDirectory) is not absolute") }
        if let hostname, hostname.utf8.count > 64 || hostname.isEmpty {
            throw .invalid("hostname must be 1 to 64 bytes")
        }
        try validateMounts()
        try validateLimits()
        try validateDescriptors()
    }

    private func validateMounts() throws(LaunchError) {
        guard mounts.entries.count <= 64 else { throw .invalid("more than 64 mounts") }
        for (index, entry) in mounts.entries.enumerated() {
            let name = "mount[\(index)] \(entry.target)"
            try Self.checkSandboxPath(entry.target, name)
            switch entry {
            case .bind(let source, _, _, _):
                guard source.hasPrefix("/") else { throw .invalid("\(name): bind source \(source) is not absolute") }
                var info = stat()
                guard stat(source, &info) == 0 else {
                    throw LaunchError(step: .validation, errno: .current, detail: "\(name): bind source \(source)")
                }
            case .symlink(_, let destination):
                guard !destination.isEmpty, !destination.utf8.contains(0) else { throw .invalid("\(name): empty symlink destination") }
            case .tmpfs(_, _, let mode, _), .directory(_, let mode):
                guard mode <= 0o7777 else { throw .invalid("\(name): mode \(String(mode, radix: 8)) is not a permission mode") }
            case .proc, .dev:
                break
            }
        }
    }

    /// Absolute, no "." or ".." components, not the root itself, no NUL, below PATH_MAX.
    private static func checkSandboxPath(_ path: String, _ name: String) throws(LaunchError) {
        guard path.hasPrefix("/"), path.utf8.count < 4000, !path.utf8.contains(0) else {
            throw .invalid("\(name): target must be an absolute path")
        }
        let components = path.split(separator: "/")
        guard !components.isEmpty else { throw .invalid("\(name): cannot mount over the root itself") }
        guard !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw .invalid("\(name): target may not contain '.' or '..'")
        }
    }

    private func validateLimits() throws(LaunchError) {
        for limit in resourceLimits where limit.soft > limit.hard {
            throw .invalid("rlimit \(limit.resource): soft limit \(limit.soft) exceeds hard limit \(limit.hard)")
        }
        if let seccomp {
            guard !seccomp.bpf.isEmpty, seccomp.bpf.count % 8 == 0, seccomp.bpf.count / 8 <= 4096 else {
                throw .invalid("seccomp filter must be 1 to 4096 eight-byte instructions, got \(seccomp.bpf.count) bytes")
            }
        }
        guard loopbackListenPorts.count <= 16 else { throw .invalid("more than 16 loopback listeners") }
        guard loopbackListenPorts.isEmpty || !shareHostNetwork else {
            throw .invalid("loopback listeners need the sandbox's own network namespace")
        }
    }

    private func validateDescriptors() throws(LaunchError) {
        guard descriptors.count <= 250 else { throw .invalid("more than 250 descriptors") }
        var seen: Set<Int32> = [0, 1, 2]
        for mapping in descriptors {
            guard mapping.child >= 3, mapping.child < 1 << 20 else {
                throw .invalid("descriptor \(mapping.child): child numbers start at 3 (0-2 are the stdio fields)")
            }
            guard seen.insert(mapping.child).inserted else { throw .invalid("descriptor \(mapping.child) is mapped twice") }
        }
    }
}
