import Foundation
import TestSupport

/// A stand-in `libcuda.so.1` built with cc for the tests: every entry point `CUDADriverAPI` resolves,
/// with the behaviour a scenario needs (cuInit's result, the driver version, the devices' compute
/// capability) and a JIT that rejects the PTX while writing into the error-log buffer it was given.
///
/// It exercises the loader's and `CUDADevice`'s own logic (symbol resolution, error text from
/// cuGetErrorName/String, version and capability checks, JIT option plumbing, cleanup when
/// initialization fails) on a machine without a GPU. It is not a GPU: nothing here runs a kernel.
enum FakeCUDADriver {
    struct Scenario: Hashable {
        var initResult = 0
        var version = 13000
        var deviceCount = 2
        var major = 9
        var minor = 0
    }

    /// Entry points that only answer CUDA_ERROR_UNKNOWN (999), so a test notices if one is called.
    static let unusedSymbols = [
        "cuMemGetInfo_v2", "cuMemAlloc_v2", "cuMemFree_v2", "cuMemAllocHost_v2", "cuMemFreeHost",
        "cuMemcpyHtoDAsync_v2", "cuMemcpyDtoHAsync_v2", "cuMemsetD8Async", "cuModuleUnload", "cuModuleGetFunction",
        "cuFuncSetAttribute", "cuLaunchKernel", "cuStreamSynchronize", "cuStreamBeginCapture_v2",
        "cuStreamEndCapture", "cuGraphInstantiateWithFlags", "cuGraphExecUpdate_v2", "cuGraphLaunch", "cuGraphDestroy",
        "cuGraphExecDestroy", "cuEventCreate", "cuEventRecord", "cuEventSynchronize", "cuEventElapsedTime",
        "cuEventDestroy_v2",
    ]

    static func source(_ s: Scenario) -> String {
        """
        #include <stdio.h>
        #include <string.h>
        #include <stddef.h>
        int fake_retained = 0, fake_streams = 0;
        int cuInit(unsigned flags) { return \(s.initResult); }
        int cuDriverGetVersion(int *v) { *v = \(s.version); return 0; }
        int cuDeviceGetCount(int *n) { *n = \(s.deviceCount); return 0; }
        int cuDeviceGet(int *d, int ordinal) { *d = ordinal; return 0; }
        int cuDeviceGetName(char *name, int len, int d) { snprintf(name, len, "Fake GPU %d", d); return 0; }
        int cuDeviceTotalMem_v2(size_t *bytes, int d) { *bytes = (size_t)80 << 30; return 0; }
        int cuDeviceGetAttribute(int *v, int attribute, int d) {
            switch (attribute) {
            case 75: *v = \(s.major); return 0;
            case 76: *v = \(s.minor); return 0;
            case 16: *v = 132; return 0;
            case 37: *v = 6144; return 0;
            case 38: *v = 50 << 20; return 0;
            case 97: *v = 227 << 10; return 0;
            default: return 1;  /* CUDA_ERROR_INVALID_VALUE: the memory clock is "not reported" */
            }
        }
        static int describe(int e, const char **s, int name) {
            switch (e) {
            case 100: *s = name ? "CUDA_ERROR_NO_DEVICE" : "no CUDA-capable device is detected"; return 0;
            case 218: *s = name ? "CUDA_ERROR_INVALID_PTX" : "a PTX JIT compilation failed"; return 0;
            default: *s = 0; return 1;
            }
        }
        int cuGetErrorName(int e, const char **s) { return describe(e, s, 1); }
        int cuGetErrorString(int e, const char **s) { return describe(e, s, 0); }
        int cuDevicePrimaryCtxRetain(void **ctx, int d) { fake_retained++; *ctx = (void *)0x1000; return 0; }
        int cuDevicePrimaryCtxRelease_v2(int d) { fake_retained--; return 0; }
        int cuCtxSetCurrent(void *ctx) { return 0; }
        int cuStreamCreate(void **stream, unsigned flags) { fake_streams++; *stream = (void *)0x2000; return 0; }
        int cuStreamDestroy_v2(void *stream) { fake_streams--; return 0; }
        int cuModuleLoadDataEx(void **module, const char *image, unsigned n, int *options, void **values) {
            char *log = 0; size_t size = 0;
            for (unsigned i = 0; i < n; i++) {
                if (options[i] == 5) log = values[i];
                if (options[i] == 6) size = (size_t)values[i];
            }
            if (log && size) snprintf(log, size, "fake JIT rejected %zu bytes of PTX", strlen(image));
            return 218;
        }
        \(unusedSymbols.map { "int \($0)() { return 999; }" }.joined(separator: "\n"))
        """
    }

    private static let built = BuiltLibraries()

    /// The path of the fake driver for `scenario`, built once per test process.
    static func library(_ scenario: Scenario) throws -> String {
        try built.library(for: scenario)
    }

    private final class BuiltLibraries: @unchecked Sendable {
        private let lock = NSLock()
        private var paths: [Scenario: String] = [:]
        private let directory = NSTemporaryDirectory() + "warden-fake-cuda-\(getpid())"

        func library(for scenario: Scenario) throws -> String {
            lock.lock()
            defer { lock.unlock() }
            if let path = paths[scenario] { return path }
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let name = "\(directory)/libcuda-fake-\(paths.count)"
            try FakeCUDADriver.source(scenario).write(toFile: name + ".c", atomically: true, encoding: .utf8)
            let run = try WardenTool.runProcess(
                "/usr/bin/cc", ["-shared", "-fPIC", "-std=gnu11", "-w", "-o", name + ".so", name + ".c"], timeout: 120)
            guard run.status == 0, !run.timedOut else {
                throw FakeDriverError(description: "cc could not build the fake driver (\(run.status)): \(run.stderr)")
            }
            paths[scenario] = name + ".so"
            return name + ".so"
        }
    }

    struct FakeDriverError: Error, CustomStringConvertible {
        var description: String
    }
}
