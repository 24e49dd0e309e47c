// The only file of GPUBench that names the CUDA types. MERGE: compiled with WARDEN_CUDA_BACKEND
// (Package.swift) once `CUDADevice` and `GPUBackend` are both in; until then GPUBench finds no GPU
// ("this build of warden has no CUDA backend", from GPUSupport.cuda) and exits 2 before reaching it.
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
        #if WARDEN_CUDA_BACKEND
        let cuda = try CUDADevice(ordinal: ordinal)
        return Target(device: CountingDevice(cuda), timed: { (body) throws(InferenceError) in try cuda.timed(body) / 1000 },
                      attributeBandwidth: cuda.info.peakBandwidthBytesPerSecond, summary: cuda.info.summary)
        #else
        throw InferenceError(.unsupported, "this build of GPUBench has no CUDA backend")
        #endif
    }

    /// `GPUBackend` over the counting device, with or without graph replay.
    static func backend(_ model: LlamaModel, on device: CountingDevice, kvMemoryBytes: Int, blockSize: Int,
                        maxPassTokens: Int, graphs: Bool) throws(InferenceError) -> any InferenceBackend {
        #if WARDEN_CUDA_BACKEND
        return try GPUBackend(model: model, device: device, kvMemoryBytes: kvMemoryBytes, blockSize: blockSize,
                              maxPassTokens: maxPassTokens, graphs: graphs)
        #else
        throw InferenceError(.unsupported, "this build of GPUBench has no CUDA backend")
        #endif
    }
}
