import Foundation
import Glibc
import Testing
@testable import Sandbox
import Specs

/// The prepared-policy cache behind `warden exec`: a hit must give exactly what a full load gives,
/// and anything the full load would judge differently now must be a miss.
@Suite("Prepared policy cache")
struct PreparedPolicyTests {
    static let shipped = ["default", "strict"]

    func scratch() throws -> String { try SeccompTestSupport.temporaryDirectory() }

    /// The file the cache writes for the policy at `path` in `directory`.
    func entry(for path: String, in directory: String) throws -> String {
        let bytes = try #require(PolicyBytes.read(path))
        return PolicyKey(policyBytes: bytes).path(in: directory)
    }

    /// Writes `text` as a policy file in `directory`.
    func write(_ text: String, in directory: String, name: String = "policy.json") throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// The shipped default policy with one extra bind of `source` (optional or not).
    func policyText(binding source: String, optional: Bool) throws -> String {
        let text = try String(contentsOfFile: SeccompTestSupport.root.appendingPathComponent("Policies/default.json").path, encoding: .utf8)
        let bind = "{\"source\": \"\(source)\", \"target\": \"/extra\", \"optional\": \(optional)},\n      "
        return text.replacingOccurrences(of: "{\"source\": \"/usr\"", with: bind + "{\"source\": \"/usr\"")
    }

    @Test("miss stores, hit returns the full load's result; requests are equal", arguments: shipped)
    func hitEqualsFullLoad(name: String) throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = SeccompTestSupport.root.appendingPathComponent("Policies/\(name).json").path
        let first = try PreparedPolicy.load(path: path, directory: directory)
        #expect(first.outcome == .loaded(stored: true))
        let second = try PreparedPolicy.load(path: path, directory: directory)
        #expect(second.outcome == .hit)
        let policy = try Policy.load(path: path)
        let expected = PreparedPolicy(policy, program: try SeccompCompiler.compile(policy.seccomp))
        #expect(first.policy == expected && second.policy == expected)
        let fresh = try SandboxRun.Request.command(["/bin/true"], policy: policy, workspace: nil)
        let fast = try SandboxRun.Request.command(["/bin/true"], prepared: second.policy, workspace: nil)
        #expect(fast.mounts == fresh.mounts && fast.workingDirectory == fresh.workingDirectory)
        #expect(fast.workspaceTarget == fresh.workspaceTarget && fast.resourceLimits == fresh.resourceLimits)
        #expect(fast.cgroupLimits == fresh.cgroupLimits && fast.timeoutNanos == fresh.timeoutNanos)
        #expect(fast.seccomp == fresh.seccomp && fast.auditedSyscalls == fresh.auditedSyscalls)
        var info = stat()
        let file = try entry(for: path, in: directory)
        #expect(stat(file, &info) == 0 && info.st_mode & 0o777 == 0o600 && info.st_uid == geteuid())
    }

    @Test("an optional bind source that appears or vanishes makes the entry a miss")
    func optionalSourceChanges() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/maybe"
        let path = try write(try policyText(binding: source, optional: true), in: directory)
        let absent = try PreparedPolicy.load(path: path, directory: directory)
        #expect(!absent.policy.binds.contains { $0.source == source })
        #expect(try PreparedPolicy.load(path: path, directory: directory).outcome == .hit)
        #expect(mkdir(source, 0o755) == 0)
        let present = try PreparedPolicy.load(path: path, directory: directory)
        #expect(present.outcome == .loaded(stored: true))
        #expect(present.policy.binds.contains { $0.source == source && $0.target == "/extra" })
        #expect(try PreparedPolicy.load(path: path, directory: directory).outcome == .hit)
        #expect(rmdir(source) == 0)
        let gone = try PreparedPolicy.load(path: path, directory: directory)
        #expect(gone.outcome == .loaded(stored: true) && !gone.policy.binds.contains { $0.source == source })
    }

    @Test("a required bind source removed after a hit gets the full load's precise error")
    func requiredSourceRemoved() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let source = directory + "/needed"
        #expect(mkdir(source, 0o755) == 0)
        let path = try write(try policyText(binding: source, optional: false), in: directory)
        _ = try PreparedPolicy.load(path: path, directory: directory)
        #expect(try PreparedPolicy.load(path: path, directory: directory).outcome == .hit)
        #expect(rmdir(source) == 0)
        #expect {
            _ = try PreparedPolicy.load(path: path, directory: directory)
        } throws: { error in
            guard case .policy(let spec) = error as? SeccompCache.PreparedError else { return false }
            return "\(spec)".contains("does not exist on this host") && "\(spec)".contains(path)
        }
    }

    @Test("an invalid policy is reported exactly as Policy.load reports it, and nothing is stored")
    func invalidPolicy() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = try write("{\"name\": \"x\", \"filesystem\": {}, \"network\": \"none\", \"limits\": {}, \"seccomp\": {}, \"bogus\": 1}", in: directory)
        var expected = ""
        do { _ = try Policy.load(path: path) } catch { expected = "\(error)" }
        #expect(!expected.isEmpty)
        #expect {
            _ = try PreparedPolicy.load(path: path, directory: directory)
        } throws: { error in "\(error)" == expected }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".policy") }
        #expect(names.isEmpty)
    }

    @Test("corrupt, foreign or unsafe entries are never used", arguments: ["flip", "truncate", "other-key", "mode"])
    func badEntries(kind: String) throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = SeccompTestSupport.root.appendingPathComponent("Policies/default.json").path
        let good = try PreparedPolicy.load(path: path, directory: directory).policy
        let file = try entry(for: path, in: directory)
        switch kind {
        case "flip", "truncate":
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            if kind == "flip" { bytes[bytes.count / 2] ^= 0x01 } else { bytes = Array(bytes.prefix(bytes.count / 2)) }
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            chmod(file, 0o600)
        case "other-key":
            let strict = SeccompTestSupport.root.appendingPathComponent("Policies/strict.json").path
            _ = try PreparedPolicy.load(path: strict, directory: directory)
            #expect(rename(try entry(for: strict, in: directory), file) == 0)
        default:
            #expect(chmod(file, 0o666) == 0)
        }
        let again = try PreparedPolicy.load(path: path, directory: directory)
        #expect(again.outcome == .loaded(stored: true) && again.policy == good)
        #expect(try PreparedPolicy.load(path: path, directory: directory).outcome == .hit)
    }

    @Test("a directory writable by others is not used; the policy still loads")
    func unsafeDirectory() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(chmod(directory, 0o777) == 0)
        let path = SeccompTestSupport.root.appendingPathComponent("Policies/default.json").path
        #expect(try PreparedPolicy.load(path: path, directory: directory).outcome == .loaded(stored: false))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty)
    }
}
