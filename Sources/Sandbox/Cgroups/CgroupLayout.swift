import CSandboxLauncher
import Glibc

extension Cgroups {
    /// Where this host mounts its cgroup hierarchies and where this process sits in each.
    public struct Layout: Sendable, Equatable {
        /// One mounted hierarchy: its mount point and this process's group directory in it.
        public struct Hierarchy: Sendable, Equatable {
            /// The cgroupfs mount point (for example `/sys/fs/cgroup/memory`).
            public var mountPoint: String
            /// The directory of this process's own group (mount point + own path).
            public var ownDirectory: String
            /// The v1 controllers bound to this hierarchy (empty for cgroup2).
            public var controllers: Set<Controller>
        }

        /// The mode runs will use.
        public var mode: Mode
        /// v1 hierarchies carrying controllers Warden uses, one per mount.
        public var v1: [Hierarchy]
        /// The cgroup2 hierarchy, if mounted.
        public var v2: Hierarchy?
        /// Controllers enabled for delegation in v2 (from cgroup.controllers of our group).
        public var v2Controllers: Set<Controller>
        /// Why the mode is `none`, or other notes about the layout.
        public var note: String?

        /// Detects the layout of the running host from /proc/self/cgroup and the conventional
        /// mount points under /sys/fs/cgroup, or from /proc/self/mountinfo where those do not
        /// account for every hierarchy (see `conventional`).
        public static func detect() -> Layout {
            let membership = CgroupFile.read("/proc/self/cgroup") ?? ""
            return finished(conventional(cgroup: membership, probe: MountProbe.host)
                ?? parse(mountinfo: CgroupFile.read("/proc/self/mountinfo") ?? "", cgroup: membership))
        }

        /// Detection from mountinfo only (the general path; `detect` takes it when the fast one cannot).
        static func detectFromMountinfo() -> Layout {
            finished(parse(mountinfo: CgroupFile.read("/proc/self/mountinfo") ?? "",
                           cgroup: CgroupFile.read("/proc/self/cgroup") ?? ""))
        }

        /// Controllers, mode and writability, once the hierarchies are known.
        private static func finished(_ found: Layout) -> Layout {
            var layout = found
            if let v2 = layout.v2 {
                let available = CgroupFile.read(v2.ownDirectory + "/cgroup.controllers") ?? ""
                layout.v2Controllers = Set(available.split(whereSeparator: { $0 == " " || $0 == "\n" })
                    .compactMap { Controller(rawValue: String($0)) })
            }
            layout.mode = layout.chooseMode()
            if layout.mode == .none && layout.note == nil {
                layout.note = "no cgroup hierarchy with memory or pids controllers is mounted"
            }
            if layout.mode != .none, let unwritable = layout.unwritableDirectory() {
                // Typical for an unprivileged user without a delegated subtree: fall back to
                // rlimits and the pid namespace, and say so in every run's report.
                layout.note = "cgroups are not writable here (\(unwritable), uid \(geteuid())): only rlimits and the pid namespace bound the run"
                layout.mode = .none
            }
            return layout
        }

        /// What a path is, as far as layout detection cares (statfs's f_type).
        enum MountKind: Equatable { case cgroup2, cgroup1, other }

        /// The file-system questions `conventional` asks, answered by the host or by a test.
        struct MountProbe: Sendable {
            /// The kind of file system at a path, nil when the path does not exist.
            var kind: @Sendable (String) -> MountKind?

            static let host = MountProbe { path in
                let type = warden_fs_type(path)
                guard type >= 0 else { return nil }
                switch type {
                case 0x6367_7270: return .cgroup2      // CGROUP2_SUPER_MAGIC
                case 0x0027_e0eb: return .cgroup1      // CGROUP_SUPER_MAGIC
                default: return .other
                }
            }
        }

