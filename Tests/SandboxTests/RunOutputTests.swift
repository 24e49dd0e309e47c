import Glibc
import Testing
@testable import Sandbox

/// The output pump against a real writer process flooding a real pipe.
@Suite("run output pump")
struct RunOutputTests {
    @Test("a flood is forwarded up to the limit, then drained and dropped; the writer finishes",
          arguments: [0, 4096, 1 << 20])
    func bounded(limit: Int) throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let total = 64 << 20
        let pid = try CgroupHost.spawnWriting(["/usr/bin/head", "-c", String(total), "/dev/zero"], stdout: fds[1],
                                              closing: fds[0])
        close(fds[1])
        let pump = OutputPump(source: fds[0], sink: .capture, limit: limit)
        while pump.isOpen {
            var entry = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
            _ = poll(&entry, 1, -1)
            pump.pump()
        }
        #expect(CgroupHost.wait(pid).code == 0, "the writer was never blocked for good")
        #expect(pump.forwarded == limit)
        #expect(pump.captured.count == limit)
        #expect(pump.forwarded + pump.dropped == total)
    }

    @Test("descriptor sinks receive the bytes in order")
    func descriptorSink() throws {
        var source: [Int32] = [0, 0], sink: [Int32] = [0, 0]
        #expect(pipe(&source) == 0 && pipe(&sink) == 0)
        let text = Array("hello, sandbox\n".utf8)
        _ = text.withUnsafeBytes { write(source[1], $0.baseAddress, $0.count) }
        close(source[1])
        let pump = OutputPump(source: source[0], sink: .descriptor(sink[1]), limit: 5)
        while pump.isOpen { pump.pump() }
        close(sink[1])
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = read(sink[0], &buffer, 64)
        close(sink[0])
        #expect(Array(buffer[0..<max(0, n)]) == Array("hello".utf8))
        #expect(pump.dropped == text.count - 5)
    }
}
