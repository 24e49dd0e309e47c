import Foundation
import Testing

/// Facts read on the host side after a run: surviving processes, leftover cgroups and mounts.
enum HostFacts {
    /// Pids of host processes whose `comm` is `name` (zombies included: their stat keeps the comm).
    static func processes(named name: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { return nil }
            return stat[stat.index(after: open)..<close] == name ? pid : nil
        }
    }

    /// Processes named `name` that are still there after a short grace period for exit races.
    static func survivors(named name: String) -> [Int32] {
        for _ in 0..<40 {
            if processes(named: name).isEmpty { return [] }
            usleep(50_000)
        }
        return processes(named: name)
    }

    /// The host pid of every process named `name`, with its state letter ("123 S").
    static func describe(_ pids: [Int32]) -> String {
        pids.map { pid in
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            return "\(pid) " + (stat.split(separator: ")").last?.split(separator: " ").first.map(String.init) ?? "?")
        }.joined(separator: ", ")
    }

    /// cgroup directories a supervisor with `pid` created (`.../warden/run-<pid>-*`) that still exist.
    static func cgroupDirectories(ofSupervisor pid: Int32) -> [String] {
        let own = (try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? ""
        var found: [String] = []
        for line in own.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 3 else { continue }
            let path = parts[2] == "/" ? "" : parts[2]
            for mount in mountDirectories(controllers: parts[1]) {
                let parent = mount + path + "/warden"
                let runs = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
                found += runs.filter { $0.hasPrefix("run-\(pid)-") }.map { parent + "/" + $0 }
            }
        }
        return found
    }

    private static func mountDirectories(controllers: String) -> [String] {
        if controllers.isEmpty { return ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"] }
        if controllers.hasPrefix("name=") { return ["/sys/fs/cgroup/" + controllers.dropFirst(5)] }
        return ["/sys/fs/cgroup/" + controllers] + controllers.split(separator: ",").map { "/sys/fs/cgroup/\($0)" }
    }

    /// Lines of the host's mount table that mention `path` (a run must leave none).
    static func mounts(mentioning path: String) -> [String] {
        let table = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
        return table.split(separator: "\n").map(String.init).filter { $0.contains(path) }
    }
}

/// The host-side half of every sandboxed run's assertions: warden exited on its own with a
/// report, nothing of the run survives (process, cgroup, mount), and the host files are intact.
func expectCleanRun(_ run: ProbeRun, _ workspace: ProbeWorkspace, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!run.outcome.killedAtDeadline, "warden hung and was killed by the test\n\(run.transcript)",
            sourceLocation: sourceLocation)
    #expect(run.outcome.exitCode != nil, "warden died of signal \(run.outcome.signal ?? 0)\n\(run.transcript)",
            sourceLocation: sourceLocation)
    #expect(run.report != nil, "no JSON run report\n\(run.transcript)", sourceLocation: sourceLocation)
    #expect(!run.outcome.pipesOutlivedProcess, "a process still held warden's stdout/stderr after it exited",
            sourceLocation: sourceLocation)
    let survivors = HostFacts.survivors(named: workspace.probeName)
    #expect(survivors.isEmpty, "probe processes outlived the run: \(HostFacts.describe(survivors))",
            sourceLocation: sourceLocation)
    let cgroups = HostFacts.cgroupDirectories(ofSupervisor: run.outcome.pid)
    #expect(cgroups.isEmpty, "cgroups left behind: \(cgroups)", sourceLocation: sourceLocation)
    let mounts = HostFacts.mounts(mentioning: workspace.base)
    #expect(mounts.isEmpty, "host mounts left behind: \(mounts)", sourceLocation: sourceLocation)
    #expect(workspace.hostFilesIntact, "a host file next to the workspace changed", sourceLocation: sourceLocation)
}

/// Asserts each attempt in `expected` ran and was blocked with exactly that errno.
func expectBlocked(_ run: ProbeRun, _ expected: [String: String], sourceLocation: SourceLocation = #_sourceLocation) {
    for (name, errno) in expected.sorted(by: { $0.key < $1.key }) {
        guard let result = run.result(name) else {
            Issue.record("attempt \(name) did not report\n\(run.transcript)", sourceLocation: sourceLocation)
            continue
        }
        #expect(result.status == "blocked" && result.errno == errno,
                "\(name): expected blocked errno=\(errno), got \(result.status) \(result.detail)",
                sourceLocation: sourceLocation)
    }
    #expect(run.escapes.isEmpty, "escapes: \(run.escapes)", sourceLocation: sourceLocation)
    #expect(run.result("done") != nil, "the probe did not finish its group\n\(run.transcript)",
            sourceLocation: sourceLocation)
}
