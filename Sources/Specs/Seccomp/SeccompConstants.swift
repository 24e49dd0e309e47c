/// Named constants a policy may use: errno names for deny actions and argument values for rules.
/// Values are Linux x86_64 (asm-generic errno; <sys/socket.h>, <sched.h>, <asm/ioctls.h>,
/// <sys/personality.h>), written out because a policy must mean the same thing on every build host.
public enum SeccompConstants {
    /// errno names accepted in `{"errno": "EPERM"}`.
    public static let errnos: [String: Int32] = [
        "EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "ENXIO": 6, "E2BIG": 7, "ENOEXEC": 8,
        "EBADF": 9, "ECHILD": 10, "EAGAIN": 11, "ENOMEM": 12, "EACCES": 13, "EFAULT": 14, "EBUSY": 16,
        "EEXIST": 17, "EXDEV": 18, "ENODEV": 19, "ENOTDIR": 20, "EISDIR": 21, "EINVAL": 22, "ENFILE": 23,
        "EMFILE": 24, "ENOTTY": 25, "ETXTBSY": 26, "EFBIG": 27, "ENOSPC": 28, "ESPIPE": 29, "EROFS": 30,
        "EMLINK": 31, "EPIPE": 32, "ERANGE": 34, "ENOSYS": 38, "ENOTSUP": 95, "EOPNOTSUPP": 95,
        "EPROTONOSUPPORT": 93, "EAFNOSUPPORT": 97, "EADDRNOTAVAIL": 99, "ENETUNREACH": 101, "ECONNREFUSED": 111,
    ]

    /// Argument value names accepted in rules (`"value": "AF_UNIX"`, `"mask": "CLONE_NEWUSER|CLONE_NEWNET"`).
    public static let values: [String: UInt64] = [
        // Socket address families.
        "AF_UNSPEC": 0, "AF_UNIX": 1, "AF_LOCAL": 1, "AF_INET": 2, "AF_AX25": 3, "AF_IPX": 4, "AF_APPLETALK": 5,
        "AF_INET6": 10, "AF_KEY": 15, "AF_NETLINK": 16, "AF_PACKET": 17, "AF_BLUETOOTH": 31, "AF_ALG": 38,
        "AF_VSOCK": 40, "AF_XDP": 44, "AF_MAX": 46,
        // Namespace flags of clone and unshare.
        "CLONE_NEWTIME": 0x80, "CLONE_NEWNS": 0x0002_0000, "CLONE_NEWCGROUP": 0x0200_0000,
        "CLONE_NEWUTS": 0x0400_0000, "CLONE_NEWIPC": 0x0800_0000, "CLONE_NEWUSER": 0x1000_0000,
        "CLONE_NEWPID": 0x2000_0000, "CLONE_NEWNET": 0x4000_0000,
        // Terminal ioctls that inject input or poke the console.
        "TIOCSTI": 0x5412, "TIOCLINUX": 0x541C, "TIOCSETD": 0x5423,
        // personality(2) domains.
        "PER_LINUX": 0, "PER_LINUX32": 0x0008, "UNAME26": 0x0002_0000, "PERSONALITY_QUERY": 0xFFFF_FFFF,
        // Masks.
        "UINT32_MAX": 0xFFFF_FFFF,
    ]

    /// The errno name for `value`, for display ("EPERM"), or the number.
    public static func errnoName(_ value: Int32) -> String {
        let names = errnos.filter { $0.value == value }.map(\.key).sorted()
        return names.first(where: { $0 != "EOPNOTSUPP" && $0 != "ENOTSUP" }) ?? names.first ?? String(value)
    }

    /// Resolves `"A|B|0x10"` to a number; nil with the offending part when a name is unknown.
    static func resolveValue(_ text: String) -> ResolvedValue {
        if let number = values[text] { return .success(number) }
        var total: UInt64 = 0
        for rawPart in text.split(separator: "|", omittingEmptySubsequences: false) {
            let part = rawPart.trimmingSpaces
            if let number = values[part] {
                total |= number
            } else if part.hasPrefix("0x"), let number = UInt64(part.dropFirst(2), radix: 16) {
                total |= number
            } else if let number = UInt64(part) {
                total |= number
            } else {
                return .failure(part)
            }
        }
        return .success(total)
    }
}

/// A resolved argument value, or the part of the text that names no constant.
enum ResolvedValue {
    case success(UInt64)
    case failure(String)
}

extension Substring {
    /// The text without leading and trailing spaces.
    var trimmingSpaces: String {
        let bytes = utf8
        guard let first = bytes.firstIndex(where: { $0 != 0x20 }), let last = bytes.lastIndex(where: { $0 != 0x20 }) else { return "" }
        return String(self[first...last])
    }
}
