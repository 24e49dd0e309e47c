"""An example agent written with the official `openai` SDK, unmodified: it finds the broker through
OPENAI_BASE_URL and authenticates with OPENAI_API_KEY, both set by `warden run`.

It lists the models its policy allows, asks one question, then streams a second answer, offering a
tool the model may call (the broker renders tools into the prompt and parses calls back out)."""
import json
import os
import sys

from openai import OpenAI

client = OpenAI()  # OPENAI_BASE_URL, OPENAI_API_KEY from the environment
model = os.environ.get("AGENT_MODEL") or client.models.list().data[0].id
print(f"broker at {os.environ['OPENAI_BASE_URL']}, models: {[m.id for m in client.models.list().data]}")

answer = client.chat.completions.create(
    model=model, max_completion_tokens=48, temperature=0,
    messages=[{"role": "user", "content": "In one sentence: what is a sandbox?"}])
print("answer:", answer.choices[0].message.content)
print("usage:", answer.usage.prompt_tokens, "prompt +", answer.usage.completion_tokens, "completion tokens")

tools = [{"type": "function", "function": {
    "name": "get_time", "description": "The current time in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]
stream = client.chat.completions.create(
    model=model, max_completion_tokens=48, stream=True, stream_options={"include_usage": True}, tools=tools,
    messages=[{"role": "user", "content": "What time is it in Paris?"}])
text, calls = [], {}
for chunk in stream:
    if chunk.usage:
        print("\nstreamed usage:", chunk.usage.total_tokens, "tokens")
    for choice in chunk.choices:
        if choice.delta.content:
            text.append(choice.delta.content)
            sys.stdout.write(choice.delta.content)
            sys.stdout.flush()
        for call in choice.delta.tool_calls or []:
            entry = calls.setdefault(call.index, {"name": "", "arguments": ""})
            entry["name"] += call.function.name or ""
            entry["arguments"] += call.function.arguments or ""
print("tool calls:", json.dumps(list(calls.values())))
