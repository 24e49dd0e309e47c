#!/usr/bin/env bash
# The inference pool's bars (issue 6), side by side with llama.cpp where there is a peer:
#   1. aggregate decode throughput with 1, 4, 8 and 16 concurrent streams through the pool vs llama.cpp with
#      the same number of sequences batched (llama-cpp-python, one llama_decode per step holding one token per
#      sequence; Benchmarks/inference_peer.py), alternating invocations, same prompts, same thread count;
#   2. fairness: nine quiet agents with and without a noisy agent sending 10x the requests (and the same load
#      first-come-first-served); 3. a system prompt shared by 16 agents, prefix cache on and off;
#   4. pool overhead per decode step (scheduler time / model time).
#
#   Benchmarks/pool.sh [ROUNDS]      (default 3; each invocation = 1 warm-up + RUNS timed runs)
#
# Env: WARDEN_MODEL, BENCH_VENV (default /root/.cache/warden-bench/venv with llama-cpp-python and numpy),
#      THREADS (2), RUNS (3). Results: Benchmarks/results/pool-*/ (git-ignored) and a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
THREADS=${THREADS:-2}
RUNS=${RUNS:-3}
MODEL_DIR=${WARDEN_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/warden/models}
MODEL=${WARDEN_MODEL:-$MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf}
VENV=${BENCH_VENV:-/root/.cache/warden-bench/venv}
OUT=Benchmarks/results/pool-$(date -u +%Y%m%dT%H%M%SZ)
[ -f "$MODEL" ] || { echo "model not found: $MODEL (run: warden model pull)" >&2; exit 2; }
[ -x "$VENV/bin/python" ] || { echo "no venv at $VENV (python3 -m venv \$VENV && \$VENV/bin/pip install llama-cpp-python numpy)" >&2; exit 2; }
mkdir -p "$OUT"
swift build -c release --product PoolBench >&2
BENCH=.build/release/PoolBench

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS: llama.cpp batched 1,4,8,16" >&2
  "$VENV/bin/python" Benchmarks/inference_peer.py --model "$MODEL" --threads "$THREADS" --runs "$RUNS" \
    --batches 1,4,8,16 --ids-out "$OUT/prompt-ids.txt" >"$OUT/peer-$r.json"
  echo "round $r/$ROUNDS: warden pool throughput" >&2
  "$BENCH" throughput --model "$MODEL" --threads "$THREADS" --runs "$RUNS" --streams 1,4,8,16 \
    --prompt-ids "$OUT/prompt-ids.txt" >"$OUT/warden-$r.json"
done
echo "fairness" >&2
"$BENCH" fairness --model "$MODEL" --threads "$THREADS" --runs "$RUNS" --prompt-ids "$OUT/prompt-ids.txt" >"$OUT/fairness.json"
echo "shared system prompt" >&2
"$BENCH" prefix --model "$MODEL" --threads "$THREADS" --runs "$RUNS" >"$OUT/prefix.json"

python3 - "$OUT" "$ROUNDS" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
peer = [json.load(open(f"{out}/peer-{r}.json")) for r in range(1, rounds + 1)]
warden = [json.load(open(f"{out}/warden-{r}.json")) for r in range(1, rounds + 1)]
print(f"| streams | Warden pool decode tok/s | llama.cpp batched tok/s | ratio | pool overhead (scheduler/model) |")
print("|---:|---:|---:|---:|---:|")
for b in (1, 4, 8, 16):
    w = statistics.median(x[f"b{b}_median"] for x in warden)
    p = statistics.median(x[f"b{b}_median"] for x in peer)
    o = statistics.median(x[f"b{b}_overhead"] for x in warden)
    print(f"| {b} | {w:.1f} | {p:.1f} | {w / p:.2f}x | {100 * o:.2f}% |")
print("per round (warden / llama.cpp):", [[round(x[f"b{b}_median"], 1) for b in (1, 4, 8, 16)] for x in warden],
      [[round(x[f"b{b}_median"], 1) for b in (1, 4, 8, 16)] for x in peer])
fair = json.load(open(f"{out}/fairness.json"))
print("\n| fairness run | quiet p95 TTFT alone | with noisy agent | ratio (bar <= 2) | FCFS quiet p95 | throughput noisy/FCFS (bar >= 0.9) |")
print("|---|---:|---:|---:|---:|---:|")
for name, r in sorted(fair.items()):
    print(f"| {name} | {r['quiet_alone_p95_ms']:.0f} ms | {r['quiet_noisy_p95_ms']:.0f} ms | {r['p95_ratio']:.2f} | "
          f"{r['quiet_fcfs_p95_ms']:.0f} ms | {r['throughput_ratio_vs_fcfs']:.2f} ({r['throughput_noisy']:.0f} vs {r['throughput_fcfs']:.0f} tok/s) |")
pre = json.load(open(f"{out}/prefix.json"))
print("\n| prefix cache | prompt tokens each | prefill computed | cached | TTFT p50 | TTFT p95 | wall |")
print("|---|---:|---:|---:|---:|---:|---:|")
for name in ("cache_on", "cache_off"):
    r = pre[name]
    print(f"| {name} | {r['prompt_tokens_each']} | {r['prefill_tokens_computed']:.0f} | {r['prefill_tokens_cached']:.0f} | "
          f"{r['ttft_p50_ms']:.0f} ms | {r['ttft_p95_ms']:.0f} ms | {r['wall_s']:.2f} s |")
PY
