// The benchmark mode: for graph replay off and on, single-stream and batched decode and TTFT; each
// decode step is set against the bandwidth bound and the launch-bound estimate.
import BenchSupport
import Inference
import Specs

/// What one backend (graphs off or on) measured.
struct ModeResult {
    var graphs: Bool
    var backend: String
    var ttftSeconds: [Double]
    var decode: [DecodeResult]
}

struct Benchmark {
    let options: Options
    let model: LlamaModel
    let target: Target
    var device: CountingDevice { target.device }
    let blockSize = 16
    /// Prompt tokens of each decode stream before its timed steps.
    let promptLength = 16

    /// The device's write bandwidth, then both modes.
    func run() throws(InferenceError) -> (bandwidth: Double, modes: [ModeResult]) {
        let bandwidth = try Roofline.fillBandwidth(target)
        var modes: [ModeResult] = []
        for graphs in [false, true] { modes.append(try runMode(graphs: graphs)) }
        return (bandwidth, modes)
    }

    /// One backend: TTFT, then decode at each stream count. The backend is released on return.
    func runMode(graphs: Bool) throws(InferenceError) -> ModeResult {
        let maxStreams = options.streams.max() ?? 1
        let positions = max(promptLength + options.decodeSteps + 4, options.promptTokens + 1)
        let arena = Measure.arenaPositions(streams: max(maxStreams, 2), positions: positions, blockSize: blockSize)
        let maxPass = max(options.promptTokens, maxStreams, 512)
        let backend = try CUDA.backend(model, on: device, kvMemoryBytes: arena * model.config.kvValuesPerToken * 2,
                                       blockSize: blockSize, maxPassTokens: maxPass, graphs: graphs)
        let ttft = try Measure.timeToFirstToken(backend, length: options.promptTokens, repeats: options.repeats)
        var decode: [DecodeResult] = []
        for streams in options.streams {
            decode.append(try Measure.decode(backend, device: device, streams: streams, promptLength: promptLength,
                                             steps: options.decodeSteps, maxPass: maxPass))
        }
        return ModeResult(graphs: graphs, backend: backend.name, ttftSeconds: ttft, decode: decode)
    }

    /// The JSON report: per mode, TTFT and one row per stream count with its bounds.
    func report(bandwidth: Double, modes: [ModeResult], launchSeconds: Double?) -> Report {
        var report = Report()
        report["status"] = .string("measured")
        report["device"] = .string(target.summary)
        report["weight_bytes_per_step"] = Report.number(Roofline.weightBytes(model))
        report["fill_bandwidth_bytes_per_second"] = Report.number(bandwidth)
        report["bandwidth_method"] = .string("ComputeDevice.fill of 2 GiB, median of 10, CUDA events (bytes written)")
        report["attribute_bandwidth_bytes_per_second"] = target.attributeBandwidth.map(Report.number) ?? .null
        report["launch_seconds"] = launchSeconds.map(Report.number) ?? .null
        report["launch_method"] = .string("2000 back-to-back launches of wk_argmax over one 32-float row (32 x 4 threads), CUDA events")
        report["modes"] = .array(modes.map { mode in
            Report.object([
                ("graphs", .bool(mode.graphs)),
                ("backend", .string(mode.backend)),
                ("ttft_prompt_tokens", Report.number(options.promptTokens)),
                ("ttft_seconds_median", Report.number(median(mode.ttftSeconds))),
                ("ttft_seconds", .array(mode.ttftSeconds.map(Report.number))),
                ("decode", .array(mode.decode.map { row($0, bandwidth: bandwidth, launchSeconds: launchSeconds) })),
            ])
        })
        return report
    }

    /// One stream count: throughput, step time, bytes read, and the fractions of both bounds reached.
    func row(_ result: DecodeResult, bandwidth: Double, launchSeconds: Double?) -> JSONValue {
        let step = result.medianStepSeconds
        let bytes = Double(Roofline.weightBytes(model)) + Roofline.kvBytes(model.config, streams: result.streams, meanContext: result.meanContext)
        let bandwidthBound = bytes / bandwidth
        let launchBound = launchSeconds.map { $0 * result.launchesPerStep }
        return Report.object([
            ("streams", Report.number(result.streams)),
            ("steps", Report.number(result.steps)),
            ("tokens_per_second", Report.number(result.tokensPerSecond)),
            ("step_seconds_median", Report.number(step)),
            ("step_seconds_p95", Report.number(percentile(result.stepSeconds, 95))),
            ("bytes_per_step", Report.number(bytes)),
            ("bandwidth_bound_seconds", Report.number(bandwidthBound)),
            ("fraction_of_bandwidth_bound", Report.number(bandwidthBound / step)),
            ("fraction_of_attribute_bandwidth_bound", target.attributeBandwidth.map { Report.number(bytes / $0 / step) } ?? .null),
            ("launches_per_step", Report.number(result.launchesPerStep)),
            ("graph_replays_per_step", Report.number(result.replaysPerStep)),
            ("launch_bound_seconds", launchBound.map(Report.number) ?? .null),
            ("fraction_of_launch_bound", launchBound.map { Report.number($0 / step) } ?? .null),
            ("mean_context", Report.number(result.meanContext)),
        ])
    }

    /// The stdout table: one line per mode and stream count.
    static func table(_ modes: [ModeResult], report: Report) -> String {
        let widths = [7, 8, 12, 10, 9, 9, 10]
        var lines = [Table.row(["graphs", "streams", "tok/s", "step ms", "of BW", "of launch", "TTFT ms"], widths: widths)]
        guard case .array(let reported)? = report["modes"] else { return lines.joined(separator: "\n") }
        for (mode, json) in zip(modes, reported) {
            guard case .object(let object) = json, case .array(let rows)? = object["decode"] else { continue }
            for (index, (result, rowJSON)) in zip(mode.decode, rows).enumerated() {
                guard case .object(let row) = rowJSON else { continue }
                let bw = row["fraction_of_bandwidth_bound"].flatMap(\.doubleValue) ?? .nan
                let launch = row["fraction_of_launch_bound"].flatMap(\.doubleValue) ?? .nan
                let ttft = index == 0 ? Table.format(median(mode.ttftSeconds) * 1000, 2) : ""
                lines.append(Table.row([mode.graphs ? "on" : "off", String(result.streams), Table.format(result.tokensPerSecond),
                                        Table.format(result.medianStepSeconds * 1000, 3), Table.format(bw * 100) + "%",
                                        Table.format(launch * 100) + "%", ttft], widths: widths))
            }
        }
        return lines.joined(separator: "\n")
    }
}

extension JSONValue {
    /// The number as a Double, or nil.
    var doubleValue: Double? {
        if case .number(let number) = self { return number.double }
        return nil
    }
}
