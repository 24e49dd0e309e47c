import Testing
import TestSupport

@Suite("warden top level")
struct VersionTests {
    @Test("--version prints the version and exits 0")
    func version() throws {
        let result = try WardenTool.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout.hasPrefix("warden "))
    }

    @Test("an unknown command is a usage error (exit 2) that names it")
    func unknownCommand() throws {
        let result = try WardenTool.run(["frobnicate"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("frobnicate"))
    }
}
