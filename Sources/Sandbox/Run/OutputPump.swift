import Glibc

/// Copies one of the agent's output pipes to a destination, up to a byte limit; past the limit the
/// pipe is still drained (so the agent never blocks on a full pipe) but the bytes are dropped.
///
/// One fixed buffer per pump: the supervisor's memory stays flat however much the agent writes.
final class OutputPump {
    /// Where forwarded bytes go.
    enum Sink {
        /// Written to this file descriptor (the supervisor's own stdout or stderr).
        case descriptor(Int32)
        /// Kept in memory (the in-process API's captured output, bounded by the same limit).
        case capture
        /// Thrown away.
        case discard
    }

    let source: Int32
    let sink: Sink
    let limit: Int
    private(set) var forwarded = 0
    private(set) var dropped = 0
    private(set) var captured: [UInt8] = []
    private(set) var isOpen = true
    private var buffer: UnsafeMutableRawBufferPointer
    /// Sees every chunk read, before the forwarding limit (the trace applies its own bound).
    var tap: ((UnsafeRawBufferPointer) -> Void)?

    init(source: Int32, sink: Sink, limit: Int) {
        self.source = source
        self.sink = sink
        self.limit = limit
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    }

    /// Reads what is available once; marks the pump closed at end of file.
    func pump() {
        guard isOpen else { return }
        let n = read(source, buffer.baseAddress, buffer.count)
        if n < 0 {
            if errno == EINTR || errno == EAGAIN { return }
            finish()
            return
        }
        if n == 0 { finish(); return }
        tap?(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
        let keep = min(n, max(0, limit - forwarded))
        if keep > 0 { deliver(UnsafeRawBufferPointer(rebasing: buffer[0..<keep])) }
        forwarded += keep
        dropped += n - keep
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer) {
        switch sink {
        case .descriptor(let fd):
            var offset = 0
            while offset < bytes.count {
                let w = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if w < 0 && errno == EINTR { continue }
                if w <= 0 { return }  // our own stdout went away: keep draining, stop copying
                offset += w
            }
        case .capture:
            captured.append(contentsOf: bytes)
        case .discard:
            break
        }
    }

    deinit { finish() }

    /// Closes the read end and frees the buffer.
    func finish() {
        guard isOpen else { return }
        isOpen = false
        close(source)
        buffer.deallocate()
    }
}
