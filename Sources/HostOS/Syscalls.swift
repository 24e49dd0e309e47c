// SPDX-License-Identifier: Apache-2.0
// One internal `system_<name>` per system call, as swift-system does: the public API above them
// never calls libc directly, so each call site is one place to read (and to instrument).
import CSandboxLauncher
import Glibc

internal func system_open(_ path: UnsafePointer<CChar>, _ flags: Int32, _ mode: mode_t) -> Int32 {
    warden_open(path, flags, UInt32(mode))
}

internal func system_close(_ fd: Int32) -> Int32 { close(fd) }

internal func system_read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}

internal func system_write(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
    write(fd, buffer, count)
}

internal func system_dup3(_ fd: Int32, _ target: Int32, _ flags: Int32) -> Int32 { warden_dup3(fd, target, flags) }

internal func system_fcntl(_ fd: Int32, _ command: Int32) -> Int32 { warden_fcntl(fd, command) }

internal func system_fcntl(_ fd: Int32, _ command: Int32, _ argument: Int32) -> Int32 {
    warden_fcntl_int(fd, command, argument)
}

internal func system_pipe2(_ fds: UnsafeMutablePointer<Int32>, _ flags: Int32) -> Int32 { warden_pipe2(fds, flags) }

internal func system_socketpair(_ domain: Int32, _ type: Int32, _ proto: Int32, _ fds: UnsafeMutablePointer<Int32>) -> Int32 {
    socketpair(domain, type, proto, fds)
}

internal func system_memfd_create(_ name: UnsafePointer<CChar>, _ flags: UInt32) -> Int32 {
    warden_memfd_create(name, flags)
}

internal func system_pidfd_open(_ pid: pid_t, _ flags: UInt32) -> Int32 { warden_pidfd_open(pid, flags) }

internal func system_pidfd_send_signal(_ pidfd: Int32, _ signal: Int32, _ flags: UInt32) -> Int32 {
    warden_pidfd_send_signal(pidfd, signal, flags)
}

internal func system_waitid_pidfd(
    _ pidfd: Int32, _ options: Int32, _ code: inout Int32, _ status: inout Int32, _ pid: inout pid_t
) -> Int32 {
    warden_waitid_pidfd(pidfd, options, &code, &status, &pid)
}

internal func system_poll(_ fds: UnsafeMutablePointer<pollfd>, _ count: Int, _ timeout: Int32) -> Int32 {
    poll(fds, nfds_t(count), timeout)
}

internal func system_sendfds(
    _ socket: Int32, _ fds: UnsafePointer<Int32>?, _ count: Int32, _ bytes: UnsafeRawPointer, _ length: Int
) -> Int32 {
    warden_sendfds(socket, fds, count, bytes, length)
}

internal func system_recvfds(
    _ socket: Int32, _ fds: UnsafeMutablePointer<Int32>, _ max: Int32, _ received: inout Int32,
    _ bytes: UnsafeMutableRawPointer, _ capacity: Int, _ flags: Int32
) -> Int {
    warden_recvfds(socket, fds, max, &received, bytes, capacity, flags)
}
