"""gitintent's MCP server seen by a client nobody here wrote: the official
Python SDK (`pip install mcp`). Run by tests/mcp.rs with the venv .ci/run
creates:

    client.py stdio GITINTENT_BIN REPO
    client.py http URL PLAN_ONLY_TOKEN PROPOSE_TOKEN
    client.py elicit GITINTENT_BIN REPO

Exits non-zero (with the failed assertion) when anything is off; prints one
`ok:` line per check.
"""

import asyncio
import sys

import httpx2
from mcp import ClientSession, StdioServerParameters, types
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

INTENT = "Deploy nginx:1.27 as web with 2 replicas in staging"


async def check(session: ClientSession, expect_propose: bool) -> None:
    init = await session.initialize()
    assert init.server_info.name == "gitintent", init.server_info
    print("ok: initialize", init.protocol_version)
    tools = {t.name: t for t in (await session.list_tools()).tools}
    for name in ("plan", "validate", "list_workloads"):
        assert name in tools, f"{name} missing from {sorted(tools)}"
    assert ("propose" in tools) == expect_propose, sorted(tools)
    assert tools["plan"].annotations.read_only_hint is True
    print("ok: tools/list", sorted(tools))

    # The SDK validates structuredContent against the tool's output schema.
    result = await session.call_tool("plan", {"intent": INTENT})
    assert not result.is_error, result.content
    files = result.structured_content["files"]
    deployments = [f for f in files if f["path"].endswith("deployment.yaml")]
    assert deployments, [f["path"] for f in files]
    assert "replicas: 2" in deployments[0]["content"], deployments[0]["content"]
    print("ok: tools/call plan", deployments[0]["path"])

    result = await session.call_tool("plan", {"intent": ""})
    assert result.is_error, result
    print("ok: empty intent is an error:", result.content[0].text)


async def stdio(binary: str, repo: str) -> None:
    params = StdioServerParameters(command=binary, args=["mcp", "--repo", repo])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            await check(session, expect_propose=False)


async def choose_staging(context, params):
    """The person: picks "staging" wherever the form offers it."""
    fields = params.requested_schema["properties"]
    answers = {k: "staging" for k, f in fields.items() if "staging" in f.get("enum", [])}
    assert answers, fields
    return types.ElicitResult(action="accept", content=answers)


async def decline(context, params):
    return types.ElicitResult(action="decline")


async def elicit(binary: str, repo: str) -> None:
    """Open questions asked back through elicitation: answered, then declined."""
    params = StdioServerParameters(command=binary, args=["mcp", "--repo", repo])
    intent = "Deploy nginx:1.27 as web with 2 replicas"
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, elicitation_callback=choose_staging) as session:
            await session.initialize()
            result = await session.call_tool("plan", {"intent": intent})
            assert not result.is_error, result.content
            plan = result.structured_content
            assert plan["environment"] == "staging", plan
            assert plan["spec"]["questions"] == [], plan["spec"]["questions"]
            assert result.content[0].text.startswith("Asked the person"), result.content[0].text
            print("ok: answered through elicitation", plan["environment"])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write, elicitation_callback=decline) as session:
            await session.initialize()
            result = await session.call_tool("plan", {"intent": intent})
            assert not result.is_error, result.content
            assert result.structured_content["spec"]["questions"], result.structured_content
            assert "declined" in result.content[0].text, result.content[0].text
            print("ok: declined elicitation returns the questions")


async def http(url: str, plan_only: str, proposer: str) -> None:
    async with httpx2.AsyncClient() as client:
        response = await client.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"Accept": "application/json, text/event-stream"},
        )
        assert response.status_code == 401, response.status_code
        print("ok: no token is 401")
    for token, expect_propose in ((plan_only, False), (proposer, True)):
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as client:
            async with streamable_http_client(url, http_client=client) as streams:
                read, write = streams[0], streams[1]
                async with ClientSession(read, write) as session:
                    await check(session, expect_propose)


def main() -> None:
    mode, *args = sys.argv[1:]
    if mode == "stdio":
        asyncio.run(stdio(*args))
    elif mode == "http":
        asyncio.run(http(*args))
    elif mode == "elicit":
        asyncio.run(elicit(*args))
    else:
        sys.exit(f"unknown mode {mode!r}")


if __name__ == "__main__":
    main()
