#!/usr/bin/env bash
# In-process launch latency (issue 2's bar): RUNS launches of /bin/true through Sandbox.Launcher,
# each timed from Launcher.launch() to the exit being reaped, with the full setup: user, pid,
# mount, net, ipc, uts and cgroup namespaces; a read-only tmpfs root with /usr bound read-only and
# the merged-/usr symlinks; fresh /proc; minimal /dev; a /tmp tmpfs; a read-write workspace;
# rlimits; every capability dropped; no_new_privs; a 310-instruction seccomp allowlist.
#
# Runs it with fresh network namespaces and with prepared ones (Launcher.prepareNetworkNamespaces),
# then the peer in the same sitting: bwrap with the comparable mount set and the same seccomp bytes,
# through hyperfine (which subtracts its shell's startup). Everything runs under nice -n -20, as
# the research measurements did; the machine is shared, so the load average is printed with each.
#
# Usage: Benchmarks/launch-inprocess.sh   (as root; RUNS=200 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-200}"

swift build -c release --product LaunchBench >/dev/null
BENCH=.build/release/LaunchBench
SCRATCH="$(mktemp -d /tmp/warden-launch-bench.XXXXXX)"
trap 'rm -rf "$SCRATCH"' EXIT
"$BENCH" --dump-filter "$SCRATCH/filter.bpf"
mkdir -p "$SCRATCH/workspace"

load() { cut -d' ' -f1-3 /proc/loadavg; }
echo "machine: $(nproc) cores, kernel $(uname -r), $(date -u +%FT%TZ)"

echo; echo "== Warden in-process, fresh network namespace per launch (load $(load))"
nice -n -20 "$BENCH" "$RUNS" --trace
echo; echo "== Warden in-process, prepared network namespaces (load $(load))"
nice -n -20 "$BENCH" "$RUNS" --prepared-netns

if command -v bwrap >/dev/null && command -v hyperfine >/dev/null; then
    BW="bwrap --unshare-all --unshare-user --uid 65534 --gid 65534 --die-with-parent --new-session"
    BW="$BW --cap-drop ALL --clearenv --setenv PATH /usr/bin:/bin --ro-bind /usr /usr"
    BW="$BW --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib --symlink usr/lib64 /lib64"
    BW="$BW --proc /proc --dev /dev --tmpfs /tmp --bind $SCRATCH/workspace /workspace --chdir /workspace"
    echo; echo "== peer: bwrap, same mounts and seccomp bytes (load $(load))"
    nice -n -20 hyperfine --style basic --runs "$RUNS" --warmup 10 --export-json "$SCRATCH/bwrap.json" \
        -n bwrap "$BW --seccomp 3 /bin/true 3< $SCRATCH/filter.bpf" -n plain-true "/bin/true" >/dev/null
    python3 - "$SCRATCH/bwrap.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    t = sorted(r["times"])
    print(f'{r["command"]:10s} median: {t[len(t)//2]*1e3:.3f} ms  p99: {t[min(len(t)-1, round(0.99*(len(t)-1)))]*1e3:.3f} ms  '
          f'mean: {sum(t)/len(t)*1e3:.3f} ms  min: {t[0]*1e3:.3f} ms')
PY
fi
