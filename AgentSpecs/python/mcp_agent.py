"""An example agent written with the official `mcp` client: it lists and calls the broker's tools.

Inside a Warden sandbox the agent has no network: the broker's MCP endpoint is the only thing it
can reach, at WARDEN_MCP_URL (Streamable HTTP), authenticated with the per-run token the sandbox
puts in OPENAI_API_KEY. Every step prints one line `RESULT <step> <json>` so tests can read what
the SDK saw; the exit status is 0 when every step behaved as expected.
"""
import asyncio
import json
import os
import sys

from mcp import Client, MCPError
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


def report(step, **fields):
    print("RESULT", step, json.dumps(fields, sort_keys=True), flush=True)


def text_of(result):
    return "\n".join(getattr(block, "text", "") for block in result.content)


async def call(client, step, name, arguments):
    """Calls a tool; a protocol error (unknown tool) is reported, not raised."""
    try:
        result = await client.call_tool(name, arguments)
    except MCPError as error:
        report(step, error=error.error.code, message=error.error.message)
        return None
    report(step, is_error=bool(result.is_error), text=text_of(result)[:2000])
    return result


async def main():
    url = os.environ["WARDEN_MCP_URL"]
    headers = {}
    if os.environ.get("OPENAI_API_KEY"):
        headers["Authorization"] = "Bearer " + os.environ["OPENAI_API_KEY"]
    http = create_mcp_http_client(headers=headers)
    ok = True
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        tools = sorted(tool.name for tool in (await client.list_tools()).tools)
        report("list", tools=tools)
        if "fs.write" in tools:
            written = await call(client, "write", "fs.write", {"path": "hello.txt", "content": "written through MCP"})
            ok &= written is not None and not written.is_error
        if "fs.read" in tools:
            read = await call(client, "read", "fs.read", {"path": "hello.txt"})
            ok &= read is not None and text_of(read) == "written through MCP"
            escape = await call(client, "escape", "fs.read", {"path": "../../etc/shadow"})
            ok &= escape is not None and escape.is_error
            rejected = await call(client, "reject", "fs.read", {"path": 42})
            ok &= rejected is not None and rejected.is_error
        if "code.exec" in tools:
            ran = await call(client, "exec", "code.exec", {"language": "python", "code": "print(sum(range(10)))"})
            ok &= ran is not None and text_of(ran).startswith("45")
        if "notes.add" in tools:
            added = await call(client, "notes", "notes.add", {"text": "from the agent"})
            ok &= added is not None and not added.is_error
        unknown = await call(client, "unknown", "no.such_tool", {})
        ok &= unknown is None
    report("done", ok=ok)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
