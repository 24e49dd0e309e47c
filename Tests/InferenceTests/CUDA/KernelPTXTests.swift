import Foundation
import Testing
import TestSupport
@testable import Inference

/// The committed PTX (Sources/Inference/CUDA/Generated/PTX.swift) against the kernel sources, and the
/// PTX pipeline (Scripts/build-ptx) itself. Compiling needs NVRTC, which `Scripts/install-deps --test`
/// installs from PyPI; where there is none those tests skip and say so. The digest check needs none.
@Suite("Kernel PTX")
struct KernelPTXTests {
    static let script = WardenTool.packageRoot.appendingPathComponent("Scripts/build-ptx").path

    static func buildPTX(_ arguments: [String]) throws -> WardenTool.Result {
        try WardenTool.runProcess(script, arguments, timeout: 600)
    }

    /// Whether build-ptx finds an NVRTC here without installing one.
    static let nvrtcFound: Bool = (try? buildPTX(["--find"]).status) == 0

    /// Whether all.cu defines kernels yet: until helper gpu's kernels are merged it is a placeholder and
    /// the committed PTX has no `.entry` at all, so the per-kernel check below has nothing to check.
    static let kernelsWritten = KernelPTX.compute90.contains(".entry ")

    @Test("the committed PTX was made from the current kernel sources (digest; no NVRTC needed)")
    func digestMatchesSources() throws {
        let run = try Self.buildPTX(["--digest"])
        try #require(run.status == 0, "build-ptx --digest failed: \(run.stderr)")
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == KernelPTX.sourceDigest,
                "the kernel sources changed since PTX.swift was generated: run Scripts/build-ptx")
    }

    @Test("the committed PTX is byte for byte what NVRTC makes of the sources now",
          .enabled(if: nvrtcFound, "no NVRTC of the pinned release (Scripts/install-deps --test installs PyPI's nvidia-cuda-nvrtc-cu12)"))
    func committedPTXIsFresh() throws {
        let run = try Self.buildPTX(["--check", "--no-install"])
        #expect(run.status == 0, "stale PTX.swift: \(run.stderr)")
    }

    @Test("each PTX targets its architecture, and the driver floor follows the NVRTC release")
    func headers() {
        #expect(KernelPTX.compute90.contains("\n.target sm_90\n"))
        #expect(KernelPTX.compute61.contains("\n.target sm_61\n"))
        #expect(KernelPTX.compute90.contains("release \(KernelPTX.nvrtcVersion),"))
        let parts = KernelPTX.nvrtcVersion.split(separator: ".").compactMap { Int32($0) }
        #expect(parts.count == 2 && KernelPTX.minimumDriverVersion == parts[0] * 1000 + parts[1] * 10)
    }

    // Expected to be disabled until helper gpu's kernels land in all.cu (then it must pass).
    @Test("every Kernel case is an .entry of both PTX targets",
          .enabled(if: kernelsWritten, "all.cu has no kernels yet, so the committed PTX has no entries"))
    func everyKernelHasAnEntry() {
        for kernel in Kernel.allCases {
            #expect(KernelPTX.compute90.contains(".entry \(kernel.rawValue)("), "compute_90 PTX lacks \(kernel.rawValue)")
            #expect(KernelPTX.compute61.contains(".entry \(kernel.rawValue)("), "compute_61 PTX lacks \(kernel.rawValue)")
        }
    }

    @Test("the pipeline on a small kernel: both targets, same bytes twice, --check sees an edit, errors show NVRTC's log",
          .enabled(if: nvrtcFound, "no NVRTC of the pinned release (Scripts/install-deps --test installs PyPI's nvidia-cuda-nvrtc-cu12)"))
    func pipelineOnASmallKernel() throws {
        let folder = try SandboxScratch.directory("warden-ptx")
        defer { SandboxScratch.remove(folder) }
        let kernels = folder.appendingPathComponent("kernels")
        try FileManager.default.createDirectory(at: kernels, withIntermediateDirectories: true)
        try Self.header.write(to: kernels.appendingPathComponent("common.cuh"), atomically: true, encoding: .utf8)
        try Self.kernel.write(to: kernels.appendingPathComponent("all.cu"), atomically: true, encoding: .utf8)
        let out = folder.appendingPathComponent("PTX.swift").path
        let first = try Self.buildPTX(["--kernels", kernels.path, "--out", out])
        try #require(first.status == 0, "build-ptx failed: \(first.stderr)")
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text.contains(".target sm_90\n"))
        #expect(text.contains(".target sm_61\n"))
        #expect(text.components(separatedBy: ".visible .entry wk_test_dot(").count == 3)
        #expect(text.contains("dp4a.s32.s32"))
        #expect(text.contains("shfl.sync.bfly.b32"))
        #expect(try Self.buildPTX(["--kernels", kernels.path, "--out", out, "--check"]).status == 0)

        try (Self.header + "// an edit\n").write(to: kernels.appendingPathComponent("common.cuh"), atomically: true, encoding: .utf8)
        let stale = try Self.buildPTX(["--kernels", kernels.path, "--out", out, "--check"])
        #expect(stale.status == 1)
        #expect(stale.stderr.contains("is stale"))
        #expect(stale.stderr.contains("sourceDigest"))

        try "WK_KERNEL void wk_broken( { }\n".write(to: kernels.appendingPathComponent("all.cu"), atomically: true, encoding: .utf8)
        let broken = try Self.buildPTX(["--kernels", kernels.path, "--out", out])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("NVRTC could not compile all.cu"))
        #expect(broken.stderr.contains("error"))
        #expect(try String(contentsOfFile: out, encoding: .utf8) == text, "a failed compile must not overwrite the output")
    }

    /// The builtins the real kernels use, with no CUDA header: NVRTC declares them itself.
    static let header = """
        #define WK_KERNEL extern "C" __global__
        static __device__ __forceinline__ int wk_dp4a(int a, int b, int c) { return __dp4a(a, b, c); }
        static __device__ __forceinline__ float wk_shfl_xor(float v, int m) { return __shfl_xor_sync(0xffffffffu, v, m); }

        """
    static let kernel = """
        #include "common.cuh"
        WK_KERNEL void wk_test_dot(const int* a, const int* b, float* out, int n) {
            extern __shared__ float partial[];
            int acc = 0;
            for (int i = threadIdx.x; i < n; i += blockDim.x) acc = wk_dp4a(a[i], b[i], acc);
            float v = (float)acc;
            for (int m = 16; m > 0; m >>= 1) v += wk_shfl_xor(v, m);
            if ((threadIdx.x & 31) == 0) partial[threadIdx.x / 32] = v * __expf(0.0f) * rsqrtf(1.0f);
            __syncthreads();
            if (threadIdx.x == 0) out[blockIdx.x] = partial[0];
        }

        """
}
