"""Drives the broker with the official `openai` SDK from inside a sandbox, one scenario per run,
and prints what the SDK saw as one JSON line (Tests/BrokerTests/OpenAISDKTests.swift reads it)."""
import json
import sys

import openai
from openai import OpenAI

client = OpenAI()  # OPENAI_BASE_URL and OPENAI_API_KEY come from the broker
user = [{"role": "user", "content": "What is the weather in Paris?"}]
tools = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather by city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


def chat():
    r = client.chat.completions.create(model="scripted", messages=user, max_completion_tokens=32)
    return {"content": r.choices[0].message.content, "finish": r.choices[0].finish_reason,
            "usage": [r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens],
            "models": [m.id for m in client.models.list().data]}


def stream():
    text, chunks, usage, finish = [], 0, None, None
    for chunk in client.chat.completions.create(model="scripted", messages=user, stream=True,
                                                stream_options={"include_usage": True}):
        chunks += 1
        if chunk.usage:
            usage = [chunk.usage.prompt_tokens, chunk.usage.completion_tokens, chunk.usage.total_tokens]
        for choice in chunk.choices:
            text.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    return {"content": "".join(text), "chunks": chunks, "usage": usage, "finish": finish}


def tool_calls():
    r = client.chat.completions.create(model="scripted", messages=user, tools=tools)
    message = r.choices[0].message
    call = message.tool_calls[0]
    followup = user + [message.model_dump(exclude_none=True),
                       {"role": "tool", "tool_call_id": call.id, "content": "sunny, 24C"}]
    final = client.chat.completions.create(model="scripted", messages=followup, tools=tools)
    streamed = {}
    for chunk in client.chat.completions.create(model="scripted", messages=user, tools=tools, stream=True):
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                entry = streamed.setdefault(delta.index, {"name": "", "arguments": ""})
                entry["name"] += delta.function.name or ""
                entry["arguments"] += delta.function.arguments or ""
    return {"finish": r.choices[0].finish_reason, "name": call.function.name,
            "arguments": json.loads(call.function.arguments), "final": final.choices[0].message.content,
            "streamed": list(streamed.values())}


def limits():
    out = {}
    slow = client.chat.completions.create(model="slow", messages=user, stream=True)
    out["slow_first"] = next(iter(slow)).choices[0].delta.role
    try:
        client.chat.completions.create(model="scripted", messages=user)
        out["second"] = "answered"
    except openai.RateLimitError as error:
        out["second"] = [error.status_code, error.code, error.response.headers.get("retry-after-ms")]
    slow.close()  # the client goes away: the broker cancels the generation
    try:
        client.chat.completions.create(model="gpt-4o", messages=user)
        out["denied"] = "answered"
    except openai.PermissionDeniedError as error:
        out["denied"] = [error.status_code, error.code]
    try:
        client.chat.completions.create(model="scripted", messages=user, max_completion_tokens=100000)
        out["too_many_tokens"] = "answered"
    except openai.PermissionDeniedError as error:
        out["too_many_tokens"] = [error.status_code, error.code]
    try:
        client.chat.completions.create(model="scripted", messages=user, n=3)
        out["bad_request"] = "answered"
    except openai.BadRequestError as error:
        out["bad_request"] = [error.status_code, error.param]
    return out


def midstream():
    text = []
    try:
        for chunk in client.chat.completions.create(model="scripted", messages=user, stream=True,
                                                    response_format={"type": "json_object"}):
            for choice in chunk.choices:
                text.append(choice.delta.content or "")
        return {"error": None}
    except openai.APIError as error:
        return {"error": type(error).__name__, "message": error.message, "before": "".join(text)}


def tokens():
    answers = [client.chat.completions.create(model="instant", messages=user, max_completion_tokens=16)
               for _ in range(3)]
    return {"answered": len(answers), "usage": [a.usage.total_tokens for a in answers]}


def guarded():
    text = []
    try:
        for chunk in client.chat.completions.create(model="leaky", messages=user, stream=True):
            for choice in chunk.choices:
                text.append(choice.delta.content or "")
        return {"error": None, "before": "".join(text)}
    except openai.APIError as error:
        return {"error": type(error).__name__, "message": error.message, "before": "".join(text)}


print(json.dumps({"tokens": tokens, "guarded": guarded, "chat": chat, "stream": stream, "tools": tool_calls, "limits": limits,
                  "midstream": midstream}[sys.argv[1]]()))
