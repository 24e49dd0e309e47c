#!/usr/bin/env bash
# In-process launch latency (issue 2's bar): RUNS launches of /bin/true through Sandbox.Launcher,
# each timed from Launcher.launch() to the exit being reaped, with the full setup: user, pid,
# mount, net, ipc, uts and cgroup namespaces; a read-only tmpfs root with /usr bound read-only and
# the merged-/usr symlinks; fresh /proc; minimal /dev; a /tmp tmpfs; a read-write workspace;
# rlimits; every capability dropped; no_new_privs; a 310-instruction seccomp allowlist.
#
# Three sittings: fresh network namespaces with a per-step breakdown; then fresh and prepared
# namespaces (Launcher.prepareNetworkNamespaces) each *paired* with the peer, bwrap with the same
# mount set and the same seccomp bytes, alternating launch by launch so both see the same load
# (this machine is shared). Then plain /bin/true as the floor. Everything runs under nice -n -20,
# as the research measurements did, and the load average is printed with each sitting.
#
# Usage: Benchmarks/launch-inprocess.sh   (as root; RUNS=200 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-200}"

swift build -c release --product LaunchBench >/dev/null
BENCH=.build/release/LaunchBench
load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, kernel $(uname -r), $(date -u +%FT%TZ)"

echo; echo "== Warden in-process, fresh network namespace per launch, step breakdown (load $(load))"
nice -n -20 "$BENCH" "$RUNS" --trace
echo; echo "== Warden in-process, with an (empty) beforeExec hook, as a cgroup v1 attach needs (load $(load))"
nice -n -20 "$BENCH" "$RUNS" --with-hook
echo; echo "== Warden in-process, fresh network namespaces, paired with bwrap (load $(load))"
nice -n -20 "$BENCH" "$RUNS" --paired-bwrap
echo; echo "== Warden in-process, prepared network namespaces, paired with bwrap (load $(load))"
nice -n -20 "$BENCH" "$RUNS" --prepared-netns --paired-bwrap
if command -v hyperfine >/dev/null; then
    echo; echo "== floor: plain /bin/true (load $(load))"
    nice -n -20 hyperfine -N --style basic --runs "$RUNS" --warmup 10 /bin/true 2>&1 | grep -E "Time|Range"
fi
