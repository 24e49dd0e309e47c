#!/usr/bin/env python3
"""PyTorch's side of the GPU benchmark (issue 8): the same SmolLM2 GGUF, built as a Hugging Face model
with transformers (`AutoModelForCausalLM.from_pretrained(dir, gguf_file=...)`, which needs the `gguf`
package: Scripts/gpu-check installs it from a carried wheel), run on the GPU in eager mode (no
torch.compile, no CUDA graphs; attention `sdpa` unless --attn eager) in bfloat16 (--dtype float16 for fp16).

Measured, each with CUDA events around synchronized work:
  - single-stream and batched greedy decode through `model.generate` at --streams concurrent streams
    (each stream's prompt 16 tokens; decode rate = streams x (steps - 1) / (T(steps) - T(1)), so the
    prefill and the first token are left out, as GPUBench leaves them out);
  - time to first token for a --prompt-tokens prompt (`generate(max_new_tokens=1)`), median of --repeats;
  - device-to-device copy bandwidth (2 GiB, bytes read plus written) and the time of one launch of an
    empty kernel (`torch.cuda._sleep(0)`, through PyTorch's dispatcher), for GPUBench's bounds.
Prompt token ids follow GPUBench's formula (Measure.prompt), so both sides decode the same sequences.
Prints one JSON object (and writes it to --out).

`--check-load` needs no torch: it reads the GGUF with the gguf package and checks what transformers will
load (architecture, tensor types and shapes), which is what can be tested on a machine without a GPU.
"""
import argparse, json, os, platform, statistics, sys, time


def prompt(count, stream):
    """GPUBench's prompt ids (Benchmarks/GPUBench/Measure.swift, Measure.prompt)."""
    return [1000 + ((i + 1) * 7919 + stream * 104729) % 40000 for i in range(count)]


def check_load(path):
    """The GGUF as the gguf package reads it: what transformers' GGUF loader will dequantize."""
    import gguf
    import numpy as np
    reader = gguf.GGUFReader(path)
    field = reader.fields["general.architecture"]
    arch = bytes(field.parts[field.data[0]]).decode()
    types = {}
    for tensor in reader.tensors:
        types[tensor.tensor_type.name] = types.get(tensor.tensor_type.name, 0) + 1
    sample = next(t for t in reader.tensors if t.name == "blk.0.attn_q.weight")
    values = gguf.dequantize(sample.data, sample.tensor_type)
    return {
        "status": "loaded",
        "gguf_version": getattr(gguf, "__version__", None) or _dist_version("gguf"),
        "architecture": arch,
        "tensors": len(reader.tensors),
        "tensor_types": types,
        "blk0_attn_q_shape": list(values.shape),
        "blk0_attn_q_mean_abs": float(np.abs(values).mean()),
    }


def _dist_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return None


