import Foundation
import Glibc
import Testing
@testable import Sandbox
import Specs

@Suite("Seccomp filter cache")
struct SeccompCacheTests {
    func setup() throws -> (SeccompProfile, String, String) {
        let profile = try SeccompTestSupport.policy("default").seccomp
        let directory = try SeccompTestSupport.temporaryDirectory()
        let file = SeccompCache.path(for: SeccompCache.key(for: profile), in: directory)
        return (profile, directory, file)
    }

    @Test("miss stores, hit returns the identical program")
    func hitAndMiss() throws {
        let (profile, directory, file) = try setup()
        let first = try SeccompCompiler.compileCached(profile, directory: directory)
        #expect(first.outcome == .compiled(stored: true))
        let second = try SeccompCompiler.compileCached(profile, directory: directory)
        #expect(second.outcome == .hit && second.program == first.program)
        #expect(second.program == (try SeccompCompiler.compile(profile)))
        var info = stat()
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o600 && info.st_uid == geteuid())
        let names = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(names.count == 1, "no temporary files left behind: \(names)")
    }

    @Test("a missing directory is created private (0700)")
    func createsDirectory() throws {
        let (profile, directory, _) = try setup()
        let nested = directory + "/a/b/seccomp"
        #expect(try SeccompCompiler.compileCached(profile, directory: nested).outcome == .compiled(stored: true))
        var info = stat()
        #expect(stat(nested, &info) == 0 && info.st_mode & 0o777 == 0o700)
    }

    @Test("truncated or corrupted files are recompiled and rewritten", arguments: ["truncate", "flip", "empty", "garbage"])
    func corruption(kind: String) throws {
        let (profile, directory, file) = try setup()
        let good = try SeccompCompiler.compileCached(profile, directory: directory).program
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        switch kind {
        case "truncate": bytes = Array(bytes.prefix(bytes.count / 2))
        case "flip": bytes[bytes.count / 2] ^= 0x01
        case "empty": bytes = []
        default: bytes = Array(repeating: 0x41, count: 4096)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        chmod(file, 0o600)
        let again = try SeccompCompiler.compileCached(profile, directory: directory)
        #expect(again.outcome == .compiled(stored: true) && again.program == good)
        #expect(try SeccompCompiler.compileCached(profile, directory: directory).outcome == .hit)
    }

    @Test("a file for another key at this key's path is never used (hash collision)")
    func collision() throws {
        let (profile, directory, file) = try setup()
        let strict = try SeccompTestSupport.policy("strict").seccomp
        _ = try SeccompCompiler.compileCached(strict, directory: directory)
        let strictFile = SeccompCache.path(for: SeccompCache.key(for: strict), in: directory)
        #expect(rename(strictFile, file) == 0)
        let result = try SeccompCompiler.compileCached(profile, directory: directory)
        #expect(result.outcome == .compiled(stored: true))
        #expect(result.program == (try SeccompCompiler.compile(profile)))
    }

    @Test("files writable by others are ignored")
    func wrongMode() throws {
        let (profile, directory, file) = try setup()
        _ = try SeccompCompiler.compileCached(profile, directory: directory)
        #expect(chmod(file, 0o666) == 0)
        #expect(try SeccompCompiler.compileCached(profile, directory: directory).outcome == .compiled(stored: true))
    }

    @Test("files owned by another user are ignored", .enabled(if: geteuid() == 0, "needs root to chown"))
    func wrongOwner() throws {
        let (profile, directory, file) = try setup()
        _ = try SeccompCompiler.compileCached(profile, directory: directory)
        #expect(chown(file, 65534, 65534) == 0)
        #expect(try SeccompCompiler.compileCached(profile, directory: directory).outcome == .compiled(stored: true))
    }

    @Test("a directory writable by others or a symlinked file bypasses the cache")
    func unsafeDirectory() throws {
        let (profile, directory, file) = try setup()
        #expect(chmod(directory, 0o777) == 0)
        let result = try SeccompCompiler.compileCached(profile, directory: directory)
        guard case .bypassed(let reason) = result.outcome else { Issue.record("expected bypass, got \(result.outcome)"); return }
        #expect(reason.contains("writable by group or others"))
        #expect(chmod(directory, 0o700) == 0)
        _ = try SeccompCompiler.compileCached(profile, directory: directory)
        #expect(rename(file, file + ".real") == 0 && symlink(file + ".real", file) == 0)
        #expect(try SeccompCompiler.compileCached(profile, directory: directory).outcome != .hit)
    }
}
