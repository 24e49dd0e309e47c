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

        /// Detects the layout of the running host from /proc/self/mountinfo and /proc/self/cgroup.
        public static func detect() -> Layout {
            let mountinfo = CgroupFile.read("/proc/self/mountinfo") ?? ""
            let membership = CgroupFile.read("/proc/self/cgroup") ?? ""
            var layout = parse(mountinfo: mountinfo, cgroup: membership)
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

        /// Parses mountinfo and /proc/self/cgroup text (separate so tests can feed other hosts' files).
        public static func parse(mountinfo: String, cgroup: String) -> Layout {
            var ownPaths: [String: String] = [:]  // controller list ("" for v2) → path
            var ownByControllers: [(controllers: Set<Controller>, path: String)] = []
            for line in cgroup.split(separator: "\n") {
                let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
                guard parts.count == 3 else { continue }
                ownPaths[String(parts[1])] = String(parts[2])
                let controllers = Set(parts[1].split(separator: ",").compactMap { Controller(rawValue: String($0)) })
                if !controllers.isEmpty { ownByControllers.append((controllers, String(parts[2]))) }
            }
            var layout = Layout(mode: .none, v1: [], v2: nil, v2Controllers: [], note: nil)
            for line in mountinfo.utf8.split(separator: UInt8(ascii: "\n")) where isCgroupMount(line) {
                let fields = line.split(separator: UInt8(ascii: " ")).map { String(decoding: $0, as: UTF8.self) }
                guard let dash = fields.firstIndex(of: "-"), fields.count > dash + 1, dash > 4 else { continue }
                let root = unescape(fields[3]), mountPoint = unescape(fields[4])
                let fsType = fields[dash + 1]
                let superOptions = fields.count > dash + 3 ? fields[dash + 3].split(separator: ",").map(String.init) : []
                if fsType == "cgroup2" {
                    let own = ownPaths[""] ?? "/"
                    layout.v2 = Hierarchy(mountPoint: mountPoint, ownDirectory: join(mountPoint, own, root: root),
                                          controllers: [])
                } else if fsType == "cgroup" {
                    let controllers = Set(superOptions.compactMap { Controller(rawValue: $0) })
                    guard !controllers.isEmpty else { continue }
                    let own = ownByControllers.first { $0.controllers == controllers }?.path ?? "/"
                    layout.v1.append(Hierarchy(mountPoint: mountPoint, ownDirectory: join(mountPoint, own, root: root),
                                               controllers: controllers))
                }
            }
            return layout
        }

        /// Cheap pre-filter: only lines whose filesystem type starts with "cgroup" are parsed.
        /// (Runs on every mountinfo line of every launch, so it scans in place without copying.)
        static func isCgroupMount(_ line: Substring.UTF8View.SubSequence) -> Bool {
            line.withContiguousStorageIfAvailable(containsCgroupMarker)
                ?? Array(line).withUnsafeBufferPointer(containsCgroupMarker)
        }

        static func containsCgroupMarker(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            let marker: StaticString = " - cgroup"
            return marker.withUTF8Buffer { marker in
                guard bytes.count >= marker.count else { return false }
                for start in 0...(bytes.count - marker.count) where bytes[start] == marker[0] {
                    var matched = 1
                    while matched < marker.count && bytes[start + matched] == marker[matched] { matched += 1 }
                    if matched == marker.count { return true }
                }
                return false
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
