#!/usr/bin/env bash
# Launch latency of `warden exec -- /bin/true` against bubblewrap and plain /bin/true, side by side
# in one hyperfine run (see Benchmarks/README.md and BENCHMARKS.md).
#
#   Benchmarks/launch.sh [--runs N] [--warmup N] [--timing] [--rounds N]
#
# --rounds N (after the main sitting) repeats warden and bwrap N more times with --runs runs each,
# the order of the two swapped every round (hyperfine runs each command as one block, so load that
# drifts between blocks lands on one side only), and prints each round's ratio and their median.
#
# bwrap gets a comparable sandbox: all namespaces, an unprivileged uid, a new session, caps
# dropped, a cleared environment, /usr read-only with the usual symlinks, proc, dev, tmpfs /tmp,
# and the SAME seccomp filter warden installs (exported with `warden policy check --emit-bpf`),
# handed over on an fd by a tiny exec helper (hyperfine -N has no shell redirection).
# --timing also prints warden's per-step markers (WARDEN_TIMING) for 20 runs.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=200 warmup=10 timing=0 rounds=0
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --warmup) warmup=$2; shift 2 ;;
        --timing) timing=1; shift ;;
        --rounds) rounds=$2; shift 2 ;;
        *) echo "usage: $0 [--runs N] [--warmup N] [--timing] [--rounds N]" >&2; exit 2 ;;
    esac
done
[[ $runs =~ ^[1-9][0-9]*$ && $warmup =~ ^[0-9]+$ && $rounds =~ ^[0-9]+$ ]] ||
    { echo "launch.sh: --runs, --warmup and --rounds take whole numbers (runs at least 1)" >&2; exit 2; }
for tool in hyperfine bwrap gcc python3; do
    command -v $tool >/dev/null || { echo "launch.sh: $tool is required" >&2; exit 2; }
done

warden=${WARDEN_BIN:-.build/release/warden}
if [[ -z ${WARDEN_BIN:-} ]]; then
    # The same release build Scripts/bootstrap makes (see there for why these link flags).
    swift build -c release --product warden $(Scripts/release-flags) >/dev/null
fi
policy=${POLICY:-Policies/default.json}
scratch=$(mktemp -d /tmp/warden-launch-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

"$warden" policy check "$policy" --emit-bpf "$scratch/filter.bpf" >/dev/null
cat > "$scratch/fdexec.c" <<'C'
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
/* fdexec FILE FD CMD...: opens FILE on descriptor FD, then execs CMD. */
int main(int argc, char **argv) {
    if (argc < 4) return 2;
    int fd = open(argv[1], O_RDONLY), want = atoi(argv[2]);
    if (fd < 0 || (fd != want && dup2(fd, want) < 0)) return 1;
    execv(argv[3], argv + 3);
    return 127;
}
C
gcc -O2 -static -o "$scratch/fdexec" "$scratch/fdexec.c"

bwrap="/usr/bin/bwrap --unshare-all --unshare-user --uid 65534 --gid 65534 --die-with-parent --new-session \
--cap-drop ALL --clearenv --ro-bind /usr /usr --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
--symlink usr/bin /bin --proc /proc --dev /dev --tmpfs /tmp"

echo "machine: $(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "seccomp filter: $(($(stat -c %s "$scratch/filter.bpf") / 8)) BPF instructions from $policy"
nice -n -20 hyperfine -N --runs "$runs" --warmup "$warmup" --export-json "$scratch/launch.json" \
    -n true /bin/true \
    -n bwrap_seccomp "$scratch/fdexec $scratch/filter.bpf 3 $bwrap --seccomp 3 /bin/true" \
    -n warden_exec "$warden exec -- /bin/true"

python3 - "$scratch/launch.json" <<'PY'
import json, statistics, sys
raw = json.load(open(sys.argv[1]))["results"]
results = {r["command"]: sorted(r["times"]) for r in raw}
cpu = {r["command"]: r["user"] + r["system"] for r in raw}
def p(ts, q): return ts[min(len(ts) - 1, int(round(q * (len(ts) - 1))))]
bw = statistics.median(results["bwrap_seccomp"])
print(f"\n| variant | median ms | mean ms | p95 ms | CPU ms (user+sys, mean) | median / bwrap |")
print("|---|---:|---:|---:|---:|---:|")
for name, ts in results.items():
    med = statistics.median(ts)
    print(f"| {name} | {med*1e3:.2f} | {statistics.mean(ts)*1e3:.2f} | {p(ts, .95)*1e3:.2f} | {cpu[name]*1e3:.2f} | {med/bw:.2f} |")
PY

if [[ $rounds -gt 0 ]]; then
    echo; echo "rotating rounds: warden and bwrap, $runs runs each, order swapped every round"
    for round in $(seq "$rounds"); do
        first=(-n warden_exec "$warden exec -- /bin/true")
        second=(-n bwrap_seccomp "$scratch/fdexec $scratch/filter.bpf 3 $bwrap --seccomp 3 /bin/true")
        if (( round % 2 == 0 )); then tmp=("${first[@]}"); first=("${second[@]}"); second=("${tmp[@]}"); fi
        nice -n -20 hyperfine -N --runs "$runs" --warmup "$warmup" --export-json "$scratch/round$round.json" \
            "${first[@]}" "${second[@]}" >/dev/null 2>"$scratch/round$round.err" ||
            { cat "$scratch/round$round.err" >&2; exit 1; }
    done
    python3 - "$scratch" "$rounds" <<'PY'
import json, statistics, sys
ratios = []
for r in range(1, int(sys.argv[2]) + 1):
    raw = {x["command"]: statistics.median(x["times"]) for x in json.load(open(f"{sys.argv[1]}/round{r}.json"))["results"]}
    ratios.append(raw["warden_exec"] / raw["bwrap_seccomp"])
    print(f"  round {r}: warden {raw['warden_exec']*1e3:.2f} ms, bwrap {raw['bwrap_seccomp']*1e3:.2f} ms, ratio {ratios[-1]:.2f}")
print(f"  median ratio over {len(ratios)} rounds: {statistics.median(ratios):.2f} (min {min(ratios):.2f}, max {max(ratios):.2f})")
PY
fi

if [[ $timing == 1 ]]; then
    echo; echo "warden step markers (ms since the first marker, and the main thread's page faults so far), median of 20 runs:"
    for _ in $(seq 20); do WARDEN_TIMING=1 nice -n -20 "$warden" exec -- /bin/true 2>&1 >/dev/null | grep '^warden-timing'; done |
        python3 -c '
import collections, statistics, sys
steps = collections.OrderedDict()
for line in sys.stdin:
    fields = line.split()
    steps.setdefault(fields[1], []).append([float(fields[2].lstrip("+"))] + [float(f) for f in fields[3:]])
for step, values in steps.items():
    columns = [statistics.median(v[i] for v in values) for i in range(len(values[0]))]
    print(f"  {step:28} {columns[0]:7.2f}" + (f"  {columns[1]:5.0f} faults" if len(columns) > 1 else ""))'
fi
