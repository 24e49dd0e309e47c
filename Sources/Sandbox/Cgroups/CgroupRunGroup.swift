import Glibc
import Synchronization

extension Cgroups {
    /// One run's cgroup: a directory per hierarchy under a `warden` parent next to our own group.
    ///
    /// Created before launch, the child is placed in it before exec, it is killed as a tree at the
    /// end, its events and usage are read, and it is removed. Directory names carry the supervisor's
    /// pid and start time so `removeOrphanedRuns` can tell runs of a dead supervisor from live ones.
    public struct RunGroup: Sendable {
        /// A directory of this run in one hierarchy, and the group our own thread returns to.
        struct Directory: Sendable {
            var controllers: Set<Controller>
            var path: String
            var ownDirectory: String
        }

        /// The run's directory name (`run-<supervisor pid>-<start time>-<sequence>`).
        public let name: String
        /// The interface the limits went through.
        public let mode: Mode
        /// Limits that were asked for but could not be enforced here, with the reason.
        public let unenforced: [String]
        let v1: [Directory]
        /// The run's cgroup2 directory, if the run uses one (pure v2, or hybrid for kill/events).
        public let v2Directory: String?
        let v2IsPure: Bool

        /// The parent directory name all runs live under, in every hierarchy.
        public static let parentName = "warden"

        /// Creates the run's directories and writes the limits; on failure nothing is left behind.
        ///
        /// In hybrid mode `unified` also creates a group in the cgroup2 mount, whose `cgroup.kill`
        /// and `cgroup.events` are the most reliable tree kill; attaching to it costs a cgroup.procs
        /// write, so callers on the latency path may leave it out (the pid namespace still kills).
        public static func create(layout: Layout, limits: Limits, unified: Bool = true,
                                  name: String = RunGroup.nextName()) throws(Error) -> RunGroup {
            var builder = Builder(name: name, layout: layout, limits: limits)
            do throws(Error) {
                try builder.build(unified: unified)
            } catch {
                builder.rollback()
                throw error
            }
            LiveRuns.add(builder.created)
            return RunGroup(name: name, mode: layout.mode, unenforced: builder.unenforced, v1: builder.v1,
                            v2Directory: builder.v2, v2IsPure: layout.mode == .v2)
        }

        /// A fresh run name for this supervisor process.
        public static func nextName() -> String {
            let sequence = RunSequence.next()
            let random = UInt16.random(in: 0...UInt16.max)
            return "run-\(getpid())-\(ownStartTime)-\(sequence)-\(String(random, radix: 16))"
        }

        /// Every directory of this run, v1 first.
        public var directories: [String] { v1.map(\.path) + (v2Directory.map { [$0] } ?? []) }

        /// Whether the host lets us place a child by moving our own thread (v1 hierarchies only).
        public var needsPidAttachForV2: Bool { v2Directory != nil }
    }
}

/// Per-process run counter (runs of one supervisor differ by sequence).
enum RunSequence {
    private static let value = Atomic<Int>(0)

    static func next() -> Int { value.add(1, ordering: .relaxed).newValue }
}

/// This process's start time (read once: generating /proc/PID/stat is not free).
let ownStartTime: UInt64 = processStartTime(getpid()) ?? 0

/// A process's start time in clock ticks since boot (field 22 of /proc/PID/stat), which with the
/// pid identifies a process across pid reuse.
func processStartTime(_ pid: Int32) -> UInt64? {
    guard let stat = CgroupFile.read("/proc/\(pid)/stat"),
          let close = stat.lastIndex(of: ")") else { return nil }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    // After the comm: field 3 (state) is index 0, so field 22 is index 19.
    return fields.count > 19 ? UInt64(fields[19]) : nil
}
