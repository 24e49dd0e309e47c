import Glibc
import HostOS

/// Answers audited syscalls (SECCOMP_RET_USER_NOTIF) on the filter's listener fd: for each one it
/// reports a `Denial` (syscall name, number, arguments as numbers, pid, time) and then answers with
/// the policy's errno, so the record exists before the agent sees the failure. Arguments are only
/// recorded, never dereferenced: no decision may rest on memory the agent can still change.
///
/// Runs on its own thread; `stop()` ends it after the run (the listener also reports POLLHUP once
/// every process using the filter has exited).
public final class SeccompAuditor: @unchecked Sendable {
    /// One audited syscall, refused.
    public struct Denial: Sendable {
        public var pid: Int32
        public var number: Int32
        public var name: String
        public var arguments: [UInt64]
        public var errno: Int32
        public var architecture: UInt32
        public var timestampNanos: UInt64
    }

    // <linux/seccomp.h>: _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp).
    static let notifReceive: UInt = 0xC050_2100
    static let notifSend: UInt = 0xC018_2101
    static let notifSize = 80, responseSize = 24

    private let listener: Int32
    private let audited: [Int32: (name: String, errno: Int32)]
    private let onDenial: @Sendable (Denial) -> Void
    private var stopPipe: (read: Int32, write: Int32) = (-1, -1)
    private var thread = pthread_t()

    /// Starts answering notifications on `listener` (owned by the caller, who closes it after `stop()`).
    public init(listener: Int32, audited: [(name: String, number: Int32, errno: Int32)],
                onDenial: @escaping @Sendable (Denial) -> Void) throws(Errno) {
        self.listener = listener
        var table: [Int32: (name: String, errno: Int32)] = [:]
        for entry in audited { table[entry.number] = (entry.name, entry.errno) }
        self.audited = table
        self.onDenial = onDenial
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw Errno(rawValue: errno) }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        stopPipe = (fds[0], fds[1])
        let context = Unmanaged.passRetained(self).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            Unmanaged<SeccompAuditor>.fromOpaque(raw).takeRetainedValue().loop()
            return nil
        }, context)
        guard rc == 0 else {
            Unmanaged<SeccompAuditor>.fromOpaque(context).release()
            close(fds[0]); close(fds[1])
            throw Errno(rawValue: rc)
        }
    }

    /// Stops the thread and waits for it; idempotent.
    public func stop() {
        guard stopPipe.write >= 0 else { return }
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
        pthread_join(thread, nil)
        close(stopPipe.write); close(stopPipe.read)
        stopPipe = (-1, -1)
    }

    private func loop() {
        while true {
            var fds = [pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: stopPipe.read, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 { if errno == EINTR { continue }; return }
            if fds[1].revents != 0 { return }
            if fds[0].revents & Int16(POLLIN) != 0 { answerOne(); continue }
            if fds[0].revents != 0 { return }  // POLLHUP: no process uses the filter any more
        }
    }

    /// Receives one notification (into a zeroed buffer, as the kernel requires), reports it, answers it.
    private func answerOne() {
        var notification = [UInt8](repeating: 0, count: Self.notifSize)
        let received = notification.withUnsafeMutableBytes { ioctl(listener, Self.notifReceive, $0.baseAddress!) }
        guard received == 0 else { return }  // ENOENT: the caller died before we read it; EINTR: poll again
        let id: UInt64 = load(notification, 0), pid: UInt32 = load(notification, 8)
        let number: Int32 = load(notification, 16), arch: UInt32 = load(notification, 20)
        let arguments: [UInt64] = (0..<6).map { load(notification, 32 + 8 * $0) }
        let entry = audited[number] ?? (name: "syscall_\(number)", errno: EPERM)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        onDenial(Denial(pid: Int32(bitPattern: pid), number: number, name: entry.name, arguments: arguments,
                        errno: entry.errno, architecture: arch,
                        timestampNanos: UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)))
        var response = [UInt8](repeating: 0, count: Self.responseSize)
        store(&response, 0, id)
        store(&response, 16, -entry.errno)  // val 0, error -errno, flags 0
        _ = response.withUnsafeMutableBytes { ioctl(listener, Self.notifSend, $0.baseAddress!) }  // ENOENT if it died meanwhile
    }

    private func load<T: FixedWidthInteger>(_ bytes: [UInt8], _ offset: Int) -> T {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
    }

    private func store<T: FixedWidthInteger>(_ bytes: inout [UInt8], _ offset: Int, _ value: T) {
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value, toByteOffset: offset, as: T.self) }
    }
}
