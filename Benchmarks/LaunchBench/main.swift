// SPDX-License-Identifier: Apache-2.0
// In-process launch benchmark: N launches of /bin/true through Sandbox.Launcher with the full
// setup (7 namespaces, tmpfs root with /usr ro + symlinks, /proc, /dev, /tmp, a workspace bind,
// rlimits, caps dropped, no_new_privs, a 300-instruction seccomp allowlist), each timed from
// launch() to the exit being reaped. Prints median, p99, mean, and a per-step breakdown.
//
// Usage: LaunchBench [runs] [--trace] [--prepared-netns] [--dump-filter FILE]
// (--dump-filter writes the seccomp program and exits: the peer, bwrap, takes the same bytes.)
import Glibc
import HostOS
import Sandbox

func nowNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}

/// A Docker-sized allowlist: arch check, then one JEQ per allowed syscall number, default EPERM.
/// Denies what a Docker-like profile denies (mount family, namespaces, bpf, ptrace, keyctl, ...).
func allowlistFilter() -> [UInt8] {
    let denied: Set<UInt32> = [101, 155, 165, 166, 167, 168, 169, 175, 176, 246, 248, 249, 250, 272, 298, 304, 308,
                               310, 311, 313, 320, 321, 323, 425, 426, 427, 428, 429, 430, 431, 432, 433, 442]
    let allowed = (0..<335).map(UInt32.init).filter { !denied.contains($0) }
    var program: [(UInt16, UInt8, UInt8, UInt32)] = []
    program.append((0x20, 0, 0, 4))                         // ld [arch]
    program.append((0x15, 1, 0, 0xC000_003E))               // jeq AUDIT_ARCH_X86_64, +1
    program.append((0x06, 0, 0, 0x8000_0000))               // ret KILL_PROCESS
    program.append((0x20, 0, 0, 0))                         // ld [nr]
    // Conditional jumps reach at most 255 instructions: chunks of JEQs, each ending in its own ALLOW.
    var start = 0
    while start < allowed.count {
        let chunk = allowed[start..<min(start + 200, allowed.count)]
        for (offset, number) in chunk.enumerated() {
            program.append((0x15, UInt8(chunk.count - offset), 0, number))   // jeq nr -> the ALLOW below
        }
        program.append((0x05, 0, 0, 1))                     // ja +1: not in this chunk
        program.append((0x06, 0, 0, 0x7FFF_0000))           // ret ALLOW
        start += chunk.count
    }
    program.append((0x06, 0, 0, 0x0005_0000 | UInt32(EPERM))) // ret ERRNO(EPERM)
    var bytes: [UInt8] = []
    for (code, jt, jf, k) in program {
        withUnsafeBytes(of: code.littleEndian) { bytes += $0 }
        bytes += [jt, jf]
        withUnsafeBytes(of: k.littleEndian) { bytes += $0 }
    }
    return bytes
}

/// "1.234" (three decimals; no Foundation here, as in the product).
func ms(_ value: Double) -> String {
    let thousandths = Int((value * 1000).rounded())
    let fraction = String(thousandths % 1000)
    return "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
}

func padded(_ text: String, _ width: Int) -> String {
    text + String(repeating: " ", count: max(0, width - text.count))
}

/// CPU time of this process and its reaped children (user + system), in ms.
func cpuMilliseconds() -> Double {
    var total = 0.0
    for who in [RUSAGE_SELF, RUSAGE_CHILDREN] {
        var usage = rusage()
        getrusage(who.rawValue, &usage)
        total += Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) * 1000
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1000
    }
    return total
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
}

let arguments = CommandLine.arguments
let runs = arguments.count > 1 ? Int(arguments[1]) ?? 200 : 200
let trace = arguments.contains("--trace")
if let flag = arguments.firstIndex(of: "--dump-filter"), flag + 1 < arguments.count {
    do {
        let file = try FileDescriptor.open(arguments[flag + 1], .writeOnly, options: [.create, .truncate])
        try file.writeAll(allowlistFilter())
        try file.close()
        exit(0)
    } catch {
        print("--dump-filter: \(error)")
        exit(1)
    }
}
if arguments.contains("--prepared-netns") {
    do { try Launcher.prepareNetworkNamespaces(depth: 4) } catch { print("\(error)"); exit(1) }
    while Launcher.preparedNetworkNamespaces.ready < 4 && Launcher.preparedNetworkNamespaces.stoppedBy == nil { usleep(1000) }
}
let workspace = "/tmp/warden-launchbench-\(getpid())"
mkdir(workspace, 0o755)
defer { rmdir(workspace) }

var mounts = MountPlan.standard()
mounts.workspace(workspace)
var plan = LaunchPlan(executable: "/bin/true", environment: ["PATH": "/usr/bin:/bin"], workingDirectory: "/workspace",
                      mounts: mounts)
plan.resourceLimits = [ResourceLimit(.openFiles, soft: 1024), ResourceLimit(.fileSize, soft: 1 << 30),
                       ResourceLimit(.coreSize, soft: 0)]
plan.seccomp = SeccompFilter(bpf: allowlistFilter())
plan.traceSteps = trace

var samples: [Double] = []
var cpuSamples: [Double] = []
var stepSums: [LaunchStep: Double] = [:]
var stepOrder: [LaunchStep] = []
for run in 0..<(runs + 10) {
    let cpuStart = cpuMilliseconds()
    let start = nowNanoseconds()
    do {
        let process = try Launcher.launch(plan)
        let launched = nowNanoseconds()
        let status = try process.wait()
        let end = nowNanoseconds()
        process.closeDescriptors()
        guard status == .exited(0) else {
            print("run \(run): /bin/true \(status)")
            exit(1)
        }
        guard run >= 10 else { continue }   // warm-up
        samples.append(Double(end - start) / 1e6)
        cpuSamples.append(cpuMilliseconds() - cpuStart)
        if trace {
            for (step, ns) in process.stepTimes {
                if stepSums[step] == nil { stepOrder.append(step) }
                stepSums[step, default: 0] += Double(ns) / 1e6
            }
            stepSums[.validation, default: 0] += Double(launched - start) / 1e6   // launch() returned
        }
    } catch {
        print("run \(run): \(error)")
        exit(1)
    }
}
let sorted = samples.sorted()
let mean = samples.reduce(0, +) / Double(samples.count)
print("launches: \(samples.count)  median: \(ms(percentile(sorted, 0.5))) ms  p99: \(ms(percentile(sorted, 0.99))) ms  "
    + "mean: \(ms(mean)) ms  min: \(ms(sorted[0])) ms  max: \(ms(sorted[sorted.count - 1])) ms")
print("CPU per launch (supervisor + sandbox, user + system): mean \(ms(cpuSamples.reduce(0, +) / Double(cpuSamples.count))) ms")
if trace {
    print("mean time from launch() start to each step (ms):")
    for step in stepOrder { print("  \(padded("\(step)", 24)) \(ms(stepSums[step]! / Double(samples.count)))") }
    print("  \(padded("launch() returned", 24)) \(ms(stepSums[.validation]! / Double(samples.count)))")
}