class Peer:
    def __init__(self, args):
        import torch
        import transformers
        from transformers import AutoModelForCausalLM
        self.torch = torch
        self.args = args
        self.dtype = {"bfloat16": torch.bfloat16, "float16": torch.float16}[args.dtype]
        directory, name = os.path.split(os.path.abspath(args.model))
        started = time.time()
        # Loaded as transformers dequantizes GGUF (float32), then cast: `torch_dtype` became `dtype` in
        # transformers 5, and the cast works the same under both.
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, attn_implementation=args.attn)
        self.model = model.to(device="cuda", dtype=self.dtype).eval()
        self.load_seconds = time.time() - started
        self.info = {
            "torch": torch.__version__, "transformers": transformers.__version__, "gguf": _dist_version("gguf"),
            "python": platform.python_version(), "device_name": torch.cuda.get_device_name(0),
            "dtype": args.dtype, "attention": args.attn, "mode": "eager (no torch.compile, no CUDA graphs)",
        }

    def timed(self, work, repeats=1):
        """Seconds per call of `work` by CUDA events, after one untimed call."""
        torch = self.torch
        work()
        torch.cuda.synchronize()
        times = []
        for _ in range(repeats):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            work()
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end) / 1000)
        return times

    def generate(self, ids, new_tokens):
        with self.torch.inference_mode():
            return self.model.generate(ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                       pad_token_id=0, use_cache=True)

    def decode(self, streams, steps):
        torch = self.torch
        ids = torch.tensor([prompt(16, s) for s in range(streams)], device="cuda")
        full = statistics.median(self.timed(lambda: self.generate(ids, steps), repeats=2))
        first = statistics.median(self.timed(lambda: self.generate(ids, 1), repeats=3))
        return {"streams": streams, "steps": steps, "generate_seconds": full, "first_token_seconds": first,
                "tokens_per_second": streams * (steps - 1) / max(full - first, 1e-9)}

    def ttft(self, length, repeats):
        ids = self.torch.tensor([prompt(length, 1000)], device="cuda")
        times = self.timed(lambda: self.generate(ids, 1), repeats=repeats)
        return {"prompt_tokens": length, "seconds_median": statistics.median(times), "seconds": times}

    def copy_bandwidth(self, size=2 << 30, repeats=10):
        torch = self.torch
        a = torch.randint(0, 255, (size,), dtype=torch.uint8, device="cuda")
        b = torch.empty_like(a)
        times = self.timed(lambda: b.copy_(a), repeats=repeats)
        del a, b
        return 2 * size / statistics.median(times)

    def launch_seconds(self, count=10000):
        torch = self.torch
        if not hasattr(torch.cuda, "_sleep"):
            return None
        def launches():
            for _ in range(count):
                torch.cuda._sleep(0)
        return statistics.median(self.timed(launches, repeats=3)) / count

    def reference(self, path, steps=16):
        """Greedy tokens on the reference cases' prompts against llama.cpp's (a check that the model was
        built right from the GGUF; bf16 may part from them where the top-2 margin is small)."""
        with open(path) as f:
            cases = json.load(f)["cases"]
        rows = []
        for case in cases:
            ids = self.torch.tensor([case["prompt_token_ids"]], device="cuda")
            count = min(steps, len(case["greedy_token_ids"]))
            got = self.generate(ids, count)[0, ids.shape[1]:].tolist()
            want = case["greedy_token_ids"][:count]
            agree = next((i for i, (a, b) in enumerate(zip(got, want)) if a != b), count)
            rows.append({"name": case["name"], "steps": count, "steps_agreeing": agree, "tokens": got})
        return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--dtype", choices=["bfloat16", "float16"], default="bfloat16")
    parser.add_argument("--attn", choices=["sdpa", "eager"], default="sdpa")
    parser.add_argument("--streams", default="1,8,64,256")
    parser.add_argument("--decode-steps", type=int, default=128)
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out")
    parser.add_argument("--reference", help="smollm2-reference.json: check the model's greedy tokens first")
    parser.add_argument("--check-load", action="store_true", help="read the GGUF with the gguf package only (no torch)")
    args = parser.parse_args()
    streams = [int(s) for s in args.streams.split(",")]

    if args.check_load:
        result = check_load(args.model)
    else:
        peer = Peer(args)
        result = dict(peer.info, status="measured", load_seconds=peer.load_seconds)
        if args.reference:
            result["reference"] = peer.reference(args.reference)
        result["copy_bandwidth_bytes_per_second"] = peer.copy_bandwidth()
        result["launch_seconds_sleep0"] = peer.launch_seconds()
        result["ttft"] = peer.ttft(args.prompt_tokens, args.repeats)
        rows = []
        for count in streams:
            try:
                rows.append(peer.decode(count, args.decode_steps))
            except peer.torch.cuda.OutOfMemoryError as error:
                peer.torch.cuda.empty_cache()
                rows.append({"streams": count, "skipped": "out of memory: %s" % str(error).split("\n")[0]})
        result["decode"] = rows
        single = next((r for r in rows if r.get("streams") == 1 and "tokens_per_second" in r), None)
        result["single_stream_tokens_per_second"] = single and single["tokens_per_second"]
    text = json.dumps(result, indent=2)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
