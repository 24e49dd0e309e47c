#!/usr/bin/env python3
"""llama.cpp's side of Benchmarks/inference.sh (through llama-cpp-python's low-level API).

Same method as /work/shared/research/llamacpp_bench.py (which produced the research figures): n_threads = 2,
n_ctx 2048, n_batch/n_ubatch 512, default context params (flash attention auto, f16 KV), prompt = first 128
tokens of a fixed English paragraph, 128 greedy decode steps (EOS ignored), 1 warm-up + N timed runs;
batched: B sequences with their own prompts (windows shifted by 7 tokens) in one unified KV cache, each
decode step ONE llama_decode holding B tokens. Also writes the prompt token ids so Warden's driver runs
the very same prompts. Prints one JSON object.
"""
import argparse, json, os, statistics, sys, time

import numpy as np
import llama_cpp as L

BENCH_TEXT = (
    "The history of computing is a story of abstraction layered upon abstraction. Early machines were "
    "programmed by rewiring panels, then by punched cards, then by assembly language and compilers. Each "
    "layer hid the details of the one below, so that programmers could think about problems rather than "
    "circuits. Operating systems arrived to share a single expensive machine among many users, introducing "
    "processes, virtual memory and files. Networks connected machines, and the internet connected networks. "
    "Today a single request from a phone may touch thousands of computers in data centres around the world, "
    "each running software stacks many layers deep, from firmware and hypervisors to containers, language "
    "runtimes and frameworks, all cooperating to return an answer in a fraction of a second."
)


class Engine:
    def __init__(self, path, threads, n_ctx, n_seq_max=1, n_batch=512):
        L.llama_backend_init()
        self._log_cb = L.llama_log_callback(lambda level, text, data: None)
        L.llama_log_set(self._log_cb, None)
        mp = L.llama_model_default_params()
        # This machine's CPU reports AMX-INT8 and the venv's llama.cpp then puts Q4_1/Q8_0 weights in its AMX
        # buffer, whose matmul segfaults here (ggml_backend_amx_mul_mat). Without the extra buffer types it runs
        # the same vec-dot kernels the research measurements used (Q4_1/Q8_0 are not repacked either way).
        mp.use_extra_bufts = False
        self.model = L.llama_model_load_from_file(path.encode(), mp)
        assert self.model, "model load failed"
        self.vocab = L.llama_model_get_vocab(self.model)
        self.n_vocab = L.llama_vocab_n_tokens(self.vocab)
        cp = L.llama_context_default_params()
        cp.n_ctx, cp.n_batch, cp.n_ubatch, cp.n_seq_max = n_ctx, n_batch, n_batch, n_seq_max
        cp.n_threads = cp.n_threads_batch = threads
        cp.kv_unified = True
        self.ctx = L.llama_init_from_model(self.model, cp)
        assert self.ctx, "context init failed"
        self.batch = L.llama_batch_init(max(n_batch, n_seq_max), 0, n_seq_max)

    def clear(self):
        L.llama_memory_clear(L.llama_get_memory(self.ctx), True)

    def tokenize(self, text):
        b = text.encode()
        buf = (L.llama_token * (len(b) + 16))()
        n = L.llama_tokenize(self.vocab, b, len(b), buf, len(buf), False, False)
        return list(buf[:n])

    def decode(self, items):  # items: (token, pos, seq, want_logits)
        b = self.batch
        for i, (t, p, s, lg) in enumerate(items):
            b.token[i], b.pos[i], b.n_seq_id[i] = t, p, 1
            b.seq_id[i][0] = s
            b.logits[i] = 1 if lg else 0
        b.n_tokens = len(items)
        assert L.llama_decode(self.ctx, b) == 0
        return [i for i, it in enumerate(items) if it[3]]

    def argmax(self, i):
        return int(np.argmax(np.ctypeslib.as_array(L.llama_get_logits_ith(self.ctx, i), shape=(self.n_vocab,))))

    def prefill(self, toks, seq=0):
        self.decode([(t, j, seq, j == len(toks) - 1) for j, t in enumerate(toks)])


def rss():
    with open("/proc/self/status") as f:
        return next(int(l.split()[1]) * 1024 for l in f if l.startswith("VmRSS:"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--gen", type=int, default=128)
    ap.add_argument("--prompt-len", type=int, default=128)
    ap.add_argument("--batches", default="4,8")
    ap.add_argument("--ids-out")
    a = ap.parse_args()
    eng = Engine(a.model, a.threads, 2048)
    base = eng.tokenize(BENCH_TEXT * 4)
    if a.ids_out:
        with open(a.ids_out, "w") as f:
            f.write(",".join(map(str, base[:a.prompt_len + 7 * 16 + 64])))
    prompt = base[:a.prompt_len]
    pp, tg, mem = [], [], 0
    for _ in range(a.runs + 1):
        eng.clear()
        t0 = time.perf_counter(); eng.prefill(prompt); t1 = time.perf_counter()
        tok, pos = eng.argmax(-1), len(prompt)
        t2 = time.perf_counter()
        for _ in range(a.gen):
            eng.decode([(tok, pos, 0, True)]); pos += 1; tok = eng.argmax(-1)
        t3 = time.perf_counter()
        pp.append(len(prompt) / (t1 - t0)); tg.append(a.gen / (t3 - t2)); mem = max(mem, rss())
    res = {"backend": "llama.cpp " + L.__version__, "pp": pp[1:], "tg": tg[1:], "pp_median": statistics.median(pp[1:]),
           "tg_median": statistics.median(tg[1:]), "single_rss": mem, "model_bytes": os.path.getsize(a.model)}
    for B in [int(x) for x in a.batches.split(",") if x]:
        beng = Engine(a.model, a.threads, B * (a.prompt_len + a.gen + 16), n_seq_max=B)
        prompts = [base[7 * s: 7 * s + a.prompt_len] for s in range(B)]
        agg = []
        for _ in range(a.runs + 1):
            beng.clear()
            toks = []
            for s, p in enumerate(prompts):
                beng.prefill(p, seq=s); toks.append(beng.argmax(-1))
            pos = [len(p) for p in prompts]
            t0 = time.perf_counter()
            for _ in range(a.gen):
                idx = beng.decode([(toks[s], pos[s], s, True) for s in range(B)])
                toks = [beng.argmax(i) for i in idx]; pos = [x + 1 for x in pos]
            agg.append(B * a.gen / (time.perf_counter() - t0))
        res[f"b{B}"] = agg[1:]
        res[f"b{B}_median"] = statistics.median(agg[1:])
        L.llama_free(beng.ctx)
    print(json.dumps(res))


if __name__ == "__main__":
    sys.exit(main())
