// SPDX-License-Identifier: Apache-2.0
import CSandboxLauncher
import Glibc

/// Path resolution confined to a directory (openat2), and the *at calls that work relative to it:
/// what the broker's fs tools use to stay inside an agent's workspace.
extension FileDescriptor {
    /// openat2's RESOLVE_* flags.
    public struct ResolveOptions: OptionSet, Sendable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
        /// RESOLVE_NO_XDEV: no mount-point crossings.
        public static let noCrossDevice = ResolveOptions(rawValue: 0x01)
        /// RESOLVE_NO_MAGICLINKS: no /proc/*/fd-style links.
        public static let noMagicLinks = ResolveOptions(rawValue: 0x02)
        /// RESOLVE_NO_SYMLINKS: no symlinks at all.
        public static let noSymlinks = ResolveOptions(rawValue: 0x04)
        /// RESOLVE_BENEATH: every step (`..`, absolute paths, symlinks) must stay beneath the directory.
        public static let beneath = ResolveOptions(rawValue: 0x08)
        /// RESOLVE_IN_ROOT: resolve as if the directory were the root.
        public static let inRoot = ResolveOptions(rawValue: 0x10)
    }

    /// Opens `path` relative to this directory with openat2; with `.beneath` the kernel refuses
    /// (EXDEV) any resolution that would leave it. Close-on-exec.
    /// The corresponding C function is `openat2` (syscall 437).
    public func open(beneath path: String, _ mode: AccessMode, options: OpenOptions = [], permissions: mode_t = 0,
                     resolve: ResolveOptions = [.beneath, .noMagicLinks]) throws(Errno) -> FileDescriptor {
        let flags = UInt64(UInt32(bitPattern: mode.flags | options.rawValue | O_CLOEXEC))
        let creates = options.contains(.create)
        let fd = try valueOrErrno {
            warden_openat2(rawValue, path, flags, creates ? UInt64(permissions) : 0, resolve.rawValue)
        }
        return FileDescriptor(rawValue: fd)
    }

    /// What kind of file a descriptor or directory entry is.
    public enum FileKind: String, Sendable {
        case regular = "file", directory, symbolicLink = "symlink", other

        init(mode: mode_t) {
            switch mode & S_IFMT {
            case S_IFREG: self = .regular
            case S_IFDIR: self = .directory
            case S_IFLNK: self = .symbolicLink
            default: self = .other
            }
        }
    }

    /// The parts of `struct stat` the tools use.
    public struct Status: Sendable {
        public var kind: FileKind
        public var size: Int64
        public var permissions: mode_t
        public var owner: uid_t
        public var group: gid_t
    }

    /// fstat. The corresponding C function is `fstat`.
    public func status() throws(Errno) -> Status {
        var info = stat()
        try nothingOrErrno { fstat(rawValue, &info) }
        return Status(kind: FileKind(mode: info.st_mode), size: Int64(info.st_size), permissions: info.st_mode & 0o7777,
                      owner: info.st_uid, group: info.st_gid)
    }

    /// The status of `name` in this directory, without following a final symlink.
    /// The corresponding C function is `fstatat(AT_SYMLINK_NOFOLLOW)`.
    public func status(ofEntry name: String) throws(Errno) -> Status {
        var info = stat()
        try nothingOrErrno { fstatat(rawValue, name, &info, AT_SYMLINK_NOFOLLOW) }
        return Status(kind: FileKind(mode: info.st_mode), size: Int64(info.st_size), permissions: info.st_mode & 0o7777,
                      owner: info.st_uid, group: info.st_gid)
    }

    /// Renames `name` to `newName`, both in this directory; replaces `newName` atomically (a symlink
    /// there is replaced, never followed). The corresponding C function is `renameat`.
    public func rename(entry name: String, to newName: String) throws(Errno) {
        try nothingOrErrno { renameat(rawValue, name, rawValue, newName) }
    }

    /// Removes `name` from this directory. The corresponding C function is `unlinkat`.
    public func remove(entry name: String, directory: Bool = false) throws(Errno) {
        try nothingOrErrno { unlinkat(rawValue, name, directory ? AT_REMOVEDIR : 0) }
    }

    /// Creates the directory `name` here. The corresponding C function is `mkdirat`.
    public func makeDirectory(entry name: String, permissions: mode_t = 0o755) throws(Errno) {
        try nothingOrErrno { mkdirat(rawValue, name, permissions) }
    }

    /// Changes the owner. The corresponding C function is `fchown`.
    public func changeOwner(user: uid_t, group: gid_t) throws(Errno) {
        try nothingOrErrno { fchown(rawValue, user, group) }
    }

    /// Flushes the file to storage. The corresponding C function is `fsync`.
    public func synchronize() throws(Errno) {
        try nothingOrErrno { fsync(rawValue) }
    }

    /// The path the kernel has for this descriptor (`/proc/self/fd/N`), or nil.
    public func resolvedPath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/fd/\(rawValue)", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The entries of this directory (without `.` and `..`), at most `limit`, with their kinds
    /// (from the directory entry itself: a symlink is reported as a symlink, not followed).
    /// The corresponding C functions are `openat`, `fdopendir`, `readdir`.
    public func directoryEntries(limit: Int) throws(Errno) -> (entries: [(name: String, kind: FileKind)], truncated: Bool) {
        let fd = try valueOrErrno { warden_openat(rawValue, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0) }
        guard let stream = fdopendir(fd) else {
            let error = Errno.current
            Glibc.close(fd)
            throw error
        }
        defer { closedir(stream) }
        return Self.readEntries(stream, limit: limit)
    }

    /// The entries of the directory at `path` (without `.` and `..`), with the kinds their directory
    /// entries report. The corresponding C functions are `opendir`, `readdir`.
    public static func directoryEntries(atPath path: String) throws(Errno) -> [(name: String, kind: FileKind)] {
        guard let stream = opendir(path) else { throw Errno.current }
        defer { closedir(stream) }
        return readEntries(stream, limit: .max).entries
    }

    /// Reads an open directory stream to its end or to `limit` entries.
    private static func readEntries(_ stream: OpaquePointer, limit: Int) -> (entries: [(name: String, kind: FileKind)], truncated: Bool) {
        var entries: [(name: String, kind: FileKind)] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if entries.count == limit { return (entries, true) }
            let kind: FileKind = switch Int32(entry.pointee.d_type) {
            case Int32(DT_REG): .regular
            case Int32(DT_DIR): .directory
            case Int32(DT_LNK): .symbolicLink
            default: .other
            }
            entries.append((name, kind))
        }
        return (entries, false)
    }
}

extension FileDescriptor {
    /// Sets or clears O_NONBLOCK. The corresponding C function is `fcntl(F_SETFL)`.
    public func setNonBlocking(_ enabled: Bool) throws(Errno) {
        let flags = try valueOrErrno { system_fcntl(rawValue, F_GETFL) }
        try nothingOrErrno { system_fcntl(rawValue, F_SETFL, enabled ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) }
    }
}
