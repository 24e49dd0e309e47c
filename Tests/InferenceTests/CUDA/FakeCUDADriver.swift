import Foundation
import Glibc
import TestSupport

/// A stand-in `libcuda.so.1` built with cc for the tests: every entry point `CUDADriverAPI` resolves,
/// with the behaviour a scenario needs (cuInit's result, the driver version, the devices' compute
/// capability) and a JIT that rejects the PTX while writing into the error-log buffer it was given.
/// With `working`, the JIT accepts the PTX and memory is host memory (a "device address" is a malloc'd
/// pointer, copies are memcpy at once), launches and graphs are only counted (`fake_*` globals).
///
/// It exercises the loader's and `CUDADevice`'s own logic (symbol resolution, error text from
/// cuGetErrorName/String, version and capability checks, JIT option plumbing, cleanup, the staging
/// ring, parameter marshalling, capture bookkeeping) on a machine without a GPU. It is not a GPU:
/// nothing here runs a kernel, and nothing here is asynchronous.
enum FakeCUDADriver {
    struct Scenario: Hashable {
        var initResult = 0
        var version = 13000
        var deviceCount = 2
        var major = 9
        var minor = 0
        /// A JIT that accepts the PTX and host-memory implementations of the memory, launch, graph and event calls.
        var working = false
        /// What cuStreamSynchronize returns (700: CUDA_ERROR_ILLEGAL_ADDRESS, as after a kernel fault).
        var syncResult = 0
        /// What cuGraphExecUpdate_v2 returns (910: CUDA_ERROR_GRAPH_EXEC_UPDATE_FAILURE).
        var updateResult = 0
        /// Distinguishes libraries of otherwise equal scenarios, so tests running in parallel do not share counters.
        var tag = ""
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
        s.working ? common(s) + working(s) : common(s) + failingJIT + unusedSymbols.map { "int \($0)() { return 999; }" }.joined(separator: "\n")
    }

