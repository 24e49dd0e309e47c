import Foundation
import Specs
import Testing
@testable import TraceStore

@Suite("recorder and host index")
struct RecorderTests {
    @Test("runs chain through the host index: open record -> run.start, close record holds the final hash")
    func hostChain() throws {
        let fixture = try TraceFixture("chain")
        defer { fixture.remove() }
        let first = try fixture.run(), second = try fixture.run()
        let index = try HostIndex(directory: fixture.directory).scan()
        #expect(index.problem == nil)
        #expect(index.records.map(\.record.type) == [.indexOpen, .indexClose, .indexOpen, .indexClose])
        for (n, runID) in [first, second].enumerated() {
            let run = try fixture.directory.readRun(runID)
            #expect(run.records.first?.record.prev == index.records[2 * n].hash)
            #expect(index.records[2 * n + 1].record.body.string("final_sha256") == run.records.last?.hash.hex)
            #expect(run.records.last?.record.type == .runEnd)
        }
        let report = try fixture.verify()
        #expect(report.ok, "\(report.problems)")
        #expect(report.runsChecked == 2)
        #expect(report.hostHead == index.records.last?.hash)
    }

    @Test("output past the per-run bound is dropped and counted in output.dropped")
    func outputBound() throws {
        let fixture = try TraceFixture("output")
        defer { fixture.remove() }
        let recorder = try TraceRecorder.start(TraceFixture.start(), directory: fixture.directory,
                                               configuration: RecorderConfiguration(outputLimitBytes: 100, chunkBytes: 30))
        let span = try recorder.processSpawned(ProcessSpawn(pid: 1, executable: "/bin/x", argv: []))
        try recorder.output(.stdout, [UInt8](repeating: 0x61, count: 70), span: span)
        try recorder.output(.stderr, [UInt8](repeating: 0xFE, count: 70), span: span)
        try recorder.finish(RunEnd(status: "ok", exitCode: 0))
        let records = try fixture.directory.readRun(recorder.runID).records.map(\.record)
        let chunks = records.filter { $0.type == .outputChunk }
        #expect(chunks.map { $0.body.uint("length") ?? 0 }.reduce(0, +) == 100)
        #expect(chunks.allSatisfy { ($0.body.uint("length") ?? 99) <= 30 })
        #expect(chunks.contains { $0.body["base64"] != nil })
        let dropped = records.filter { $0.type == .outputDropped }
        #expect(dropped.count == 1)
        #expect(dropped.first?.body.string("stream") == "stderr")
        #expect(dropped.first?.body.uint("dropped_bytes") == 40)
    }

    @Test("run.start carries spec and policy with hashes, host and version; spans nest run > process")
    func runStartAndSpans() throws {
        let fixture = try TraceFixture("start")
        defer { fixture.remove() }
        let runID = try fixture.run()
        let records = try fixture.directory.readRun(runID).records.map(\.record)
        let start = try #require(records.first)
        #expect(start.type == .runStart && start.parent == nil)
        for key in ["spec", "spec_sha256", "policy", "policy_sha256", "host", "warden_version", "trace_id"] {
            #expect(start.body[key] != nil, "run.start lacks \(key)")
        }
        let spawn = try #require(records.first { $0.type == .processSpawn })
        #expect(spawn.parent == start.span)
        let denial = try #require(records.first { $0.type == .seccompDenial })
        #expect(denial.span == spawn.span && denial.body.string("syscall") == "mkdir")
    }

    @Test("a second finish is refused")
    func finishTwice() throws {
        let fixture = try TraceFixture("twice")
        defer { fixture.remove() }
        let recorder = try TraceRecorder.start(TraceFixture.start(), directory: fixture.directory)
        try recorder.finish(RunEnd(status: "ok", exitCode: 0))
        #expect(throws: TraceError.self) { try recorder.finish(RunEnd(status: "ok", exitCode: 0)) }
    }

    @Test("trace directory resolution order", arguments: [
        (["WARDEN_TRACE_DIR": "/x/t", "XDG_STATE_HOME": "/s"], true, "/x/t"),
        (["XDG_STATE_HOME": "/s"], true, "/var/lib/warden/traces"),
        (["XDG_STATE_HOME": "/s", "HOME": "/h"], false, "/s/warden/traces"),
        (["HOME": "/h"], false, "/h/.local/state/warden/traces"),
    ])
    func directoryResolution(environment: [String: String], root: Bool, expected: String) {
        #expect(TraceDirectory.resolve(environment: environment, isRoot: root).path == expected)
    }
}
