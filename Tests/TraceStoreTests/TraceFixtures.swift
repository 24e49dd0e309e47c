import Foundation
import Specs
import TestSupport
@testable import TraceStore

/// Builds runs in a scratch directory and edits their files for the tamper, recovery and fuzz tests.
struct TraceFixture {
    let directory: TraceDirectory

    init(_ label: String) throws {
        directory = TraceDirectory(path: try TraceTools.makeTemporaryDirectory(label))
    }

    static func start(_ runID: String = RunID.make(), agent: String = "test-agent") -> RunStart {
        RunStart(runID: runID, agentName: agent, spec: .object(JSONObject([("name", .string(agent))])),
                 specSHA256: String(repeating: "1", count: 64), policy: .object(JSONObject([("default", .string("deny"))])),
                 policySHA256: String(repeating: "2", count: 64), hostname: "test-host", kernel: "6.18", wardenVersion: "0.1.0")
    }

    /// A finished run with a process, output, a denial and `extra` plain records; returns its id.
    @discardableResult
    func run(extra: Int = 5, configuration: RecorderConfiguration = RecorderConfiguration()) throws -> String {
        let recorder = try TraceRecorder.start(Self.start(), directory: directory, configuration: configuration)
        let process = try recorder.processSpawned(ProcessSpawn(pid: 100, executable: "/bin/true", argv: ["/bin/true"]))
        try recorder.output(.stdout, Array("hello\n".utf8), span: process)
        try recorder.seccompDenied(SeccompDenial(pid: 100, syscall: "mkdir", number: 83, arguments: [1, 2], errno: 1), span: process)
        for i in 0..<extra {
            try recorder.append("test.record", span: process, parent: recorder.runSpan, body: JSONObject([("i", .number(JSONNumber(i)))]))
        }
        try recorder.processExited(ProcessExit(pid: 100, exitCode: 0, signal: nil), span: process)
        try recorder.finish(RunEnd(status: "ok", exitCode: 0))
        return recorder.runID
    }

    func path(_ runID: String) -> String { directory.runPath(runID) }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    func write(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    /// The frames of a file: (offset, length) of each.
    func frames(_ path: String) throws -> [(offset: Int, length: Int)] {
        try TraceReader.scan(path: path).records.map { (Int($0.offset), $0.frameLength) }
    }

    func verify(_ runID: String? = nil) throws -> VerifyReport { try TraceVerifier.verify(directory: directory, runID: runID) }

    func remove() { try? FileManager.default.removeItem(atPath: directory.path) }
}
