import Foundation
import Specs
import Testing
import TestSupport
@testable import Supervisor

/// The state store and the configuration, in process (no daemon).
@Suite("supervisor state store and config")
struct StateStoreTests {
    static func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "warden-store-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("records, inputs (binary too) and deployments round-trip through the files")
    func roundTrip() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try StateStore(directory: dir + "/state")
        var run = RunRecord(id: "r1", agent: "a", createdNanos: 5, deadlineSeconds: 1.5)
        let input: [UInt8] = [0, 1, 2, 255, 254, 10, 65]
        try store.saveAccepted(run, input: input)
        var loaded = store.loadRuns()
        #expect(loaded.runs.count == 1)
        #expect(loaded.runs.first?.record == run)
        #expect(loaded.runs.first?.input == input)
        run.state = .failed
        run.exitCode = -1
        run.exitStatus = 1
        run.message = "line\nwith \"quotes\""
        try store.saveRun(run)
        loaded = store.loadRuns()
        #expect(loaded.runs.first?.record == run)
        #expect(loaded.runs.first?.input == nil, "the input is gone once the run has a final record")
        let deployments = [DeploymentRecord(name: "a", specPath: "/x/a.json", concurrency: 2, queueLimit: 0)]
        try store.saveAgents(deployments)
        #expect(try store.loadAgents() == deployments)
    }

    @Test("base64 round-trips every length and byte (inputs in records, binary output in answers)", arguments: [0, 1, 2, 3, 4, 5, 255, 4096])
    func base64(length: Int) {
        let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let encoded = Base64Text.encode(bytes)
        #expect(encoded == Data(bytes).base64EncodedString())
        #expect(Base64Text.decode(encoded) == bytes)
    }

    @Test("a crash's leftovers (temporary files) are removed at open; torn records are skipped and reported")
    func leftovers() throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let store = try StateStore(directory: dir + "/state")
        try store.saveRun(RunRecord(id: "good", agent: "a", createdNanos: 1))
        try Data("{\"id\": \"half".utf8).write(to: URL(fileURLWithPath: dir + "/state/runs/good.json.tmp-1-2"))
        try Data("{\"id\": \"torn".utf8).write(to: URL(fileURLWithPath: dir + "/state/runs/torn.json"))
        let reopened = try StateStore(directory: dir + "/state")
        #expect(!FileManager.default.fileExists(atPath: dir + "/state/runs/good.json.tmp-1-2"))
        let loaded = reopened.loadRuns()
        #expect(loaded.runs.map(\.record.id) == ["good"])
        #expect(loaded.unreadable == [dir + "/state/runs/torn.json"])
    }

    @Test("replacing a file is atomic: readers see the old or the new content, never a mix")
    func atomicReplace() async throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/file"
        let old = [UInt8](repeating: 0x61, count: 200_000), new = [UInt8](repeating: 0x62, count: 300_000)
        try StateStore.replace(path, with: old)
        let reader = Task.detached {
            var seen = 0
            for _ in 0..<200 {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                guard data == Data(old) || data == Data(new) else { return -1 }
                seen += 1
            }
            return seen
        }
        for i in 0..<50 { try StateStore.replace(path, with: i % 2 == 0 ? new : old) }
        #expect(try await reader.value == 200)
    }

    @Test("the configuration is strict: unknown keys, wrong types and relative paths name file:line:column", arguments: [
        ("{\"sokcet\": \"/x\"}", "did you mean"),
        ("{\"concurrency\": 0}", "$.concurrency"),
        ("{\"socket\": \"rel.sock\"}", "absolute"),
        ("{\"graceSeconds\": -1}", "$.graceSeconds"),
        ("{\"queueLimit\": \"many\"}", "$.queueLimit"),
    ])
    func strictConfig(text: String, mentions: String) throws {
        let dir = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/config.json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        do {
            _ = try SupervisorConfig.load(path: path)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == .configuration)
            #expect(error.message.hasPrefix(path + ":1:"), "\(error.message)")
            #expect(error.message.contains(mentions), "\(error.message)")
        }
    }

    @Test("the example configuration next to the systemd unit loads")
    func exampleConfig() throws {
        let path = WardenTool.packageRoot.appendingPathComponent("Scripts/warden-serve.example.json").path
        let config = try SupervisorConfig.load(path: path)
        #expect(config.agentsDirectory == "/etc/warden/agents")
        #expect(config.graceSeconds == 30)
    }

    @Test("defaults: the socket and state paths for root and for users")
    func defaults() {
        let root = SupervisorConfig(environment: [:], isRoot: true)
        #expect(root.socketPath == "/run/warden/warden.sock")
        #expect(root.stateDirectory == "/var/lib/warden/state")
        #expect(root.traceDirectory == "/var/lib/warden/traces")
        let user = SupervisorConfig(environment: ["XDG_RUNTIME_DIR": "/run/user/1000", "HOME": "/home/u"], isRoot: false)
        #expect(user.socketPath == "/run/user/1000/warden.sock")
        #expect(user.stateDirectory == "/home/u/.local/state/warden/state")
        #expect(SupervisorConfig(environment: ["WARDEN_SOCKET": "/s"], isRoot: true).socketPath == "/s")
    }
}
