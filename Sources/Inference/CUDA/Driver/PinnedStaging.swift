import Glibc

/// Page-locked host memory through which a device's copies go, so they are truly asynchronous.
///
/// Uploads: the caller's bytes are copied into one of a few pinned chunks and the device copies from
/// there, so the caller may reuse its memory as soon as `upload` returns (the contract) while the copy
/// still waits its turn in the stream. Small uploads pack into the current chunk; an event recorded
/// after a chunk's last copy says when it may be overwritten, so the host blocks only when every chunk
/// still holds bytes the stream has not copied yet (a large upload streams through them in turn).
///
/// Downloads: the device copies into a pinned area and `finishDownloads` (at `synchronize`) copies the
/// bytes on to the caller's memory. A copy straight into pageable memory would block the host until the
/// stream drained; a download too large for the area does that instead, which is correct, only slower.
struct PinnedStaging {
    private struct Chunk {
        let base: UnsafeMutableRawPointer
        let drained: OpaquePointer  // an event, recorded after the chunk's last copy
        var recorded = false
    }
    private struct PendingDownload {
        let staged: UnsafeMutableRawPointer
        let destination: UnsafeMutableRawPointer
        let byteCount: Int
    }

    static let chunkBytes = 4 << 20
    static let chunkCount = 4
    static let downloadBytes = 8 << 20

    private var chunks: [Chunk] = []
    private var current = 0
    private var used = 0
    private let downloadArea: UnsafeMutableRawPointer
    private var downloadUsed = 0
    private var pending: [PendingDownload] = []
    private let driver: CUDADriver

    /// Allocates the pinned chunks, their events and the download area in the current context.
    init(driver: CUDADriver) throws(InferenceError) {
        self.driver = driver
        var area: UnsafeMutableRawPointer?
        try driver.check(driver.api.cuMemAllocHost(&area, Self.downloadBytes), "cuMemAllocHost_v2")
        guard let area else { throw InferenceError(.deviceFailure, "cuMemAllocHost_v2 returned no memory") }
        downloadArea = area
        for _ in 0..<Self.chunkCount {
            var base: UnsafeMutableRawPointer?
            var event: OpaquePointer?
            do throws(InferenceError) {
                try driver.check(driver.api.cuMemAllocHost(&base, Self.chunkBytes), "cuMemAllocHost_v2")
                try driver.check(driver.api.cuEventCreate(&event, CUDAConstant.eventDisableTiming), "cuEventCreate")
            } catch {
                if let base { _ = driver.api.cuMemFreeHost(base) }
                release()
                throw error
            }
            if let base, let event { chunks.append(Chunk(base: base, drained: event)) }
        }
    }

    /// Frees the pinned memory and events (after the stream has finished with them).
    func release() {
        for chunk in chunks {
            _ = driver.api.cuEventDestroy(chunk.drained)
            _ = driver.api.cuMemFreeHost(chunk.base)
        }
        _ = driver.api.cuMemFreeHost(downloadArea)
    }

    /// Copies `bytes` into pinned memory and enqueues their copy to `destination` on `stream`.
    mutating func upload(_ bytes: UnsafeRawBufferPointer, to destination: UInt64, stream: OpaquePointer) throws(InferenceError) {
        guard let source = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            if used == Self.chunkBytes { try advance(stream: stream) }
            let piece = min(bytes.count - done, Self.chunkBytes - used)
            let staged = chunks[current].base + used
            staged.copyMemory(from: source + done, byteCount: piece)
            try driver.check(
                driver.api.cuMemcpyHtoDAsync(destination + UInt64(done), staged, piece, stream), "cuMemcpyHtoDAsync_v2")
            // Mark the chunk's latest use after every piece (a large upload leaves chunks mid-loop): the
            // next writer into the chunk waits for this event.
            try driver.check(driver.api.cuEventRecord(chunks[current].drained, stream), "cuEventRecord")
            chunks[current].recorded = true
            used += piece
            done += piece
        }
    }

    /// Moves to the next chunk, waiting until the stream has copied everything out of it.
    private mutating func advance(stream: OpaquePointer) throws(InferenceError) {
        current = (current + 1) % chunks.count
        used = 0
        if chunks[current].recorded {
            try driver.check(driver.api.cuEventSynchronize(chunks[current].drained), "cuEventSynchronize")
            chunks[current].recorded = false
        }
    }

    /// Enqueues a copy from `source` into pinned memory, to reach `bytes` at `finishDownloads`.
    mutating func download(from source: UInt64, into bytes: UnsafeMutableRawBufferPointer, stream: OpaquePointer) throws(InferenceError) {
        guard let destination = bytes.baseAddress, bytes.count > 0 else { return }
        let aligned = (bytes.count + 255) & ~255
        guard downloadUsed + aligned <= Self.downloadBytes else {
            // Pageable destination: the driver returns only once the copy is done (correct, just blocking).
            try driver.check(driver.api.cuMemcpyDtoHAsync(destination, source, bytes.count, stream), "cuMemcpyDtoHAsync_v2")
            return
        }
        let staged = downloadArea + downloadUsed
        try driver.check(driver.api.cuMemcpyDtoHAsync(staged, source, bytes.count, stream), "cuMemcpyDtoHAsync_v2")
        pending.append(PendingDownload(staged: staged, destination: destination, byteCount: bytes.count))
        downloadUsed += aligned
    }

    /// After the stream has synchronized: hands the staged downloads to their destinations.
    mutating func finishDownloads() {
        for copy in pending { copy.destination.copyMemory(from: copy.staged, byteCount: copy.byteCount) }
        pending.removeAll(keepingCapacity: true)
        downloadUsed = 0
    }

    /// After a failed synchronize: the staged bytes are not trustworthy, so none are handed over.
    mutating func discardDownloads() {
        pending.removeAll(keepingCapacity: true)
        downloadUsed = 0
    }
}
