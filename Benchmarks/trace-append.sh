#!/usr/bin/env bash
# Trace append throughput (records/s, 300-byte bodies): the trace writer with no sync, group commit
# (5 ms window) and fdatasync per record, beside a plain write(2) loop of 300-byte records on the
# same file system (the floor). Reports the median of REPEATS runs per mode and group commit's
# share of the floor (the bar: >= 50%).
#   Benchmarks/trace-append.sh [DIR (default: a scratch dir under $TMPDIR)] [N (default 200000)] [REPEATS (default 5)]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-$(mktemp -d "${TMPDIR:-/tmp}/warden-trace-bench.XXXXXX")}
n=${2:-200000}
repeats=${3:-5}
swift build -c release --product trace-bench >/dev/null
bench=.build/release/trace-bench
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Modes are interleaved within each repeat so that load from other processes hits all of them alike.
declare -A samples rate cpu
modes="write-loop none group every"
for _ in $(seq "$repeats"); do
    for mode in $modes; do
        count=$n
        [ "$mode" = every ] && count=$((n / 50))   # fdatasync per record is ~1000x slower
        rm -rf "$dir/run"
        line=$("$bench" append "$dir/run" "$mode" "$count")
        samples[$mode]+="$(echo "$line" | sed 's/.*records_per_second=//') "
        cpu[$mode]+="$(echo "$line" | sed 's/.*cpu_us_per_record=\([0-9.]*\).*/\1/') "
    done
done
for mode in $modes; do
    rate[$mode]=$(echo ${samples[$mode]} | tr ' ' '\n' | median)
    cpumed=$(echo ${cpu[$mode]} | tr ' ' '\n' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-10s %10s records/s  %6s CPU us/record  (records/s of each repeat: %s)\n' "$mode" "${rate[$mode]}" "$cpumed" "${samples[$mode]}"
done
rm -rf "$dir/run"
awk -v g="${rate[group]}" -v f="${rate[write-loop]}" -v x="${rate[none]}" \
    'BEGIN { printf "group commit / write loop = %.2f (bar >= 0.50); no-sync / write loop = %.2f\n", g / f, x / f }'
echo "file system: $(df -T "$dir" | awk 'NR==2 {print $2" on "$1}')"
