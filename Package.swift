// swift-tools-version:6.0
// Warden: a sandboxed agent hosting runtime for Linux. No third-party Swift packages (DESIGN.md, decision 1).
import PackageDescription

/// Numeric code must be fast in test (debug) builds too: the inference tests run the real model.
let optimizedSwift: [SwiftSetting] = [.unsafeFlags(["-O"])]
let optimizedC: [CSetting] = [.unsafeFlags(["-O3"])]

let package = Package(
    name: "Warden",
    products: [
        .executable(name: "warden", targets: ["warden"]),
    ],
    targets: [
        // System libraries (Debian's -dev packages), wrapped by a shim header of static inline helpers.
        .systemLibrary(name: "CSeccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),

        // The errno layer: one system_<name> wrapper per syscall, file descriptors, pipes, pidfds, fd passing.
        .target(name: "HostOS", dependencies: ["CSandboxLauncher"]),

        // The code that runs between clone and exec, in C (DESIGN.md, decision 3).
        .target(name: "CSandboxLauncher", cSettings: optimizedC),

        // Agent specs and policies: strict JSON decoding with file:line:column and JSON-path errors.
        .target(name: "Specs"),

        // Seccomp compilation, mount plans, cgroups (v1 and v2), the launcher's Swift face, supervision.
        .target(
            name: "Sandbox",
            dependencies: ["HostOS", "Specs", "CSandboxLauncher", "CSeccomp", "CCap", "TraceStore"]
        ),

        // The execution trace: framed, checksummed, hash-chained records; writer, reader, verifier, OTLP export.
        .target(name: "TraceStore", dependencies: ["HostOS", "Specs", "CTraceDigest"]),
        // SHA-256 and CRC-32C for the trace store, with SHA-NI / SSE4.2 paths chosen at run time.
        .target(name: "CTraceDigest", cSettings: optimizedC),
        // Trace append benchmarks and the crash-test writer child (Benchmarks/TraceBench).
        .executableTarget(name: "trace-bench", dependencies: ["TraceStore", "Specs"], path: "Benchmarks/TraceBench"),
        // Guardrail throughput and the JSONL scan mode of the quality scripts (Benchmarks/guardrails.sh).
        .executableTarget(name: "guardrail-bench", dependencies: ["Guardrails", "Specs", "BenchSupport"], path: "Benchmarks/GuardrailBench"),
        // The clock, medians, percentiles and token-id files the benchmark drivers share.
        .target(name: "BenchSupport", path: "Benchmarks/BenchSupport"),

        // Small C kernels for the inference engine (int8 dot products with run-time CPU dispatch).
        .target(name: "CInferenceKernels", cSettings: optimizedC),

        // The inference engine: GGUF, tokenizer, llama forward pass, sampler, CPU backend.
        .target(
            name: "Inference", dependencies: ["HostOS", "Specs", "CInferenceKernels", "CTraceDigest"],
            exclude: ["CUDA/Kernels"], swiftSettings: optimizedSwift
        ),

        // Benchmarks/inference.sh's driver: Warden's side of the side-by-side with llama.cpp.
        .executableTarget(
            name: "InferenceBench", dependencies: ["Inference", "CInferenceKernels", "BenchSupport"],
            path: "Benchmarks/InferenceBench", swiftSettings: optimizedSwift
        ),

        // Benchmarks/GPUBench: the CUDA backend on one GPU (decode, batched decode, TTFT, bandwidth and launch
        // bounds, parity with the CPU); Scripts/gpu-check runs it on a GPU machine.
        .executableTarget(
            name: "GPUBench", dependencies: ["Inference", "Specs", "BenchSupport"], path: "Benchmarks/GPUBench", swiftSettings: optimizedSwift
        ),

        // A small HTTP/1.1 server (broker endpoints, later the control API) and client (http.fetch).
        .target(name: "HTTPServer", dependencies: ["HostOS", "CHTTPShims"]),
        // epoll, eventfd and accept4 for HTTPServer's event loop (not exported by Swift's Glibc module).
        .target(name: "CHTTPShims"),
        // Benchmarks/pool.sh's driver: the inference pool's throughput, fairness and prefix sharing.
        .executableTarget(
            name: "PoolBench", dependencies: ["Inference", "BenchSupport"], path: "Benchmarks/PoolBench", swiftSettings: optimizedSwift
        ),
        // HTTP load generator with a raw epoll echo baseline and HTTPServer echo (Benchmarks/broker.sh).
        .executableTarget(name: "http-bench", dependencies: ["HTTPServer", "CHTTPShims", "Broker", "Specs"], path: "Benchmarks/HTTPBench"),

        // Guardrail detectors (secrets, PII, injection, deny lists, size), one protocol, one pipeline.
        .target(name: "Guardrails", dependencies: ["Specs"]),

        // The broker: OpenAI and MCP surfaces in front of policy, guardrails, tools, models and the trace.
        .target(
            name: "Broker",
            dependencies: ["HostOS", "Specs", "HTTPServer", "Guardrails", "TraceStore", "Sandbox", "Inference"]
        ),

        // The supervisor service (`warden serve`): agent registry, invocations, state store, control API, metrics.
        .target(
            name: "Supervisor",
            dependencies: ["HostOS", "Specs", "Sandbox", "TraceStore", "HTTPServer", "Broker"]
        ),

        // The command-line tool: argument parsing and one file per command group; no logic.
        .executableTarget(name: "warden", dependencies: ["HostOS", "Specs", "Sandbox", "TraceStore", "Inference", "Broker", "Supervisor", "HTTPServer"]),

        // In-process launch benchmark (Benchmarks/launch-inprocess.sh).
        .executableTarget(name: "LaunchBench", dependencies: ["Sandbox", "HostOS"], path: "Benchmarks/LaunchBench"),

        // The CUDA emulator (tests only): the kernels of Sources/Inference/CUDA/Kernels compiled for the host,
        // each block's threads run as fibers; and EmulatedDevice, a ComputeDevice over it.
        .target(
            name: "CUDAEmulator", path: "Tests/CUDAEmulator", exclude: ["SelfTest"],
            cxxSettings: [.define("WK_EMULATOR"), .unsafeFlags(["-O2", "-fstack-clash-protection"])]
        ),
        .target(name: "GPUTestSupport", dependencies: ["Inference", "CUDAEmulator"], path: "Tests/GPUTestSupport"),

        // Shared test helpers: locating and running the built `warden`, processes with deadlines.
        .target(name: "TestSupport", path: "Tests/TestSupport"),

        .testTarget(name: "HostOSTests", dependencies: ["HostOS"]),
        .testTarget(name: "SpecsTests", dependencies: ["Specs", "TestSupport"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "Specs", "HostOS", "TestSupport"]),
        .testTarget(name: "EscapeTests", dependencies: ["Sandbox", "Specs", "HostOS", "TestSupport"]),
        .testTarget(name: "TraceStoreTests", dependencies: ["TraceStore", "Specs", "HostOS", "CTraceDigest", "TestSupport"]),
        .testTarget(
            name: "InferenceTests", dependencies: ["Inference", "TestSupport", "GPUTestSupport", "CUDAEmulator"],
            swiftSettings: optimizedSwift
        ),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "HostOS", "TestSupport"]),
        .testTarget(name: "GuardrailsTests", dependencies: ["Guardrails", "Specs", "TestSupport"]),
        .testTarget(name: "BrokerTests", dependencies: ["Broker", "HTTPServer", "Guardrails", "Specs", "TraceStore", "Sandbox", "Inference", "HostOS", "TestSupport"]),
        .testTarget(name: "WardenCLITests", dependencies: ["HostOS", "TestSupport"]),
        .testTarget(name: "GPUBenchTests", dependencies: ["TestSupport"]),
        .testTarget(name: "SupervisorTests", dependencies: ["Supervisor", "HTTPServer", "Specs", "HostOS", "TestSupport"]),
    ],
    cxxLanguageStandard: .cxx17
)
