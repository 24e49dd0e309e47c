import Glibc
import Sandbox
import Specs

/// `warden policy check FILE [--json] [--emit-bpf OUT]`: validates a policy and shows what it compiles to.
enum PolicyCommand: WardenCommand {
    static let name = "policy"
    static let summary = "Checks a policy and shows what it compiles to."
    static let usage = """
        usage: warden policy check FILE [--json] [--emit-bpf OUT]

        Validates the policy FILE (unknown keys, types, limits, paths, syscall names) and prints
        what it compiles to: allowed syscalls, BPF instructions, audited syscalls, mounts, limits.
          --json          print the summary as JSON
          --emit-bpf OUT  also write the raw BPF program (struct sock_filter array) to OUT
        Exit status: 0 valid, 2 invalid (the error names file:line:column and the JSON path), 1 other failure.
        """

    static func run(_ arguments: [String]) -> Int32 {
        var cursor = ArgumentCursor(arguments)
        var file: String?
        var json = false
        var bpfOut: String?
        do {
            guard cursor.next() == "check" else { throw UsageError("expected 'check'") }
            while !cursor.isEmpty {
                if cursor.flag("--json") { json = true; continue }
                if let out = try cursor.value(for: "--emit-bpf") { bpfOut = out; continue }
                guard let argument = cursor.next(), !argument.hasPrefix("-") || argument == "-", file == nil else {
                    throw UsageError("unexpected argument '\(arguments.last ?? "")'")
                }
                file = argument
            }
            guard file != nil else { throw UsageError("missing the policy FILE") }
        } catch {
            printError("warden policy: \(error)\n\n\(usage)")
            return ExitCode.usage
        }
        return check(file ?? "", json: json, bpfOut: bpfOut)
    }

    static func check(_ file: String, json: Bool, bpfOut: String?) -> Int32 {
        let policy: Policy
        let program: SeccompProgram
        do {
            policy = try Policy.load(path: file)
        } catch {
            printError("warden policy: \(error)")
            return ExitCode.usage
        }
        do {
            program = try SeccompCompiler.compile(policy.seccomp)
        } catch {
            printError("warden policy: \(error)")
            return error.code == .policy ? ExitCode.usage : ExitCode.failure
        }
        if let bpfOut, let problem = writeFile(bpfOut, program.bpf) {
            printError("warden policy: cannot write \(bpfOut): \(problem)")
            return ExitCode.failure
        }
        let summary = PolicySummary(policy: policy, program: program)
        print(json ? JSONWriter.pretty(summary.json) : summary.text)
        return ExitCode.success
    }

    static func writeFile(_ path: String, _ bytes: [UInt8]) -> String? {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return String(cString: strerror(errno)) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return String(cString: strerror(errno)) }
            written += n
        }
        return nil
    }
}
