import Foundation
import Glibc
import HostOS
import Testing
import TestSupport
@testable import Sandbox

/// Fresh host workspaces (for runs whose broker has fs tools): made private and owned by the
/// agent, written by a real sandboxed agent, removed without ever following what it planted.
@Suite("temporary host workspaces", .serialized, .enabled(if: getuid() == 0, "sandboxes need root here"))
struct RunWorkspaceTemporaryTests {
    static func status(_ path: String) -> stat? {
        var info = stat()
        return lstat(path, &info) == 0 ? info : nil
    }

    @Test("made 0700 under a parent created 0700, owned by the agent's host ids; removed entirely")
    func madeAndRemoved() throws {
        let scratch = try SandboxScratch.directory("host-ws")
        defer { SandboxScratch.remove(scratch) }
        let parent = scratch.path + "/missing/workspaces"
        let owner = SandboxIdentity(insideUID: 1000, insideGID: 1000, hostUID: 65533, hostGID: 65532)
        let workspace = try RunWorkspace.temporaryHost(owner: owner, parent: parent)
        #expect(workspace.isTemporary)
        #expect(workspace.path.hasPrefix(parent + "/run-"))
        let made = try #require(Self.status(workspace.path))
        #expect(made.st_mode & S_IFMT == S_IFDIR)
        #expect(made.st_mode & 0o7777 == 0o700)
        #expect(made.st_uid == 65533 && made.st_gid == 65532)
        for created in [scratch.path + "/missing", parent] {
            #expect(Self.status(created).map { $0.st_mode & 0o7777 } == 0o700, "\(created)")
        }
        try workspace.remove()
        #expect(Self.status(workspace.path) == nil)
        #expect(Self.status(parent) != nil)
    }

    @Test("a directory the user gave is never removed")
    func existingIsKept() throws {
        let scratch = try SandboxScratch.directory("host-ws")
        defer { SandboxScratch.remove(scratch) }
        let given = try RunWorkspace.existing(scratch.path)
        #expect(throws: SandboxRun.Error.self) { try given.remove() }
        #expect(Self.status(scratch.path) != nil)
    }

    @Test("what a real agent leaves (symlinks out, unreadable directories, a FIFO) goes; what the links point at stays")
    func plantedLinksNotFollowed() throws {
        let scratch = try SandboxScratch.directory("host-ws")
        defer { SandboxScratch.remove(scratch) }
        let outsideFile = scratch.path + "/precious.txt"
        let outsideDirectory = scratch.path + "/precious-dir"
        try FileManager.default.createDirectory(atPath: outsideDirectory, withIntermediateDirectories: false)
        try "keep me".write(toFile: outsideFile, atomically: false, encoding: .utf8)
        try "keep me too".write(toFile: outsideDirectory + "/inner.txt", atomically: false, encoding: .utf8)
        let workspace = try RunWorkspace.temporaryHost(owner: .nobody, parent: scratch.path + "/workspaces")
        // The agent runs as nobody and plants links to host paths it cannot even see: only the
        // host-side removal could resolve them, so only a removal that follows links would hurt.
        let script = """
            set -e
            echo data > /workspace/file.txt
            ln -s "$FILE" /workspace/link-file
            ln -s "$DIR" /workspace/link-dir
            mkdir -p /workspace/a/b/c && echo deep > /workspace/a/b/c/deep.txt
            ln -s "$DIR" /workspace/a/b/c/link-dir
            ln -s .. /workspace/a/up
            ln -s "$DIR/inner.txt" /workspace/a/b/link-inner
            mkdir /workspace/locked && echo hidden > /workspace/locked/x && chmod 000 /workspace/locked
            mkfifo /workspace/fifo
            echo ok
            """
        var request = SandboxRun.Request(arguments: ["/bin/sh", "-c", script])
        request.environment["FILE"] = outsideFile
        request.environment["DIR"] = outsideDirectory
        request.workspace = workspace.path
        request.cgroupLimits = .init(memoryBytes: 128 << 20, pids: 32, cpuCores: 1)
        let result = try SandboxRun.execute(request, settings: .init(stdout: .capture, stderr: .capture))
        #expect(result.report.exitCode == 0, "\(String(decoding: result.stderr, as: UTF8.self))")
        #expect(Self.status(workspace.path + "/file.txt")?.st_uid == 65534)
        #expect(Self.status(workspace.path + "/link-dir").map { $0.st_mode & S_IFMT } == S_IFLNK)
        try workspace.remove()
        #expect(Self.status(workspace.path) == nil)
        #expect(try String(contentsOfFile: outsideFile, encoding: .utf8) == "keep me")
        #expect(try String(contentsOfFile: outsideDirectory + "/inner.txt", encoding: .utf8) == "keep me too")
    }

    @Test("a tree deeper than PATH_MAX is removed with one descriptor per step", arguments: [3000])
    func deepTree(depth: Int) throws {
        let scratch = try SandboxScratch.directory("host-ws")
        defer { SandboxScratch.remove(scratch) }
        let workspace = try RunWorkspace.temporaryHost(owner: .nobody, parent: scratch.path)
        var current = try FileDescriptor.open(workspace.path, .readOnly, options: [.directory])
        for level in 0..<depth {
            try current.makeDirectory(entry: "d")
            if level % 500 == 0 {
                let file = try current.open(beneath: "f", .writeOnly, options: [.create], permissions: 0o600)
                try file.close()
            }
            let next = try current.open(beneath: "d", .readOnly, options: [.directory])
            try current.close()
            current = next
        }
        try current.close()
        try workspace.remove()
        #expect(Self.status(workspace.path) == nil)
    }
}
