"""`make bench-pressure`: a normal portal query's latency while 8 clients send the worst query the limits allow.

The app runs with production settings on the benchmark data (`make bench`'s generator, BENCH_SIZE). One client
(its own session and address) sends the portal invoice list (20 invoices, normal execution) every 50 ms, first
alone, then while 8 other clients (each its own session and address) send, as fast as they get answers, the most
expensive operation that passes the cost limit.
Twice: with the production rate limits (the attackers' budgets run dry and they get TOO_MANY_REQUESTS), and with
the rate limits raised, so the cost limit alone has to bound the damage. Target: loaded p50 ≤ 3 × idle p50.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections import Counter

import httpx

from bench import datagen
from bench.harness import exclusive, prepare, serve
from core.settings import Settings

SECONDS = float(os.environ.get("BENCH_DURATION", "10"))
ATTACKERS = 8
TARGET = 3.0
PACE = 0.05

NORMAL = """# a comment line makes this an arbitrary document: normal execution, never the compiled path
query InvoicePage { invoices(first: 20) { edges { node { id number status total balanceDue dueDate } } } }"""
# the most expensive shape the limit lets through on this data: a full page of 100 invoices, every line and payment
WORST = """query Worst { invoices(first: 100) { totalCount edges { cursor node {
  id number status kind issueDate dueDate currency total balanceDue viewed commentCount reference subtotal taxTotal
  lineItems { position name description quantity rate discountPercent taxName taxPercent amount taxAmount }
  payments { amount paymentDate mode status reference } } } } }"""
LOGIN = """mutation($input: LoginInput!) { login(input: $input) { ... on Session { token } } }"""


async def login(client: httpx.AsyncClient) -> str:
    credentials = {"email": datagen.PORTAL_EMAIL, "password": datagen.PASSWORD, "portal": "bench"}
    answer = await client.post("/graphql", json={"query": LOGIN, "variables": {"input": credentials}})
    client.cookies.clear()
    return str(answer.json()["data"]["login"]["token"])


async def measure(client: httpx.AsyncClient, token: str, seconds: float) -> list[float]:
    """The normal client: one request every 50 ms (a brisk user), each timed."""
    headers = {"authorization": f"Bearer {token}"}
    latencies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        answer = await client.post("/graphql", json={"query": NORMAL}, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200 and "errors" not in answer.json(), answer.text[:300]
        await asyncio.sleep(max(0.0, PACE - (time.perf_counter() - started)))
    return latencies


def client_from(base_url: str, address: str) -> httpx.AsyncClient:
    """A client whose connections come from ``address`` (127.0.0.0/8 is all loopback): its own address bucket."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=base_url, timeout=60, transport=transport)


async def attack(client: httpx.AsyncClient, token: str, stop: asyncio.Event, outcomes: Counter[str]) -> None:
    headers = {"authorization": f"Bearer {token}"}
    while not stop.is_set():
        answer = await client.post("/graphql", json={"query": WORST}, headers=headers)
        body = answer.json()
        codes = [e.get("extensions", {}).get("code") for e in body.get("errors") or []]
        outcomes[codes[0] if codes else "answered"] += 1
        if codes == ["TOO_MANY_REQUESTS"]:
            await asyncio.sleep(float(answer.headers.get("retry-after", "1")))


async def round_(base_url: str) -> tuple[float, float, Counter[str], int]:
    clients = [client_from(base_url, f"127.0.0.{n + 2}") for n in range(ATTACKERS + 1)]
    try:
        tokens = [await login(client) for client in clients]
        normal, normal_token = clients[0], tokens[0]
        probe = await clients[1].post(
            "/graphql", json={"query": WORST}, headers={"authorization": f"Bearer {tokens[1]}"}
        )
        size = len(probe.content)
        assert "errors" not in probe.json(), probe.text[:300]  # the worst query passes the limits
        await asyncio.sleep(10)  # the probe's cost refills
        idle = statistics.median(await measure(normal, normal_token, SECONDS))
        stop, outcomes = asyncio.Event(), Counter[str]()
        pairs = zip(clients[1:], tokens[1:], strict=True)
        attackers = [asyncio.create_task(attack(client, token, stop, outcomes)) for client, token in pairs]
        await asyncio.sleep(0.5)
        loaded = statistics.median(await measure(normal, normal_token, SECONDS))
        stop.set()
        await asyncio.gather(*attackers)
    finally:
        for client in clients:
            await client.aclose()
    return idle, loaded, outcomes, size


def main() -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with exclusive(settings):  # `make bench` resets the same database: one run at a time
        compare(settings)


def compare(settings: Settings) -> None:
    dsn, _, _ = asyncio.run(prepare(settings))
    base = {"ENVIRONMENT": "production", "PERSISTED_ONLY": "false", "DATABASE_URL": dsn, "MAIL_WORKER": "false"}
    raised = {f"RATE_LIMIT_{k}": "1000000000" for k in ("SESSION_BURST", "SESSION_PER_SECOND", "ADDRESS_BURST")}
    raised["RATE_LIMIT_ADDRESS_PER_SECOND"] = "1000000000"
    print(f"size={os.environ.get('BENCH_SIZE', 'small')} seconds={SECONDS:.0f} attackers={ATTACKERS}")
    for label, env in (("production rate limits", base), ("rate limits raised (cost limit alone)", {**base, **raised})):
        with serve("app:app", {**env, "LOG_LEVEL": "WARNING"}) as url:
            idle, loaded, outcomes, size = asyncio.run(round_(url))
        ratio = loaded / idle
        verdict = "met" if ratio <= TARGET else "missed"
        print(
            f"{label}: normal p50 idle {idle:.1f} ms, under attack {loaded:.1f} ms = {ratio:.2f}x "
            f"(target <= {TARGET:.0f}x: {verdict}); worst answer {size / 1024:.0f} KiB; "
            f"attacker answers {dict(outcomes)}"
        )


if __name__ == "__main__":
    main()
