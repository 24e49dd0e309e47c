// GPUBench: the CUDA backend on one GPU, for Scripts/gpu-check and BENCHMARKS.md ("GPU (issue 8)").
// Benchmark mode: single-stream and batched greedy decode at --streams, TTFT for a --prompt-tokens
// prompt, each with graph replay off and on; each decode step's bytes (weights + KV) over the
// device's measured bandwidth, and its launches times a measured launch, as fractions of those bounds.
// Parity mode: the greedy reference cases on GPUBackend (graphs off and on) and CPUBackend.
// Without a usable GPU it says why (stderr and --out) and exits 2; it never falls back to the CPU.
#if canImport(Glibc)
import Glibc
#endif
import Inference
import Specs

let options: Options
do {
    options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    printError("GPUBench: \(error.message)\n\n\(Options.usage)")
    exit(64)
}

/// Writes `report` to --out, printing where; a failed write is a failed run.
func save(_ report: Report) {
    if let problem = report.write(to: options.out) {
        printError("GPUBench: \(problem)")
        exit(1)
    }
    printError("GPUBench: wrote \(options.out)")
}

/// Ends the run with `message` (and the report so far) on a device or model error.
func failRun(_ message: String, _ partial: Report = Report()) -> Never {
    var report = partial
    report["status"] = .string("failed")
    report["error"] = .string(message)
    _ = report.write(to: options.out)
    printError("GPUBench: \(message)")
    exit(1)
}

let gpus: [GPUDiscovery.GPU]
switch GPUSupport.cuda.discover() {
case .unavailable(let reason):
    var report = Report()
    report["status"] = .string("no-gpu")
    report["reason"] = .string(reason)
    _ = report.write(to: options.out)
    printError("GPUBench: no GPU (\(reason))")
    exit(2)
case .available(let found):
    gpus = found
}
guard gpus.contains(where: { $0.ordinal == options.device }) else {
    let present = gpus.map { "\($0.ordinal) (\($0.name))" }.joined(separator: ", ")
    printError("GPUBench: GPU \(options.device) does not exist; this machine has \(present)")
    exit(64)
}
guard let modelPath = options.modelPath else { failRun("no model: pass --model PATH or set WARDEN_MODEL_DIR or HOME") }

do {
    let loaded = try LoadedModel(path: modelPath, threads: nil)
    let target = try CUDA.target(ordinal: options.device)
    let device = target.device
    switch options.mode {
    case .parity(let reference):
        let cases: [ReferenceCase]
        do { cases = try ReferenceCase.load(reference) } catch { failRun("\(error)") }
        let cpu = try loaded.makeBackend(kvMemoryBytes: 64 << 20, blockSize: 16)
        var backends: [(String, any InferenceBackend)] = [("cpu", cpu)]
        for graphs in [false, true] {
            backends.append((graphs ? "gpu_graphs" : "gpu", try CUDA.backend(loaded.llama, on: device, kvMemoryBytes: 64 << 20,
                                                                              blockSize: 16, maxPassTokens: 512, graphs: graphs)))
        }
        var (report, passed) = try Parity.run(cases, backends: backends)
        report["device"] = .string(target.summary)
        save(report)
        exit(passed ? 0 : 1)
    case .benchmark:
        let bench = Benchmark(options: options, model: loaded.llama, target: target)
        let (bandwidth, modes) = try bench.run()
        // Written before the launch probe, which runs last: a fault there loses nothing measured.
        save(bench.report(bandwidth: bandwidth, modes: modes, launchSeconds: nil))
        var launch: Double?
        if options.launchProbe {
            do { launch = try Roofline.launchSeconds(target) } catch { printError("GPUBench: launch probe failed: \(error.message)") }
        }
        let report = bench.report(bandwidth: bandwidth, modes: modes, launchSeconds: launch)
        save(report)
        print(Benchmark.table(modes, report: report))
    }
} catch {
    failRun(error.message)
}
