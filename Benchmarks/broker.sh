#!/usr/bin/env bash
# Broker overhead, side by side in one run over the same loopback: each mode's server runs in
# process with the load generator (N keep-alive connections on threads, back-to-back calls), and
# the first mode is the baseline the others' added p50 is measured against.
#   Benchmarks/broker.sh [CALLS (default 100000)] [CONNECTIONS (default 4)] [REPEATS (default 3)]
#   MODES="raw-echo http-echo http-stream" (default; `http-bench modes` lists them, BenchModes.swift adds them)
# Reports the median over REPEATS of calls/s, p50 and p99; modes interleave within each repeat so
# load from other processes hits them alike. The bar: added p50 <= 100 us, >= 10,000 calls/s.
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-100000}
connections=${2:-4}
repeats=${3:-3}
modes=${MODES:-"raw-echo http-echo http-stream"}
swift build -c release --product http-bench >/dev/null
bench=.build/release/http-bench
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
declare -A rate p50 p99
for _ in $(seq "$repeats"); do
    for mode in $modes; do
        line=$("$bench" run "$mode" --connections "$connections" --calls "$calls")
        [ "$(field "$line" errors)" = 0 ] || { echo "errors in $mode: $line" >&2; exit 1; }
        rate[$mode]+="$(field "$line" calls_per_second) "
        p50[$mode]+="$(field "$line" p50_us) "
        p99[$mode]+="$(field "$line" p99_us) "
    done
done
baseline=${modes%% *}
base_p50=$(echo "${p50[$baseline]}" | median)
printf '%-14s %12s %10s %10s %14s\n' mode calls/s p50_us p99_us added_p50_us
for mode in $modes; do
    m50=$(echo "${p50[$mode]}" | median)
    printf '%-14s %12s %10s %10s %14s\n' "$mode" "$(echo "${rate[$mode]}" | median)" "$m50" \
        "$(echo "${p99[$mode]}" | median)" "$(awk -v a="$m50" -v b="$base_p50" 'BEGIN { printf "%.1f", a - b }')"
done
echo "calls=$calls connections=$connections repeats=$repeats cores=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg)"
