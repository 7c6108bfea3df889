"""Subscription fan-out: N websocket subscribers on one app process, from a mutation's commit to each delivery.

``make bench-fanout`` (``python -m bench.fanout --subscribers 1000,5000``). What it does:
- a private redis-server on a free port and a fresh database (``portico_bench_fanout``), migrated;
- two app processes (uvicorn, one worker each) sharing ``BROADCAST_URL=redis://…``: A holds every subscriber,
  B only takes mutations;
- N graphql-transport-ws clients (this process, asyncio + websockets) on A, spread over a few staff users, each
  subscribed to ``documentStatusChanged``;
- per round, ``sendEstimate`` on a fresh draft, on A (same instance) and then on B (cross-instance hop); each
  client notes when the event arrives. The start is the estimate's ``sentAt``: PostgreSQL's ``now()`` of the
  mutation's transaction, a little before its commit (so the figures are slightly pessimistic);
- memory per connection: A's resident set size after the N clients subscribed, less before, over N.
Everything runs on one machine: the clients compete with the servers, PostgreSQL and Redis for the cores.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx
import orjson
from sqlalchemy import insert
from websockets.asyncio.client import ClientConnection, connect

from core.auth import issue_session
from core.database import Database, drop_database, ensure_database, make_engine, server_url
from core.scope import T_CONTACT, T_ORGANIZATION, T_STAFF_USER
from core.settings import PROJECT_ROOT, Settings
from services.documents.lines import LineDraft
from services.migrations import run_alembic
from subscriptions.broker import Broker
from subscriptions.events import DocumentStatusChanged, encode, organization_channel

DATABASE = "portico_bench_fanout"
SUBSCRIPTION = """subscription { documentStatusChanged {
  document { id number ... on Estimate { status sentAt total } } previousStatus status actor { __typename } } }"""
SEND = "mutation($id: ID!) { sendEstimate(id: $id) { __typename } }"
TARGETS = {1000: 0.150, 5000: 0.500}  # all delivered within, seconds
HOP_TARGET = 0.020


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_open_file_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


@contextmanager
def redis_server() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        sys.exit("redis-server is not installed")
    port = free_port()
    command = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


@contextmanager
def app_process(database_url: str, broadcast_url: str, profile: str | None = None) -> Iterator[tuple[str, int]]:
    """``uvicorn app:app`` on a free port; yields (base URL, pid)."""
    port = free_port()
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "BROADCAST_URL": broadcast_url,
        "SMTP_URL": "",
        "MAIL_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "PERSISTED_ONLY": "false",
    }
    if profile:
        command = [sys.executable, "-m", "bench.fanout", "--serve-profiled", f"{port}:{profile}"]
    else:
        command = [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--log-level", "warning", "--no-access-log", "--ws", "websockets-sansio", "--backlog", "8192"]
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    sys.exit(f"the app did not start:\n{log.read().decode(errors='replace')}")
                time.sleep(0.1)
            yield base_url, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def serve_profiled(port: int, path: str) -> None:
    """Serve the app under cProfile until terminated, then write the profile to ``path``."""
    import contextlib
    import cProfile
    import signal

    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:  # uvicorn re-raises SIGTERM at exit: the profile would be lost
            yield

    config = uvicorn.Config("app:app", host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio")
    config.access_log = False
    server = Server(config)
    signal.signal(signal.SIGTERM, lambda *_: setattr(server, "should_exit", True))
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        server.run()
    finally:
        profiler.disable()
        profiler.dump_stats(path)


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@dataclass
class World:
    organization_id: int
    staff_tokens: list[str]
    drafts: list[tuple[int, str]]  # (pk, global id)
    probe: tuple[int, int]  # (estimate pk, contact pk)


async def build_world(settings: Settings, *, subscribers: int, staff_users: int, drafts: int) -> World:
    from core.ids import to_global_id
    from tests.factories import Factory, Row

    db = Database(make_engine(await _database_url(settings), settings))
    try:
        factory = Factory(db, settings)
        async with db.transaction() as session:
            org_id = await session.scalar(
                insert(T_ORGANIZATION)
                .values(name="Fan-out Co", portal_slug="fanout", base_currency="USD", payment_gateways=["CARD"])
                .returning(T_ORGANIZATION.c.id)
            )
            staff_ids = [
                await session.scalar(
                    insert(T_STAFF_USER)
                    .values(
                        organization_id=org_id,
                        email=f"staff{i}@fanout.test",
                        name=f"Staff {i}",
                        role="OWNER",
                        password_hash="-",
                    )
                    .returning(T_STAFF_USER.c.id)
                )
                for i in range(staff_users)
            ]
            contact_id = await session.scalar(
                insert(T_CONTACT)
                .values(organization_id=org_id, display_name="Fan-out Client", currency="USD")
                .returning(T_CONTACT.c.id)
            )
            tokens = []
            for n in range(subscribers):
                issued = await issue_session(
                    session, settings, organization_id=org_id, staff_user_id=staff_ids[n % staff_users]
                )
                tokens.append(issued.token)
        contact = Row(contact_id, to_global_id("Contact", contact_id), {"organization_id": org_id, "currency": "USD"})
        lines = [LineDraft(name="Work", quantity=Decimal(1), rate=Decimal(100))]
        draft_rows = [await factory.estimate(contact, lines=lines, status="DRAFT") for _ in range(drafts)]
        probe = await factory.estimate(contact, lines=lines)
        return World(org_id, tokens, [(row.pk, row.gid) for row in draft_rows], (probe.pk, contact_id))
    finally:
        await db.dispose()


async def _database_url(settings: Settings) -> Any:
    return (await asyncio.to_thread(server_url, settings)).set(database=DATABASE)


@dataclass
class Subscriber:
    socket: ClientConnection
    arrivals: dict[str, float] = field(default_factory=dict)  # document id -> arrival time
    events: int = 0


async def open_subscriber(ws_url: str, token: str) -> Subscriber:
    ws = await connect(ws_url, subprotocols=["graphql-transport-ws"], max_queue=None, ping_interval=None)
    await ws.send(orjson.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}).decode())
    ack = orjson.loads(await ws.recv())
    assert ack["type"] == "connection_ack", ack
    await ws.send(orjson.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}).decode())
    return Subscriber(ws)


async def read(subscriber: Subscriber) -> None:
    async for raw in subscriber.socket:
        arrived = time.time()
        message = orjson.loads(raw)
        if message["type"] == "ping":
            await subscriber.socket.send('{"type":"pong"}')
        elif message["type"] == "next":
            document = message["payload"]["data"]["documentStatusChanged"]["document"]
            subscriber.arrivals.setdefault(document["id"], arrived)
            subscriber.events += 1


async def settled(subscribers: list[Subscriber], quiet: float = 1.0) -> None:
    """Wait until no event has arrived for ``quiet`` seconds."""
    while True:
        before = sum(s.events for s in subscribers)
        await asyncio.sleep(quiet)
        if sum(s.events for s in subscribers) == before:
            return


@dataclass
class Round:
    instance: str
    latencies: list[float]  # seconds from sentAt to arrival, one per subscriber that got it
    expected: int
    server_cpu: float = 0.0  # CPU seconds the subscribers' app process spent during the round

    @property
    def all_delivered(self) -> float | None:
        return max(self.latencies) if len(self.latencies) == self.expected else None


async def run_round(
    client: httpx.AsyncClient, base_url: str, token: str, draft: tuple[int, str], subscribers: list[Subscriber]
) -> Round:
    response = await client.post(
        f"{base_url}/graphql",
        json={"query": SEND, "variables": {"id": draft[1]}},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.json()["data"]["sendEstimate"]["__typename"] == "Estimate", response.text
    deadline = time.monotonic() + 30
    while any(draft[1] not in s.arrivals for s in subscribers) and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    sent_at = await _sent_at(client, base_url, token, draft[1])
    latencies = [s.arrivals[draft[1]] - sent_at for s in subscribers if draft[1] in s.arrivals]
    return Round(base_url, latencies, len(subscribers))


async def _sent_at(client: httpx.AsyncClient, base_url: str, token: str, gid: str) -> float:
    query = "query($id: ID!) { estimate(id: $id) { sentAt } }"
    response = await client.post(
        f"{base_url}/graphql",
        json={"query": query, "variables": {"id": gid}},
        headers={"authorization": f"Bearer {token}"},
    )
    return dt.datetime.fromisoformat(response.json()["data"]["estimate"]["sentAt"]).timestamp()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds * 1000:.0f}"


async def bench(
    n: int, args: argparse.Namespace, world: World, a: tuple[str, int], b: tuple[str, int], redis: str
) -> dict[str, Any]:
    (url_a, pid_a), (url_b, _) = a, b
    ws_url = url_a.replace("http", "ws", 1) + "/graphql"
    rss_before = rss_bytes(pid_a)
    limit = asyncio.Semaphore(100)

    async def opened(token: str) -> Subscriber:
        async with limit:
            return await open_subscriber(ws_url, token)

    started = time.monotonic()
    subscribers = list(await asyncio.gather(*(opened(world.staff_tokens[i]) for i in range(n))))
    readers = [asyncio.create_task(read(s)) for s in subscribers]
    connect_seconds = time.monotonic() - started
    # sync point: probes until every subscription listens (one published before it registers is not delivered)
    probes = Broker(redis)
    await probes.connect()
    probe_pk, contact_pk = world.probe
    probe_event = encode(DocumentStatusChanged("ESTIMATE", probe_pk, contact_pk, "SENT", "SENT"))
    deadline = time.monotonic() + 300
    while any(s.events == 0 for s in subscribers):
        if time.monotonic() > deadline:
            sys.exit("subscriptions did not start")
        await probes.publish(organization_channel(world.organization_id), probe_event)
        # one probe at a time: a probe fans out to every subscriber, a backlog of them would delay the rounds
        wait_until = time.monotonic() + 15
        while any(s.events == 0 for s in subscribers) and time.monotonic() < wait_until:
            await asyncio.sleep(0.05)
    await probes.disconnect()
    await settled(subscribers)
    rss_after = rss_bytes(pid_a)
    rounds: dict[str, list[Round]] = {"same": [], "cross": []}
    async with httpx.AsyncClient(timeout=30) as client:
        for _ in range(args.rounds):
            for instance, base_url in (("same", url_a), ("cross", url_b)):
                draft = world.drafts.pop()
                cpu_before = cpu_seconds(pid_a)
                outcome = await run_round(client, base_url, world.staff_tokens[0], draft, subscribers)
                outcome.server_cpu = cpu_seconds(pid_a) - cpu_before
                rounds[instance].append(outcome)
                await settled(subscribers, 0.3)
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(s.socket.close() for s in subscribers), return_exceptions=True)
    await asyncio.sleep(1)
    return {
        "n": n,
        "connect_seconds": connect_seconds,
        "bytes_per_connection": (rss_after - rss_before) / n,
        "rounds": rounds,
    }


def summarize(result: dict[str, Any]) -> list[str]:
    n = result["n"]
    lines = [f"N = {n:,} subscriber(s), connected in {result['connect_seconds']:.1f} s"]
    if n >= 100:  # below that, the process's own noise dominates
        lines[0] += f", {result['bytes_per_connection'] / 1024:.0f} KiB per connection on the app process"
    p50s: dict[str, float] = {}
    alls: dict[str, float] = {}
    for instance, label in (("same", "mutation on the same process"), ("cross", "mutation on another process")):
        rounds: list[Round] = result["rounds"][instance]
        every = [latency for r in rounds for latency in r.latencies]
        delivered = [r.all_delivered for r in rounds]
        complete = [d for d in delivered if d is not None]
        p50s[instance] = statistics.median(percentile(r.latencies, 0.5) for r in rounds if r.latencies)
        alls[instance] = statistics.median(complete) if complete else float("inf")
        lines.append(
            f"  {label}: p50 {ms(percentile(every, 0.5))} ms, p99 {ms(percentile(every, 0.99))} ms, "
            f"all delivered (median of {len(rounds)} rounds) {ms(alls[instance])} ms "
            f"[rounds: {', '.join(ms(d) for d in delivered)}]"
        )
    cpu = statistics.median(r.server_cpu for r in result["rounds"]["cross"])
    if n >= 100:
        lines.append(f"  subscribers' process CPU per delivered event: {cpu / n * 1e6:.0f} µs (median cross round)")
    target = TARGETS.get(n)
    if target is not None:
        verdict = "meets" if alls["same"] <= target else f"misses by {ms(alls['same'] - target)} ms"
        lines.append(f"  target: all delivered within {ms(target)} ms: {verdict}")
    hop = p50s["cross"] - p50s["same"]
    verdict = "meets" if hop < HOP_TARGET else f"misses by {ms(hop - HOP_TARGET)} ms"
    lines.append(f"  cross-instance hop: +{ms(hop)} ms at p50 (target < {ms(HOP_TARGET)} ms: {verdict})")
    return lines


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--subscribers", default="1,1000,5000", help="comma-separated subscriber counts (1 isolates the hop)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="mutations per instance and subscriber count")
    parser.add_argument("--staff-users", type=int, default=10, help="subscribers are spread over this many users")
    parser.add_argument("--profile", help="write a cProfile of the subscribers' app process to this file")
    parser.add_argument("--serve-profiled", help=argparse.SUPPRESS)
    return parser.parse_args()


async def main(args: argparse.Namespace) -> None:
    counts = [int(part) for part in args.subscribers.split(",")]
    print(f"open-file limit: {raise_open_file_limit()}")
    settings = Settings(_env_file=None, environment="development", broadcast_url="memory://")  # type: ignore[call-arg]
    url = await _database_url(settings)
    await drop_database(url)
    await ensure_database(url)
    await run_alembic(url, "upgrade", "head")
    database_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
    world = await build_world(
        settings, subscribers=max(counts), staff_users=args.staff_users, drafts=2 * args.rounds * len(counts)
    )
    results = []
    try:
        with (
            redis_server() as redis,
            app_process(database_url, redis, args.profile) as a,
            app_process(database_url, redis) as b,
        ):
            for n in counts:
                print(f"benchmarking {n:,} subscribers…", flush=True)
                results.append(await bench(n, args, world, a, b, redis))
    finally:
        await drop_database(url)
    print(f"\nsubscription fan-out, {os.cpu_count()} cores, {args.staff_users} staff users, BROADCAST_URL=redis://")
    for result in results:
        print("\n".join(summarize(result)))


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.serve_profiled:
        port, path = arguments.serve_profiled.split(":", 1)
        serve_profiled(int(port), path)
    else:
        asyncio.run(main(arguments))
