#!/usr/bin/env python3
"""Drives `warden serve-model` with the official openai client (Tests/WardenCLITests/ServeModelTests).

usage: serve_model_probe.py BASE_URL API_KEY
Prints one JSON object: what each call returned. Raises (exit 1) on anything unexpected.
"""
import concurrent.futures, json, sys, urllib.request

import openai

base, key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base, api_key=key, max_retries=0)
out = {}

out["models"] = sorted(m.id for m in client.models.list().data)

def ask(i):
    r = client.chat.completions.create(model="smollm2-135m", max_tokens=8, temperature=0, user=f"caller{i % 2}",
                                       messages=[{"role": "user", "content": f"Count from {i} to {i + 3}."}])
    return {"text": r.choices[0].message.content, "finish": r.choices[0].finish_reason,
            "prompt": r.usage.prompt_tokens, "completion": r.usage.completion_tokens}

with concurrent.futures.ThreadPoolExecutor(4) as pool:
    out["concurrent"] = list(pool.map(ask, range(4)))
out["repeat"] = ask(0)  # greedy: the same answer alone as in the batch

stream = client.chat.completions.create(model="smollm2-135m", max_tokens=8, temperature=0, stream=True,
                                        stream_options={"include_usage": True},
                                        messages=[{"role": "user", "content": "Say hello."}])
pieces, usage = [], None
for chunk in stream:
    if chunk.choices and chunk.choices[0].delta.content:
        pieces.append(chunk.choices[0].delta.content)
    if chunk.usage:
        usage = chunk.usage.completion_tokens
out["stream"] = {"text": "".join(pieces), "completion": usage}

try:
    openai.OpenAI(base_url=base, api_key="wrong", max_retries=0).models.list()
    out["wrong_key"] = "accepted"
except openai.AuthenticationError as e:
    out["wrong_key"] = e.status_code

try:
    client.chat.completions.create(model="no-such-model", max_tokens=4, messages=[{"role": "user", "content": "x"}])
    out["unknown_model"] = "accepted"
except openai.APIStatusError as e:
    out["unknown_model"] = e.status_code

root = base.rsplit("/v1", 1)[0]
with urllib.request.urlopen(root + "/metrics") as r:
    metrics = r.read().decode()
out["metrics"] = [line for line in metrics.splitlines() if line and not line.startswith("#")]
with urllib.request.urlopen(root + "/health") as r:
    out["health"] = json.loads(r.read())
print(json.dumps(out))