        /// The layout without reading /proc/self/mountinfo, whose generation costs ~150 µs in a
        /// fresh process here (a tenth of `warden exec`'s work before the launch): every hierarchy
        /// named in /proc/self/cgroup is looked for where systemd, Docker and the distributions
        /// mount it (`/sys/fs/cgroup` for a pure cgroup2 host; `/sys/fs/cgroup/<controllers>` and
        /// `/sys/fs/cgroup/unified` otherwise), its kind checked with statfs and this process's own
        /// directory required to exist there. Anything else (a hierarchy mounted elsewhere, a
        /// mounted subtree, a missing directory) returns nil and detection reads mountinfo.
        static func conventional(cgroup: String, probe: MountProbe) -> Layout? {
            let base = "/sys/fs/cgroup"
            var layout = Layout(mode: .none, v1: [], v2: nil, v2Controllers: [], note: nil)
            let (lines, torn) = Membership.lines(cgroup)
            guard !torn else { return nil }
            switch probe.kind(base) {
            case .cgroup2:
                // Pure v2: the single line "0::<path>", and nothing else that is mounted.
                guard lines.count == 1, lines[0].id == "0", lines[0].controllers.isEmpty else { return nil }
                let own = join(base, lines[0].path, root: "/")
                guard own == base || probe.kind(own) == .cgroup2 else { return nil }
                layout.v2 = Hierarchy(mountPoint: base, ownDirectory: own, controllers: [])
            case .other:
                for line in lines {
                    if line.id == "0" {
                        guard line.controllers.isEmpty else { return nil }
                        let mount = base + "/unified"
                        guard probe.kind(mount) == .cgroup2 else { return nil }
                        let own = join(mount, line.path, root: "/")
                        guard own == mount || probe.kind(own) == .cgroup2 else { return nil }
                        layout.v2 = Hierarchy(mountPoint: mount, ownDirectory: own, controllers: [])
                        continue
                    }
                    let controllers = Membership.controllers(line.controllers)
                    if controllers.isEmpty { continue }   // name=systemd, net_cls, ...: not ours
                    let mount = base + "/" + line.controllers
                    guard probe.kind(mount) == .cgroup1 else { return nil }
                    let own = join(mount, line.path, root: "/")
                    guard own == mount || probe.kind(own) == .cgroup1 else { return nil }
                    layout.v1.append(Hierarchy(mountPoint: mount, ownDirectory: own, controllers: controllers))
                }
                layout.v1.sort { $0.mountPoint < $1.mountPoint }
            case .cgroup1, nil:
                return nil
            }
            return layout
        }

        /// /proc/self/cgroup, read with byte loops over concrete types: in a fresh process the
        /// generic Substring algorithms (split, `String + Substring`) first have to instantiate
        /// their metadata and look up conformances, which cost more than the parse itself.
        enum Membership {
            struct Line { var id: String, controllers: String, path: String }

            /// Every "id:controllers:path" line, and whether any line was torn (and left out).
            static func lines(_ text: String) -> (lines: [Line], torn: Bool) {
                var text = text
                return text.withUTF8 { bytes -> (lines: [Line], torn: Bool) in
                    var result: [Line] = []
                    var torn = false
                    var start = 0
                    while start < bytes.count {
                        var end = start
                        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                        if end > start {
                            var colons: [Int] = []
                            var i = start
                            while i < end && colons.count < 2 {
                                if bytes[i] == UInt8(ascii: ":") { colons.append(i) }
                                i += 1
                            }
                            func text(_ a: Int, _ b: Int) -> String {
                                String(decoding: UnsafeBufferPointer(rebasing: bytes[a..<b]), as: UTF8.self)
                            }
                            if colons.count == 2 {
                                result.append(Line(id: text(start, colons[0]), controllers: text(colons[0] + 1, colons[1]),
                                                   path: text(colons[1] + 1, end)))
                            } else {
                                torn = true
                            }
                        }
                        start = end + 1
                    }
                    return (result, torn)
                }
            }

            /// The controllers Warden uses among a comma-separated list ("cpu,cpuacct").
            static func controllers(_ list: String) -> Set<Controller> {
                var result: Set<Controller> = []
                var list = list
                list.withUTF8 { bytes in
                    var start = 0
                    while start <= bytes.count {
                        var end = start
                        while end < bytes.count && bytes[end] != UInt8(ascii: ",") { end += 1 }
                        let name = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
                        if let controller = Controller(rawValue: name) { result.insert(controller) }
                        start = end + 1
                    }
                }
                return result
            }
        }

        /// Parses mountinfo and /proc/self/cgroup text (separate so tests can feed other hosts' files).
        public static func parse(mountinfo: String, cgroup: String) -> Layout {
            var ownPaths: [String: String] = [:]  // controller list ("" for v2) → path
            var ownByControllers: [(controllers: Set<Controller>, path: String)] = []
            for line in Membership.lines(cgroup).lines {   // torn lines skipped here
                ownPaths[line.controllers] = line.path
                let controllers = Membership.controllers(line.controllers)
                if !controllers.isEmpty { ownByControllers.append((controllers, line.path)) }
            }
            var layout = Layout(mode: .none, v1: [], v2: nil, v2Controllers: [], note: nil)
            var text = mountinfo
            text.withUTF8 { bytes in
                var start = 0
                while start < bytes.count {
                    var end = start
                    while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                    if let mount = CgroupMount(UnsafeBufferPointer(rebasing: bytes[start..<end])) {
                        if mount.isV2 {
                            let own = ownPaths[""] ?? "/"
                            layout.v2 = Hierarchy(mountPoint: mount.mountPoint,
                                                  ownDirectory: join(mount.mountPoint, own, root: mount.root), controllers: [])
                        } else if !mount.controllers.isEmpty {
                            let own = ownByControllers.first { $0.controllers == mount.controllers }?.path ?? "/"
                            layout.v1.append(Hierarchy(mountPoint: mount.mountPoint,
                                                       ownDirectory: join(mount.mountPoint, own, root: mount.root),
                                                       controllers: mount.controllers))
                        }
                    }
                    start = end + 1
                }
            }
            layout.v1.sort { $0.mountPoint < $1.mountPoint }
            return layout
        }

