#!/usr/bin/env bash
# Per-call cost of an audited syscall (seccomp user notification answered by the supervisor, with
# and without a trace record) against a syscall the filter denies in the kernel and one it allows.
#   Benchmarks/trace-audit.sh [COUNT (default 20000)]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-20000}
work=$(mktemp -d "${TMPDIR:-/tmp}/warden-audit-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
swift build -c release --product warden >/dev/null
cc -O2 -o "$work/syscall-loop" Benchmarks/TraceAudit/syscall-loop.c
chmod 755 "$work" "$work/syscall-loop"
# The default policy with mkdir moved from "allow" to "audit" (answered with EROFS).
python3 - "$work/audit.json" <<'PY'
import json, sys
policy = json.load(open("Policies/default.json"))
seccomp = policy["seccomp"]
seccomp["allow"]["files"] = [n for n in seccomp["allow"]["files"] if n not in ("mkdir", "mkdirat")]
seccomp["audit"] = [{"errno": "EROFS", "syscalls": ["mkdir", "mkdirat"]}]
json.dump(policy, open(sys.argv[1], "w"))
PY
run() { WARDEN_TRACE_DIR="$work/traces" .build/release/warden exec --workspace "$work" --policy "$work/audit.json" "$@"; }
# Median of 5 runs per case, cases interleaved so that load from other processes hits all alike.
declare -A samples
for _ in 1 2 3 4 5; do
    samples[allowed]+="$(run -- /workspace/syscall-loop 110 "$count") "           # getppid: allowed
    samples[denied]+="$(run -- /workspace/syscall-loop 103 "$count") "            # syslog: denied by the filter (EPERM)
    samples[audited]+="$(run -- /workspace/syscall-loop 83 "$count") "            # mkdir: audited, answered EROFS
    samples[traced]+="$(run --trace -- /workspace/syscall-loop 83 "$count") "     # mkdir: audited and recorded
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for case in allowed denied audited traced; do
    printf '%-8s %8s ns/call  (runs: %s)\n' "$case" "$(echo "${samples[$case]}" | median)" "${samples[$case]}"
done
echo "$count calls per run; allowed = getppid, denied = syslog (filter EPERM), audited = mkdir (user notification, EROFS), traced = audited + --trace"