    static func common(_ s: Scenario) -> String {
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
            case 700: *s = name ? "CUDA_ERROR_ILLEGAL_ADDRESS" : "an illegal memory access was encountered"; return 0;
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

        """
    }

    static let failingJIT = """
        int cuModuleLoadDataEx(void **module, const char *image, unsigned n, int *options, void **values) {
            char *log = 0; size_t size = 0;
            for (unsigned i = 0; i < n; i++) {
                if (options[i] == 5) log = values[i];
                if (options[i] == 6) size = (size_t)values[i];
            }
            if (log && size) snprintf(log, size, "fake JIT rejected %zu bytes of PTX", strlen(image));
            return 218;
        }

        """

    /// Host-memory implementations, with counters the tests read through dlsym.
    static func working(_ s: Scenario) -> String {
        """
        #include <stdlib.h>
        typedef unsigned long long u64;
        int fake_modules = 0, fake_launches = 0, fake_captured = 0, fake_capturing = 0, fake_event_waits = 0;
        int fake_graph_execs = 0, fake_graphs = 0, fake_graph_launches = 0, fake_updates = 0, fake_events = 0;
        int fake_shared_limit = 0, fake_host_blocks = 0;
        unsigned fake_grid[3], fake_block[3], fake_shared;
        u64 fake_params[3];
        char fake_kernel[64];
        int cuModuleLoadDataEx(void **module, const char *image, unsigned n, int *options, void **values) {
            fake_modules++; *module = (void *)0x3000; return 0;
        }
        int cuModuleUnload(void *module) { fake_modules--; return 0; }
        int cuModuleGetFunction(void **f, void *module, const char *name) { *f = strdup(name); return 0; }
        int cuFuncSetAttribute(void *f, int attribute, int value) { if (attribute == 8) fake_shared_limit = value; return 0; }
        int cuLaunchKernel(void *f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by, unsigned bz,
                           unsigned shared, void *stream, void **params, void **extra) {
            if (fake_capturing) fake_captured++; else fake_launches++;
            snprintf(fake_kernel, sizeof fake_kernel, "%s", (const char *)f);
            fake_grid[0] = gx; fake_grid[1] = gy; fake_grid[2] = gz;
            fake_block[0] = bx; fake_block[1] = by; fake_block[2] = bz; fake_shared = shared;
            for (int i = 0; i < 3; i++) fake_params[i] = *(u64 *)params[i];
            return 0;
        }
        int cuMemGetInfo_v2(size_t *free, size_t *total) { *free = (size_t)70 << 30; *total = (size_t)80 << 30; return 0; }
        int cuMemAlloc_v2(u64 *address, size_t n) {
            void *p = aligned_alloc(256, (n + 255) & ~(size_t)255); if (!p) return 2; *address = (u64)p; return 0;
        }
        int cuMemFree_v2(u64 address) { free((void *)address); return 0; }
        int cuMemAllocHost_v2(void **p, size_t n) { *p = malloc(n); if (!*p) return 2; fake_host_blocks++; return 0; }
        int cuMemFreeHost(void *p) { free(p); fake_host_blocks--; return 0; }
        int cuMemcpyHtoDAsync_v2(u64 d, const void *s, size_t n, void *stream) {
            if (fake_capturing) return 900; memcpy((void *)d, s, n); return 0;
        }
        int cuMemcpyDtoHAsync_v2(void *d, u64 s, size_t n, void *stream) { memcpy(d, (const void *)s, n); return 0; }
        int cuMemsetD8Async(u64 d, unsigned char v, size_t n, void *stream) { memset((void *)d, v, n); return 0; }
        int cuStreamSynchronize(void *stream) { return \(s.syncResult); }
        int cuStreamBeginCapture_v2(void *stream, int mode) { fake_capturing = 1; return 0; }
        int cuStreamEndCapture(void *stream, void **graph) { fake_capturing = 0; fake_graphs++; *graph = malloc(1); return 0; }
        int cuGraphDestroy(void *graph) { fake_graphs--; free(graph); return 0; }
        int cuGraphInstantiateWithFlags(void **exec, void *graph, u64 flags) { fake_graph_execs++; *exec = malloc(1); return 0; }
        int cuGraphExecDestroy(void *exec) { fake_graph_execs--; free(exec); return 0; }
        int cuGraphExecUpdate_v2(void *exec, void *graph, void *info) { fake_updates++; return \(s.updateResult); }
        int cuGraphLaunch(void *exec, void *stream) { fake_graph_launches++; return 0; }
        int cuEventCreate(void **event, unsigned flags) { fake_events++; *event = malloc(1); return 0; }
        int cuEventDestroy_v2(void *event) { fake_events--; free(event); return 0; }
        int cuEventRecord(void *event, void *stream) { return 0; }
        int cuEventSynchronize(void *event) { fake_event_waits++; return 0; }
        int cuEventElapsedTime(float *ms, void *start, void *end) { *ms = 1.5f; return 0; }

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
            let name = "\(directory)/libcuda-fake-\(paths.count)\(scenario.tag)"
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

    /// A counter or array element of a loaded fake (`fake_launches`, `fake_params`…), read through dlsym.
    static func read<T>(_ symbol: String, in path: String, index: Int = 0, as: T.Type = T.self) throws -> T {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { throw FakeDriverError(description: "\(path) is not loaded") }
        defer { dlclose(handle) }
        guard let address = dlsym(handle, symbol) else { throw FakeDriverError(description: "the fake has no \(symbol)") }
        return address.assumingMemoryBound(to: T.self)[index]
    }

    /// A C string array of a loaded fake (`fake_kernel`).
    static func readString(_ symbol: String, in path: String) throws -> String {
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else { throw FakeDriverError(description: "\(path) is not loaded") }
        defer { dlclose(handle) }
        guard let address = dlsym(handle, symbol) else { throw FakeDriverError(description: "the fake has no \(symbol)") }
        return String(cString: address.assumingMemoryBound(to: CChar.self))
    }

    struct FakeDriverError: Error, CustomStringConvertible {
        var description: String
    }
}