        /// One mountinfo line of a cgroup or cgroup2 mount: `id parent major:minor root mountpoint
        /// options [optional fields...] - fstype source superoptions`. Runs on every line of every
        /// launch, so other filesystems are skipped on their bytes, before any string is made.
        struct CgroupMount {
            var root: String
            var mountPoint: String
            var isV2: Bool
            var controllers: Set<Controller>

            init?(_ line: UnsafeBufferPointer<UInt8>) {
                var fields: [Range<Int>] = []
                fields.reserveCapacity(12)
                var i = 0
                while i < line.count {
                    while i < line.count && line[i] == UInt8(ascii: " ") { i += 1 }
                    let begin = i
                    while i < line.count && line[i] != UInt8(ascii: " ") { i += 1 }
                    if i > begin { fields.append(begin..<i) }
                }
                func text(_ r: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: line[r]), as: UTF8.self) }
                func equals(_ r: Range<Int>, _ word: StaticString) -> Bool {
                    r.count == word.utf8CodeUnitCount && word.withUTF8Buffer { w in (0..<r.count).allSatisfy { line[r.lowerBound + $0] == w[$0] } }
                }
                guard let dash = fields.firstIndex(where: { equals($0, "-") }), dash > 4, fields.count > dash + 1 else { return nil }
                let type = fields[dash + 1]
                isV2 = equals(type, "cgroup2")
                guard isV2 || equals(type, "cgroup") else { return nil }
                root = unescape(text(fields[3]))
                mountPoint = unescape(text(fields[4]))
                controllers = []
                if !isV2, fields.count > dash + 3 {
                    for option in text(fields[dash + 3]).split(separator: ",") {
                        if let c = Controller(rawValue: String(option)) { controllers.insert(c) }
                    }
                }
            }
        }

        /// The v1 hierarchy carrying `controller`, if any.
        public func v1Hierarchy(for controller: Controller) -> Hierarchy? {
            v1.first { $0.controllers.contains(controller) }
        }

        /// The first directory runs would be created in that we may not write, if any.
        func unwritableDirectory() -> String? {
            var candidates: [String] = []
            switch mode {
            case .v2: candidates = v2.map { [$0.ownDirectory] } ?? []
            case .v1, .hybrid: candidates = [.memory, .pids].compactMap { v1Hierarchy(for: $0)?.ownDirectory }
            case .none: return nil
            }
            for own in candidates {
                let parent = own + "/" + RunGroup.parentName
                let target = access(parent, F_OK) == 0 ? parent : own
                if access(target, W_OK) != 0 { return target }
            }
            return nil
        }

        func chooseMode() -> Mode {
            let v1Limits = v1Hierarchy(for: .memory) != nil || v1Hierarchy(for: .pids) != nil
            let v2Limits = v2 != nil && (v2Controllers.contains(.memory) || v2Controllers.contains(.pids))
            if v2Limits && !v1Limits { return .v2 }
            if v1Limits && v2 != nil { return .hybrid }
            if v1Limits { return .v1 }
            if v2Limits { return .v2 }
            return .none
        }

        /// Mount point + own path, minus the mount's root (set when a cgroup namespace or bind
        /// mount shows only a subtree).
        static func join(_ mountPoint: String, _ own: String, root: String) -> String {
            var relative = own
            if root != "/" && relative.hasPrefix(root) { relative = String(relative.dropFirst(root.count)) }
            if relative.isEmpty || relative == "/" { return mountPoint }
            return mountPoint + (relative.hasPrefix("/") ? relative : "/" + relative)
        }

        /// mountinfo escapes space, tab, newline and backslash as octal (\040 ...).
        static func unescape(_ field: String) -> String {
            guard field.contains("\\") else { return field }
            var out: [UInt8] = []
            let bytes = Array(field.utf8)
            var i = 0
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "\\"), i + 3 < bytes.count,
                   let value = UInt8(String(decoding: bytes[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                    out.append(value)
                    i += 4
                } else {
                    out.append(bytes[i])
                    i += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
