import Foundation
import Testing
import TestSupport

/// GPUBench on a machine without a usable GPU (every CI machine, and this project's build machine):
/// its argument checks, the reason it gives, the exit status Scripts/gpu-check relies on, and the
/// JSON it leaves in --out. On a GPU machine the no-GPU test is skipped (Scripts/gpu-check runs it there).
@Suite("GPUBench: arguments, no-GPU exit and output file")
struct GPUBenchCommandTests {
    static var binary: String { WardenTool.packageRoot.appendingPathComponent(".build/debug/GPUBench").path }
    static var hostHasGPU: Bool { FileManager.default.fileExists(atPath: "/dev/nvidiactl") }

    static func run(_ arguments: [String]) throws -> WardenTool.Result {
        try WardenTool.runProcess(binary, arguments, timeout: 60)
    }

    static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gpubench-\(UUID().uuidString).json").path
    }

    @Test("usage mistakes exit 64 with the usage, before any device is opened",
          arguments: [["--streams", "8,x"], ["--device"], ["--parity"], ["--reference", "r.json"], ["--bogus"], ["--decode-steps", "0"]])
    func usageErrors(arguments: [String]) throws {
        let result = try Self.run(arguments)
        #expect(result.status == 64, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("GPUBench: ") && result.stderr.contains("usage: GPUBench"), "\(result.stderr)")
    }

    @Test("without a usable GPU: the discovery reason on stderr and in --out, exit 2", .enabled(if: !hostHasGPU, "this host has a GPU"))
    func noGPU() throws {
        let out = Self.temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: out) }
        for mode in [["--streams", "1,8"], ["--parity", "--reference", "/nonexistent.json"]] {
            let result = try Self.run(mode + ["--out", out])
            #expect(result.status == 2, "\(result.stderr)")
            #expect(result.stderr.hasPrefix("GPUBench: no GPU ("), "\(result.stderr)")
            let data = try #require(FileManager.default.contents(atPath: out))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            #expect(object["status"] as? String == "no-gpu")
            let reason = try #require(object["reason"] as? String)
            #expect(!reason.isEmpty && result.stderr.contains(reason))
        }
    }
}
