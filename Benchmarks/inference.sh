#!/usr/bin/env bash
# Side-by-side CPU inference benchmark: Warden's engine vs llama.cpp (llama-cpp-python), same GGUF,
# same thread count, same prompts, alternating invocations so both see the same machine conditions.
#
#   Benchmarks/inference.sh [ROUNDS]        (default 3 rounds; each invocation = 1 warm-up + 3 timed runs)
#
# Env: WARDEN_MODEL (default: $WARDEN_MODEL_DIR, $XDG_DATA_HOME/warden/models or ~/.local/share/warden/models
#      + /SmolLM2-135M-Instruct.Q4_1.gguf), BENCH_VENV (default /root/.cache/warden-bench/venv: a venv with
#      llama-cpp-python and numpy), THREADS (2). Results: Benchmarks/results/ (git-ignored) + a table on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-3}
THREADS=${THREADS:-2}
MODEL_DIR=${WARDEN_MODEL_DIR:-${XDG_DATA_HOME:-$HOME/.local/share}/warden/models}
MODEL=${WARDEN_MODEL:-$MODEL_DIR/SmolLM2-135M-Instruct.Q4_1.gguf}
VENV=${BENCH_VENV:-/root/.cache/warden-bench/venv}
OUT=Benchmarks/results/inference-$(date -u +%Y%m%dT%H%M%SZ)
[ -f "$MODEL" ] || { echo "model not found: $MODEL (run: warden model pull)" >&2; exit 2; }
[ -x "$VENV/bin/python" ] || { echo "no venv at $VENV (python3 -m venv \$VENV && \$VENV/bin/pip install llama-cpp-python numpy)" >&2; exit 2; }
mkdir -p "$OUT"
swift build -c release --product InferenceBench >&2
BENCH=.build/release/InferenceBench

for r in $(seq 1 "$ROUNDS"); do
  echo "round $r/$ROUNDS: llama.cpp" >&2
  "$VENV/bin/python" Benchmarks/inference_peer.py --model "$MODEL" --threads "$THREADS" --ids-out "$OUT/prompt-ids.txt" >"$OUT/peer-$r.json"
  echo "round $r/$ROUNDS: warden" >&2
  "$BENCH" --model "$MODEL" --threads "$THREADS" --prompt-ids "$OUT/prompt-ids.txt" --bandwidth $([ "$r" = 1 ] && echo 1 || echo 0) >"$OUT/warden-$r.json"
done
echo "round: warden, Swift reference kernels (decode only, 1 run)" >&2
"$BENCH" --model "$MODEL" --threads "$THREADS" --prompt-ids "$OUT/prompt-ids.txt" --kernels swift --runs 1 --gen 32 --batches "" >"$OUT/warden-swift.json"
echo "round: warden, AVX2 kernels (no VNNI)" >&2
"$BENCH" --model "$MODEL" --threads "$THREADS" --prompt-ids "$OUT/prompt-ids.txt" --kernels avx2 --runs 3 --batches "" >"$OUT/warden-avx2.json"

"$VENV/bin/python" - "$OUT" <<'PY'
import glob, json, statistics, sys
out = sys.argv[1]
load = lambda pat: [json.load(open(f)) for f in sorted(glob.glob(f"{out}/{pat}"))]
peer, warden = load("peer-*.json"), load("warden-[0-9]*.json")
pool = lambda rs, k: [x for r in rs for x in r.get(k, [])]
print(f"| metric (tok/s, {len(warden)} invocations x 3 runs, medians) | Warden | llama.cpp | ratio |")
print("|---|---|---|---|")
for k, name in [("pp", "prompt processing, 128-token prompt"), ("tg", "decode, 1 stream, 128 tokens"),
                ("b4", "decode aggregate, 4 streams"), ("b8", "decode aggregate, 8 streams")]:
    w, p = statistics.median(pool(warden, k)), statistics.median(pool(peer, k))
    print(f"| {name} | {w:.0f} | {p:.0f} | {w / p:.2f}x |")
m = warden[0]["model_bytes"]
for k in ["single", "b4", "b8"]:
    rss = max(r[f"{k}_rss"] for r in warden); kv = max(r[f"{k}_kv"] for r in warden)
    bar = m + kv + 64 * 2**20
    print(f"| RSS while generating ({k}) | {rss / 2**20:.1f} MiB | bar {bar / 2**20:.1f} MiB (model {m / 2**20:.1f} + KV {kv / 2**20:.1f} + 64) | {'ok' if rss <= bar else 'OVER'} |")
print(f"| llama.cpp RSS (single) | {max(r['single_rss'] for r in peer) / 2**20:.1f} MiB | | |")
bw = next((r["bandwidth_gbs"] for r in warden if "bandwidth_gbs" in r), None)
if bw:
    bound = bw * 1e9 / 96.58e6
    tgw, tgp = statistics.median(pool(warden, "tg")), statistics.median(pool(peer, "tg"))
    print(f"\nread bandwidth ({warden[0]['threads']} threads): {bw:.1f} GB/s -> decode bound {bound:.0f} tok/s "
          f"(96.58 MB of weights per token); Warden at {100 * tgw / bound:.0f}%, llama.cpp at {100 * tgp / bound:.0f}%")
for name, f in [("Swift reference kernels", "warden-swift.json"), ("AVX2 kernels", "warden-avx2.json")]:
    r = json.load(open(f"{out}/{f}"))
    print(f"{name}: prompt {r['pp_median']:.1f} tok/s, decode {r['tg_median']:.1f} tok/s ({r['backend']})")
print("per-CPU-second decode (Warden, load-independent view):", [round(r["tg_per_cpu_s"], 1) for r in warden])
PY
