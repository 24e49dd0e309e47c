import Foundation
import Testing
import TestSupport

/// `warden trace ls/show/verify/export` through the daemon (`--socket`, or `$WARDEN_SOCKET` with a
/// daemon answering) print exactly what they print reading the trace directory's files.
@Suite("warden trace through the supervisor", .serialized, .enabled(if: getuid() == 0, "sandboxes need root here (cgroups, uid mapping)"))
struct SupervisorTraceCLITests {
    /// The environment for the files path, the `--socket` path and the `$WARDEN_SOCKET` path. The
    /// daemon paths get an empty trace directory of their own: what they print can only come from the daemon.
    static func environments(_ daemon: TestDaemon) throws -> (files: [String: String], socket: [String: String], variable: [String: String]) {
        var files = daemon.environment
        files["WARDEN_SOCKET"] = nil
        var socket = files
        socket["WARDEN_TRACE_DIR"] = daemon.directory.appendingPathComponent("elsewhere").path
        var variable = socket
        variable["WARDEN_SOCKET"] = daemon.socketPath
        return (files, socket, variable)
    }

    /// Runs `arguments` the three ways; expects the same stdout, stderr and exit status; returns the files path's result.
    @discardableResult
    static func same(_ arguments: [String], _ daemon: TestDaemon) throws -> WardenTool.Result {
        let env = try environments(daemon)
        let files = try WardenTool.run(arguments, environment: env.files)
        let socket = try WardenTool.run(arguments + ["--socket", daemon.socketPath], environment: env.socket)
        let variable = try WardenTool.run(arguments, environment: env.variable)
        for (how, result) in [("--socket", socket), ("$WARDEN_SOCKET", variable)] {
            #expect(result.stdout == files.stdout, "\(arguments) via \(how): stdout differs:\n\(result.stdout)\n---\n\(files.stdout)")
            #expect(result.stderr == files.stderr, "\(arguments) via \(how): stderr differs:\n\(result.stderr)\n---\n\(files.stderr)")
            #expect(result.status == files.status, "\(arguments) via \(how): exit \(result.status) vs \(files.status)")
        }
        return files
    }

    @Test("ls, show, verify, export: the same output from the files and through the daemon, damage and errors included")
    func sameOutput() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        #expect(try Self.same(["trace", "ls"], daemon).stdout == "no runs in \(daemon.traceDirectory)\n")
        let spec = try TestAgents.spec(in: daemon.directory, name: "tracer", script: "cat; echo out; echo err >&2; exit 3")
        #expect(try daemon.deploy(spec).status == 201)
        var ids: [String] = []
        for input in ["first", "second"] {
            let answer = try daemon.json("POST", "/v1/agents/tracer/invocations?wait=true", body: Data(input.utf8)).object
            ids.append(try #require((answer["run"] as? [String: Any])?["id"] as? String))
        }
        let listed = try Self.same(["trace", "ls"], daemon)
        #expect(ids.allSatisfy { listed.stdout.contains($0) } && listed.stdout.contains("failed, "), "\(listed.stdout)")
        try Self.same(["trace", "ls", "--json"], daemon)
        for id in ids {
            #expect(try Self.same(["trace", "show", id], daemon).stdout.contains("agent tracer  failed (exit 3)"))
            try Self.same(["trace", "show", id, "--json"], daemon)
            #expect(try Self.same(["trace", "verify", id], daemon).status == 0)
            #expect(try Self.same(["trace", "export", id, "--otlp"], daemon).stdout.contains("resourceSpans"))
        }
        #expect(try Self.same(["trace", "verify"], daemon).stdout.hasPrefix("ok: 2 runs"))
        // Errors: an unknown run, an invalid id, a missing argument.
        #expect(try Self.same(["trace", "show", "no-such-run"], daemon).status == 1)
        #expect(try Self.same(["trace", "export", "..", "--otlp"], daemon).status == 2)
        #expect(try Self.same(["trace", "verify", "no-such-run"], daemon).status == 1)
        #expect(try Self.same(["trace", "show"], daemon).status == 2)
        // Damage: bytes appended to a closed run's file.
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: daemon.traceDirectory + "/\(ids[1]).trace"))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("garbage after the end".utf8))
        try handle.close()
        let verify = try Self.same(["trace", "verify"], daemon)
        #expect(verify.status == 1 && verify.stdout.contains("BAD ") && verify.stdout.contains("FAILED: 2 runs"), "\(verify.stdout)")
        #expect(try Self.same(["trace", "show", ids[1]], daemon).stderr.contains("WARNING: the trace is damaged"))
        #expect(try Self.same(["trace", "export", ids[1], "--otlp"], daemon).stderr.contains("refusing to export a damaged trace"))
    }

    @Test("without a daemon: $WARDEN_SOCKET with nobody answering falls back to the files; --socket fails; recover refuses --socket")
    func withoutDaemon() throws {
        let daemon = try TestDaemon()
        defer { daemon.cleanUp() }
        try daemon.start()
        let spec = try TestAgents.spec(in: daemon.directory, name: "quick", script: "echo hi")
        #expect(try daemon.deploy(spec).status == 201)
        _ = try daemon.json("POST", "/v1/agents/quick/invocations?wait=true", body: Data())
        let env = try Self.environments(daemon)
        let before = try WardenTool.run(["trace", "ls"], environment: env.files)
        #expect(before.status == 0 && before.stdout.contains("ok, "), "\(before.stdout)\(before.stderr)")
        #expect(daemon.stop() == 0)
        let fallback = try WardenTool.run(["trace", "ls"], environment: daemon.environment)
        #expect(fallback.stdout == before.stdout && fallback.status == 0, "\(fallback.stdout)\(fallback.stderr)")
        let refused = try WardenTool.run(["trace", "ls", "--socket", daemon.socketPath], environment: env.files)
        #expect(refused.status == 1 && refused.stderr.contains("no supervisor answers on \(daemon.socketPath)"), "\(refused.stderr)")
        let recover = try WardenTool.run(["trace", "recover", "--socket", daemon.socketPath], environment: env.files)
        #expect(recover.status == 2 && recover.stderr.contains("recover works on the trace files"), "\(recover.stderr)")
    }
}
