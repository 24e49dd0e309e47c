"""A small stdio MCP server for Warden's tests and examples, written with the official `mcp` SDK.

The broker launches it in its own sandbox (the agent spec's policy, this directory read-only at
/agent, no network) and offers its tools to the agent as `notes.add`, `notes.list`, `notes.count`.
Notes live in memory: the server lives as long as the agent's run.
"""
import sys

from mcp.server.mcpserver import MCPServer

server = MCPServer(name="notes", version="1.0.0", instructions="A notebook kept for one agent run.")
notes: list[str] = []


@server.tool(description="Add a note; returns its number.")
def add(text: str) -> str:
    notes.append(text)
    return f"note {len(notes)} added"


@server.tool(description="All notes, one per line, numbered.")
def list_notes() -> str:
    return "\n".join(f"{i + 1}. {note}" for i, note in enumerate(notes)) or "(no notes)"


@server.tool(description="How many notes there are.")
def count() -> int:
    return len(notes)


if __name__ == "__main__":
    print("notes server starting", file=sys.stderr)
    server.run("stdio")
