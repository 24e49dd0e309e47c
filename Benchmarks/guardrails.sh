#!/usr/bin/env bash
# Guardrail scanning throughput with every default detector on (secrets, PII, injection, size):
# a deterministic mixed corpus (prose, code, logs, JSON tool arguments, sprinkled secrets/PII/
# injection phrases) checked in 64 KiB documents at the input stage; median of RUNS runs.
# Then each detector alone, to show where the time goes. The bar: >= 50 MB/s.
#   Benchmarks/guardrails.sh [MIB (default 64)] [RUNS (default 5)]
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-64}
runs=${2:-5}
swift build -c release --product guardrail-bench >/dev/null
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
.build/release/guardrail-bench throughput "$mib" "$runs"
.build/release/guardrail-bench detectors 16
