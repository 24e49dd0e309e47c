/// A CUDA graph exec made by ``CUDADevice/record(_:)``: the handle inside a ``RecordedStep``.
final class CUDAGraph: @unchecked Sendable {  // used only through its device, whose calls never overlap
    /// The executable graph; nil once released.
    var exec: OpaquePointer?
    /// The device that made it: a graph exec belongs to one context.
    let owner: ObjectIdentifier

    init(exec: OpaquePointer, owner: ObjectIdentifier) {
        self.exec = exec
        self.owner = owner
    }
}

/// Recording a step as a CUDA graph (stream capture), and replaying it with one `cuGraphLaunch`.
extension CUDADevice {
    public func record(_ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep {
        let (graph, launches) = try capture(body)
        defer { _ = driver.api.cuGraphDestroy(graph) }
        var exec: OpaquePointer?
        try driver.check(driver.api.cuGraphInstantiateWithFlags(&exec, graph, 0), "cuGraphInstantiateWithFlags")
        guard let exec else { throw InferenceError(.deviceFailure, "cuGraphInstantiateWithFlags returned no graph") }
        return RecordedStep(handle: CUDAGraph(exec: exec, owner: ObjectIdentifier(self)), launchCount: launches)
    }

    public func replay(_ step: RecordedStep) throws(InferenceError) {
        let exec = try graphExec(step)
        try makeCurrent()
        try driver.check(driver.api.cuGraphLaunch(exec, stream), "cuGraphLaunch")
        if capturedLaunches == nil { replayedSinceSync = true }
    }

    public func release(_ step: RecordedStep) {
        guard let graph = step.handle as? CUDAGraph, graph.owner == ObjectIdentifier(self), let exec = graph.exec else { return }
        guard (try? makeCurrent()) != nil else { return }
        _ = driver.api.cuGraphExecDestroy(exec)
        graph.exec = nil
    }

    /// Records `body` again for a step whose launches changed (say the batch grew): the existing graph
    /// exec is updated in place with `cuGraphExecUpdate_v2` when the new graph has the same topology
    /// (same kernels, other arguments or shapes), which is much cheaper than instantiating; otherwise the
    /// old exec is released and a new one instantiated. Returns the step to replay from now on.
    public func update(_ step: RecordedStep, _ body: () throws(InferenceError) -> Void) throws(InferenceError) -> RecordedStep {
        let exec = try graphExec(step)
        let (graph, launches) = try capture(body)
        defer { _ = driver.api.cuGraphDestroy(graph) }
        // CUgraphExecUpdateResultInfo: { CUgraphExecUpdateResult result; CUgraphNode errorNode, errorFromNode }.
        var resultInfo = (UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        let updated = withUnsafeMutableBytes(of: &resultInfo) { driver.api.cuGraphExecUpdate(exec, graph, $0.baseAddress) }
        if updated == CUDAConstant.success {
            return RecordedStep(handle: step.handle, launchCount: launches)
        }
        release(step)
        var fresh: OpaquePointer?
        try driver.check(driver.api.cuGraphInstantiateWithFlags(&fresh, graph, 0), "cuGraphInstantiateWithFlags")
        guard let fresh else { throw InferenceError(.deviceFailure, "cuGraphInstantiateWithFlags returned no graph") }
        return RecordedStep(handle: CUDAGraph(exec: fresh, owner: ObjectIdentifier(self)), launchCount: launches)
    }

    /// Runs `body` with the stream in capture mode and returns the captured graph and its launch count.
    /// Capture always ends, even when `body` throws, so the stream is never left capturing.
    private func capture(_ body: () throws(InferenceError) -> Void) throws(InferenceError) -> (OpaquePointer, Int) {
        guard capturedLaunches == nil else { throw InferenceError(.invalidArgument, "record(_:) inside record(_:)") }
        try makeCurrent()
        // Thread-local mode: other threads' CUDA calls (another device's worker) do not break this capture.
        try driver.check(driver.api.cuStreamBeginCapture(stream, CUDAConstant.captureModeThreadLocal), "cuStreamBeginCapture_v2")
        capturedLaunches = 0
        var failure: InferenceError?
        do throws(InferenceError) { try body() } catch { failure = error }
        let launches = capturedLaunches ?? 0
        capturedLaunches = nil
        var graph: OpaquePointer?
        let ended = driver.api.cuStreamEndCapture(stream, &graph)
        if let failure {
            if let graph { _ = driver.api.cuGraphDestroy(graph) }
            throw failure
        }
        try driver.check(ended, "cuStreamEndCapture")
        guard let graph else { throw InferenceError(.deviceFailure, "cuStreamEndCapture returned no graph") }
        return (graph, launches)
    }

    private func graphExec(_ step: RecordedStep) throws(InferenceError) -> OpaquePointer {
        guard let graph = step.handle as? CUDAGraph, graph.owner == ObjectIdentifier(self) else {
            throw InferenceError(.invalidArgument, "a step recorded by another device cannot run on \(name)")
        }
        guard let exec = graph.exec else { throw InferenceError(.invalidArgument, "the recorded step was released") }
        return exec
    }
}
