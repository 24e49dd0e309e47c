// The only file of GPUBench that names the CUDA types.
import BenchSupport
import Inference

/// The GPU under measurement: the device wrapped to count launches, a timer on the device's clock,
/// and what the driver says about it.
struct Target {
    let device: CountingDevice
    /// Seconds the device spent on the work the closure issues (CUDA events around it).
    let timed: (() throws(InferenceError) -> Void) throws(InferenceError) -> Double
    /// The peak bandwidth the memory clock and bus width imply (a datasheet-like bound, not a measurement).
    let attributeBandwidth: Double?
    let summary: String
}

enum CUDA {
    static func target(ordinal: Int) throws(InferenceError) -> Target {
        let cuda = try CUDADevice(ordinal: ordinal)
        return Target(device: CountingDevice(cuda), timed: { (body) throws(InferenceError) in try cuda.timed(body) / 1000 },
                      attributeBandwidth: cuda.info.peakBandwidthBytesPerSecond, summary: cuda.info.summary)
    }

    /// `GPUBackend` over the counting device, with or without graph replay.
    static func backend(_ model: LlamaModel, on device: CountingDevice, kvMemoryBytes: Int, blockSize: Int,
                        maxPassTokens: Int, graphs: Bool) throws(InferenceError) -> any InferenceBackend {
        return try GPUBackend(model: model, device: device, kvMemoryBytes: kvMemoryBytes, blockSize: blockSize,
                              maxPassTokens: maxPassTokens, graphs: graphs)
    }
}
