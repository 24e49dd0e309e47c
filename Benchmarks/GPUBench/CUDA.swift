// The only file of GPUBench that names the CUDA types. MERGE: compiled with WARDEN_CUDA_BACKEND
// (Package.swift) once `CUDADevice` and `GPUBackend` have landed; until then GPUBench finds no GPU
// ("this build of warden has no CUDA backend", from GPUSupport.cuda) and exits 2 before reaching it.
import Inference

enum CUDA {
    /// The device to measure on, wrapped to count launches.
    static func device(ordinal: Int) throws(InferenceError) -> CountingDevice {
        #if WARDEN_CUDA_BACKEND
        return CountingDevice(try CUDADevice(ordinal: ordinal))
        #else
        throw InferenceError(.unsupported, "this build of GPUBench has no CUDA backend")
        #endif
    }

    /// `GPUBackend` over `device` (the counting wrapper) with or without graph replay.
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
