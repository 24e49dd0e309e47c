import Foundation
import Testing
import TestSupport

@Suite("warden trace")
struct TraceCommandTests {
    /// Runs `warden trace ...` against `directory`.
    static func trace(_ directory: String, _ arguments: [String]) throws -> WardenTool.Result {
        var environment = ProcessInfo.processInfo.environment
        environment["WARDEN_TRACE_DIR"] = directory
        return try WardenTool.run(["trace"] + arguments, environment: environment)
    }

    @Test("ls lists runs; show prints the tree; show --json and ls --json are JSON")
    func listAndShow() throws {
        let directory = try TraceTools.makeTemporaryDirectory("cli-trace")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runs = try TraceTools.demoRuns(directory, count: 2)
        let ls = try Self.trace(directory, ["ls"])
        #expect(ls.status == 0)
        #expect(runs.allSatisfy { ls.stdout.contains($0) } && ls.stdout.contains("ok, 12 records"))
        let lsJSON = try JSONSerialization.jsonObject(with: Data(try Self.trace(directory, ["ls", "--json"]).stdout.utf8)) as? [[String: Any]]
        #expect(lsJSON?.count == 2)
        let show = try Self.trace(directory, ["show", runs[0]])
        #expect(show.status == 0)
        for expected in ["agent demo-agent", "process 4242 spawned", "DENIED syscall mkdir (nr 83)", "LIMIT pids",
                         "execute_tool fs.read", "guardrail secrets: verdict deny, action redacted", "run ended: ok"] {
            #expect(show.stdout.contains(expected), "show lacks '\(expected)':\n\(show.stdout)")
        }
        let json = try JSONSerialization.jsonObject(with: Data(try Self.trace(directory, ["show", runs[0], "--json"]).stdout.utf8)) as? [String: Any]
        #expect((json?["records"] as? [Any])?.count == 12)
    }

    @Test("verify passes a clean directory and exits 1 naming the first bad record after a flipped byte")
    func verifyTampering() throws {
        let directory = try TraceTools.makeTemporaryDirectory("cli-verify")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runs = try TraceTools.demoRuns(directory, count: 2)
        let clean = try Self.trace(directory, ["verify", "--all"])
        #expect(clean.status == 0 && clean.stdout.contains("ok: 2 runs"))
        let path = directory + "/" + runs[1] + ".trace"
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 30] ^= 0x01
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let bad = try Self.trace(directory, ["verify"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("BAD \(path)@") && bad.stdout.contains("(seq 11)") && bad.stdout.contains("checksum"))
        #expect(try Self.trace(directory, ["verify", runs[0]]).status == 0, "the other run still verifies on its own")
        #expect(try Self.trace(directory, ["verify", runs[1]]).status == 1)
    }

    @Test("export --otlp writes OTLP/JSON to a file")
    func exportOTLP() throws {
        let directory = try TraceTools.makeTemporaryDirectory("cli-export")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let runs = try TraceTools.demoRuns(directory)
        let output = directory + "/out.json"
        let result = try Self.trace(directory, ["export", runs[0], "--otlp", "-o", output])
        #expect(result.status == 0, "\(result.stderr)")
        let text = try String(contentsOfFile: output, encoding: .utf8)
        #expect(text.hasPrefix("{\"resourceSpans\":[") && text.contains("\"name\":\"invoke_agent demo-agent\""))
        #expect(try Self.trace(directory, ["export", runs[0]]).status == 2, "a format is required")
    }

    @Test("recover reports nothing to do on a clean directory; usage errors exit 2", arguments: [
        (["recover"], 0, "nothing to recover"),
        (["frob"], 2, "unknown trace command"),
        (["show"], 2, "needs a RUN"),
        (["show", "../etc"], 2, "invalid run id"),
        (["show", "20990101T000000Z-0000000000000001"], 1, "no trace for run"),
    ])
    func misc(arguments: [String], status: Int32, expected: String) throws {
        let directory = try TraceTools.makeTemporaryDirectory("cli-misc")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let result = try Self.trace(directory, arguments)
        #expect(result.status == status)
        #expect((result.stdout + result.stderr).contains(expected), "\(result.stdout)\(result.stderr)")
    }
}
