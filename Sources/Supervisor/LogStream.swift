import Glibc
import HTTPServer

/// `GET /v1/runs/{id}/logs`: one stream of a run's output from its log file; with `follow`, a
/// chunked response that keeps sending what the agent writes until the run has ended.
struct LogStream {
    let supervisor: Supervisor
    let runID: String
    let stream: String
    let follow: Bool

    func serve(_ responder: HTTPResponder) throws(SupervisorError) {
        guard stream == "stdout" || stream == "stderr" else {
            throw SupervisorError(.badRequest, "stream: expected stdout or stderr, got \"\(stream)\"")
        }
        let first = try supervisor.run(runID)
        let path = supervisor.store.logPath(runID, stream: stream)
        guard follow, !first.state.isFinal else {
            let bytes = (try? readFile(path, limit: 1 << 30)) ?? []
            var headers = HTTPHeaders()
            headers.add("Content-Type", "application/octet-stream")
            return responder.respond(HTTPResponse(status: 200, headers: headers, body: bytes))
        }
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/octet-stream")
        responder.startStream(status: 200, headers: headers)
        defer { responder.finish() }
        var fd: Int32 = -1
        defer { if fd >= 0 { close(fd) } }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            // Read the run's state before draining, so bytes written just before its end are sent.
            let ended = (try? supervisor.run(runID))?.state.isFinal ?? true
            if fd < 0 { fd = open(path, O_RDONLY | O_CLOEXEC) }
            if fd >= 0 {
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { break }
                    if !responder.write(Array(buffer[0..<n])) { return }
                }
            }
            if ended { return }
            // The file has no end-of-run marker: wake on the run's end, or every 50 ms for new output.
            supervisor.lock.withLock {
                if !(supervisor.runs[runID]?.state.isFinal ?? true) {
                    supervisor.lock.wait(untilMonotonic: monotonicNow() + 50_000_000)
                }
            }
        }
    }
}
