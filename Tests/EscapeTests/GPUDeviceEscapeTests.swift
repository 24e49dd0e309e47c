import Foundation
import Glibc
import Testing
@testable import Sandbox
import Specs
import TestSupport

extension EscapeSuite {
    /// Agents never see /dev/nvidia*: the GPU belongs to the supervisor's inference pool (issue 8).
    /// The policy side is checked on every host; the sandbox side opens the nodes inside and must
    /// get ENOENT whether or not the host has them (a GPU host's nodes are not in the sandbox's /dev).
    @Suite struct GPUDevices {
        static let policies = ["default.json", "strict.json"]

        @Test(arguments: policies)
        func policyMountsExposeNoGPUNodes(file: String) throws {
            let path = WardenTool.packageRoot.appendingPathComponent("Policies/\(file)").path
            let plan = SandboxRun.Request.mounts(for: try Policy.load(path: path).filesystem)
            for entry in plan.entries {
                #expect(!entry.target.hasPrefix("/dev/nvidia"), "\(file) mounts \(entry)")
                if case .bind(let source, let target, _, _) = entry {
                    // No host device node or host /dev at all: the sandbox's /dev is the launcher's minimal one.
                    #expect(!source.hasPrefix("/dev") && !target.hasPrefix("/dev"), "\(file) binds \(source) at \(target)")
                }
            }
            let devs = plan.entries.filter { if case .dev = $0 { true } else { false } }
            #expect(devs.map { $0.target } == ["/dev"], "\(file): \(plan.entries)")
        }

        @Test func sandboxCannotOpenGPUNodes() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.sandboxed(workspace, ["devices"])
            expectBlocked(run, ["dev-nvidiactl": "ENOENT", "dev-nvidia0": "ENOENT", "dev-nvidia-uvm": "ENOENT"])
            expectCleanRun(run, workspace)
        }

        /// Negative control, on a GPU host only: root outside the sandbox opens /dev/nvidiactl, so the
        /// probe would see the node if the sandbox let it through.
        @Test(.enabled(if: getuid() == 0 && ProbeRunner.hostHas("/dev/nvidiactl"), "the host has no /dev/nvidiactl"))
        func probeOpensGPUNodeOnHost() throws {
            let workspace = try ProbeWorkspace()
            let run = try ProbeRunner.unsandboxed(workspace, ["devices"])
            #expect(run.result("dev-nvidiactl")?.escaped == true, "\(run.transcript)")
        }
    }
}
