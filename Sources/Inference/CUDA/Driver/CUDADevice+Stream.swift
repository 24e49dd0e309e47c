/// The stream-ordered work of ``CUDADevice``: copies, fills, launches and waiting for them.
extension CUDADevice {
    public func upload(_ bytes: UnsafeRawBufferPointer, to buffer: DeviceBuffer, offset: Int) throws(InferenceError) {
        try checkRange(buffer, offset: offset, count: bytes.count, "upload")
        try refuseWhileRecording("upload")
        try makeCurrent()
        try staging.upload(bytes, to: buffer.address(at: offset), stream: stream)
    }

    public func download(_ buffer: DeviceBuffer, offset: Int, into bytes: UnsafeMutableRawBufferPointer) throws(InferenceError) {
        try checkRange(buffer, offset: offset, count: bytes.count, "download")
        try refuseWhileRecording("download")
        try makeCurrent()
        try staging.download(from: buffer.address(at: offset), into: bytes, stream: stream)
    }

    public func fill(_ buffer: DeviceBuffer, offset: Int, byteCount: Int, value: UInt8) throws(InferenceError) {
        try checkRange(buffer, offset: offset, count: byteCount, "fill")
        guard byteCount > 0 else { return }
        try makeCurrent()
        try driver.check(driver.api.cuMemsetD8Async(buffer.address(at: offset), value, byteCount, stream), "cuMemsetD8Async")
    }

    public func launch(_ kernel: Kernel, _ shape: LaunchShape, _ arguments: [KernelArgument]) throws(InferenceError) {
        guard let function = module.functions[kernel] else {
            throw InferenceError(.deviceFailure, "\(kernel.rawValue) is not in the loaded module")
        }
        try makeCurrent()
        try raiseSharedLimit(kernel, function, to: shape.sharedBytes)
        let parameters = KernelParameters(arguments)
        let result = parameters.withPointers { pointers in
            driver.api.cuLaunchKernel(
                function, shape.grid.x, shape.grid.y, shape.grid.z, shape.block.x, shape.block.y, shape.block.z,
                shape.sharedBytes, stream, pointers, nil)
        }
        try driver.check(result, "cuLaunchKernel(\(kernel.rawValue), grid \(shape.grid), block \(shape.block), shared \(shape.sharedBytes))")
        if let count = capturedLaunches {
            capturedLaunches = count + 1
        } else if !launchedSinceSync.contains(kernel) {
            launchedSinceSync.append(kernel)
        }
    }

    public func synchronize() throws(InferenceError) {
        try refuseWhileRecording("synchronize")  // it would invalidate the capture
        try makeCurrent()
        let result = driver.api.cuStreamSynchronize(stream)
        let names = launchedSinceSync.map(\.rawValue) + (replayedSinceSync ? ["a replayed step"] : [])
        launchedSinceSync.removeAll(keepingCapacity: true)
        replayedSinceSync = false
        guard result == CUDAConstant.success else {
            staging.discardDownloads()
            // A fault inside a kernel surfaces here, with no kernel named by the driver: list the suspects.
            let suspects = names.isEmpty ? "" : " after launches of \(names.joined(separator: ", "))"
            throw InferenceError(.deviceFailure, "cuStreamSynchronize on \(name) failed\(suspects): \(driver.describe(result))")
        }
        staging.finishDownloads()
    }

    /// Raises a kernel's dynamic shared-memory limit when a launch asks for more than 48 KiB (once per
    /// new maximum; the device's opt-in limit bounds it, and the driver rejects anything beyond).
    private func raiseSharedLimit(_ kernel: Kernel, _ function: OpaquePointer, to bytes: UInt32) throws(InferenceError) {
        guard bytes > CUDAConstant.defaultDynamicSharedLimit, bytes > sharedLimits[kernel, default: 0] else { return }
        guard Int(bytes) <= info.maxSharedBytesPerBlock else {
            throw InferenceError(.invalidArgument, """
                \(kernel.rawValue) asks for \(bytes) bytes of shared memory; \(name) allows \(info.maxSharedBytesPerBlock) per block
                """)
        }
        try driver.check(
            driver.api.cuFuncSetAttribute(function, CUDAConstant.funcMaxDynamicSharedBytes, Int32(bytes)),
            "cuFuncSetAttribute(\(kernel.rawValue), max dynamic shared \(bytes))")
        sharedLimits[kernel] = bytes
    }

    private func checkRange(_ buffer: DeviceBuffer, offset: Int, count: Int, _ what: String) throws(InferenceError) {
        guard offset >= 0, count >= 0, offset <= buffer.byteCount, count <= buffer.byteCount - offset else {
            throw InferenceError(.invalidArgument, "\(what) of \(count) bytes at offset \(offset) outside a \(buffer.byteCount)-byte buffer")
        }
    }

    /// Copies inside a graph would replay stale staging bytes; the contract keeps them out of `record`.
    private func refuseWhileRecording(_ what: String) throws(InferenceError) {
        guard capturedLaunches == nil else {
            throw InferenceError(.invalidArgument, "\(what) inside record(_:): a recorded step may only launch kernels")
        }
    }
}
