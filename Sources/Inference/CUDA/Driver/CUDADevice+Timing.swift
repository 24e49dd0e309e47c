/// Device-side timing with CUDA events, for the GPU benchmark (METHOD.md: time on the device's clock).
extension CUDADevice {
    /// Milliseconds the device spent on the work `body` issues, measured between two CUDA events recorded
    /// on the stream around it (so host time spent issuing is included only where the device waited for
    /// it). Waits for the work to finish; the resolution is about half a microsecond.
    public func timed(_ body: () throws(InferenceError) -> Void) throws(InferenceError) -> Double {
        let (start, end) = try events()
        try makeCurrent()
        try driver.check(driver.api.cuEventRecord(start, stream), "cuEventRecord")
        try body()
        try driver.check(driver.api.cuEventRecord(end, stream), "cuEventRecord")
        try driver.check(driver.api.cuEventSynchronize(end), "cuEventSynchronize")
        var milliseconds: Float = 0
        try driver.check(driver.api.cuEventElapsedTime(&milliseconds, start, end), "cuEventElapsedTime")
        try synchronize()  // hand over downloads `body` issued and surface any fault in its kernels
        return Double(milliseconds)
    }

    /// Replays `step` `count` times back to back and returns the device milliseconds per replay.
    public func timedReplays(_ step: RecordedStep, count: Int) throws(InferenceError) -> Double {
        guard count > 0 else { throw InferenceError(.invalidArgument, "timedReplays needs a positive count, not \(count)") }
        let total = try timed { () throws(InferenceError) in
            for _ in 0..<count { try replay(step) }
        }
        return total / Double(count)
    }

    private func events() throws(InferenceError) -> (OpaquePointer, OpaquePointer) {
        if let timingEvents { return timingEvents }
        try makeCurrent()
        var start: OpaquePointer?
        var end: OpaquePointer?
        try driver.check(driver.api.cuEventCreate(&start, CUDAConstant.eventDefault), "cuEventCreate")
        do throws(InferenceError) {
            try driver.check(driver.api.cuEventCreate(&end, CUDAConstant.eventDefault), "cuEventCreate")
        } catch {
            if let start { _ = driver.api.cuEventDestroy(start) }
            throw error
        }
        guard let start, let end else { throw InferenceError(.deviceFailure, "cuEventCreate returned no event") }
        timingEvents = (start, end)
        return (start, end)
    }
}
