"""`make bench`: generate data, start the app (production settings), the raw baseline and optional peers, load each
with wrk at c1 and c32, and report every operation beside its own raw baseline and its target.

What each figure measures is proven, not assumed: Q1 and Q2 are sent as arbitrary documents (the manifest's text
after a comment line, so no manifest entry matches), the persisted operations by ``documentId``; the app runs with
``PATH_HEADER=true`` and a probe per operation and level says which path answers (``planned``: one SQL statement
from the general planner; ``executed``: normal GraphQL execution; no header: ``compiled``), and every measured
answer must carry the same header and be data (no ``errors``). The app and the raw baseline must answer with the
same JSON (values and key order) before an operation is measured. Q1x and Q2x send Q1's and Q2's documents to
a second app process with the planner off (``PLANNED_READS=false``): what normal GraphQL execution costs, for
reference.

Environment: BENCH_SIZE (small | large, default small), BENCH_DURATION (seconds per run, default 10),
BENCH_WORKERS (app worker processes, default 1: the reference figures are for one process), BENCH_PEERS
(``postgraphile``: PostGraphile v4 on the same data, beside Q1), BENCH_ONLY (labels, e.g. ``Q1,Q4p``: only
these operations, while working on them).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import httpx

from bench import datagen, peers
from bench.harness import DEEP_POSITION, SIZE, exclusive, free_port, prepare, progress, serve, undo_mutations
from bench.load import ABSENT, PATH_HEADER, Load, Result, wrk
from bench.queries import LOGIN, M1, M2, POSTGRAPHILE_Q1, Q1, Q2, Q3, Q4, arbitrary
from bench.report import Row, Target, render
from core.ids import to_global_id
from core.persisted import sha256_hex
from core.settings import Settings

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WORKERS = os.environ.get("BENCH_WORKERS", "1")
ONLY = {label.strip() for label in os.environ.get("BENCH_ONLY", "").split(",") if label.strip()}  # while working
LEVELS = (1, 32)
BUDGET = "1000000000"
RATE_LIMITS = {
    "RATE_LIMIT_SESSION_BURST": BUDGET,
    "RATE_LIMIT_SESSION_PER_SECOND": BUDGET,
    "RATE_LIMIT_ADDRESS_BURST": BUDGET,
    "RATE_LIMIT_ADDRESS_PER_SECOND": BUDGET,
}
# targets: any document (whichever path answers) and persisted operations against raw; mutations in req/s and p99
ANY_DOCUMENT = tuple(Target("raw", 0.35, c) for c in LEVELS)
PERSISTED = tuple(Target("raw", 0.8, c) for c in LEVELS)
MUTATION = (Target("rps", 250, 32), Target("p99", 25, 1))


def graphql_body(query: str, variables: dict[str, object] | None = None, *, persisted: bool = False) -> str:
    if persisted:
        return json.dumps({"documentId": f"sha256:{sha256_hex(query)}", "variables": variables or {}})
    return json.dumps({"query": query, "variables": variables or {}})


@dataclass(frozen=True)
class Operation:
    label: str
    title: str
    bodies: tuple[str, ...]  # the first is the probe's; wrk sends the others in turn when there are several
    raw: str | None = None  # its raw baseline's label
    typename: str | None = None  # a mutation's success type
    targets: tuple[Target, ...] = ()
    planner_off: bool = False  # sent to the second app process, whose planner is off (PLANNED_READS=false)

    def load(self, url: str, token: str, path: str) -> Load:
        bodies = self.bodies if len(self.bodies) == 1 else self.bodies[1:]
        contains = f'"__typename":"{self.typename}"' if self.typename else None
        return Load(url, bodies, token, path=path, must_contain=contains)


def operations(deep_cursor: str, fresh_estimates: list[str]) -> list[Operation]:
    detail = to_global_id("Invoice", datagen.DETAIL_INVOICE)
    comment = {"input": {"targetId": to_global_id("Invoice", 1), "body": "bench comment"}}
    accepts = tuple(
        graphql_body(M2, {"id": estimate, "signatureName": "Bench"}, persisted=True) for estimate in fresh_estimates
    )
    return [
        Operation("Q1", "invoice list, any document", (graphql_body(arbitrary(Q1), {"first": 50}),), "raw Q1",
                  targets=(*ANY_DOCUMENT, Target("postgraphile", 1.5, 32))),
        Operation("Q1p", "invoice list, documentId", (graphql_body(Q1, {"first": 50}, persisted=True),), "raw Q1",
                  targets=PERSISTED),
        Operation("Q1x", "the same, planner off", (graphql_body(arbitrary(Q1), {"first": 50}),), "raw Q1",
                  planner_off=True),
        Operation("Q2", "dashboard, any document", (graphql_body(arbitrary(Q2)),), "raw Q2", targets=ANY_DOCUMENT),
        Operation("Q2p", "dashboard, documentId", (graphql_body(Q2, persisted=True),), "raw Q2",
                  targets=PERSISTED),
        Operation("Q2x", "the same, planner off", (graphql_body(arbitrary(Q2)),), "raw Q2", planner_off=True),
        Operation("Q3p", "estimate list, documentId", (graphql_body(Q3, {"first": 20}, persisted=True),), "raw Q3",
                  targets=PERSISTED),
        Operation("Q3p deep", f"estimates after {DEEP_POSITION:,}, documentId",
                  (graphql_body(Q3, {"first": 20, "after": deep_cursor}, persisted=True),), "raw Q3 deep",
                  targets=PERSISTED),
        Operation("Q4p", "invoice detail, documentId", (graphql_body(Q4, {"id": detail}, persisted=True),), "raw Q4",
                  targets=PERSISTED),
        Operation("M1", "addComment, documentId", (graphql_body(M1, comment, persisted=True),), typename="Comment",
                  targets=MUTATION),
        Operation("M2", "acceptEstimate, documentId", accepts, typename="Estimate", targets=MUTATION),
    ]  # fmt: skip


def raw_paths(deep_cursor: str) -> dict[str, str]:
    detail = to_global_id("Invoice", datagen.DETAIL_INVOICE)
    return {
        "raw Q1": "/q1",
        "raw Q2": "/q2",
        "raw Q3": "/q3?first=20",
        "raw Q3 deep": f"/q3?first=20&after={deep_cursor}",
        "raw Q4": f"/q4?id={detail}",
    }


def first_difference(a: Any, b: Any, where: str = "") -> str | None:
    """Where two parsed JSON values differ (values, types and key order), or None."""
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return f"{where or '/'}: keys {list(a)} != {list(b)}"
        return next((d for k in a if (d := first_difference(a[k], b[k], f"{where}/{k}")) is not None), None)
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{where or '/'}: {len(a)} items != {len(b)}"
        pairs = enumerate(zip(a, b, strict=True))
        return next((d for i, (x, y) in pairs if (d := first_difference(x, y, f"{where}/{i}")) is not None), None)
    if type(a) is not type(b) or a != b:
        return f"{where or '/'}: {json.dumps(a)[:200]} != {json.dumps(b)[:200]}"
    return None


class Bench:
    """The servers of one run, the session, and the probes that decide what each figure means."""

    def __init__(self, apps: tuple[str, str], raw: str, peer: str | None, token: str, deep_cursor: str) -> None:
        self.graphql, self.unplanned = (app + "/graphql" for app in apps)
        self.raw = raw
        self.peer = peer
        self.token = token
        self.raw_paths = raw_paths(deep_cursor)
        self.headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}

    def probe(self, op: Operation) -> tuple[str, str, Any]:
        """Send the operation once: the path that answered, the header value every answer must carry, the answer."""
        response = httpx.post(self.url(op), content=op.bodies[0], headers=self.headers, timeout=30)
        answer = json.loads(response.text)
        if response.status_code != 200 or "errors" in answer:
            codes = {error.get("extensions", {}).get("code") for error in answer.get("errors", [])}
            hint = " (the bench session was signed out: another run's reset of this database deletes every session)"
            raise SystemExit(
                f"{op.label}: the probe was not answered with data{hint if 'UNAUTHENTICATED' in codes else ''}: "
                f"{response.text[:800]}"
            )
        if op.typename and next(iter(answer["data"].values()))["__typename"] != op.typename:
            raise SystemExit(f"{op.label}: the probe answered {response.text[:800]}")
        header = response.headers.get(PATH_HEADER)
        return header or "compiled", header or ABSENT, answer

    def url(self, op: Operation) -> str:
        return self.unplanned if op.planner_off else self.graphql

    def check_raw(self, op: Operation, answer: Any) -> None:
        """The app's answer and the raw baseline's must be the same JSON, or the ratio means nothing."""
        assert op.raw is not None
        raw = httpx.get(self.raw + self.raw_paths[op.raw], headers=self.headers, timeout=30)
        difference = first_difference(answer, json.loads(raw.text))
        if difference is not None:
            raise SystemExit(f"{op.label}: the app and the raw baseline answer differently at {difference}")

    def check_peer(self, answer: Any) -> None:
        assert self.peer is not None
        peer = httpx.post(self.peer, json={"query": POSTGRAPHILE_Q1}, timeout=30).json()
        difference = peers.same_invoices(answer, peer)
        if difference is not None:
            raise SystemExit(f"postgraphile: its Q1 equivalent holds other data: {difference}")

    def level(self, concurrency: int, ops: list[Operation]) -> tuple[list[Row], Result | None]:
        """Probe and check every operation, then measure each beside its baseline (reads first, mutations last)."""
        probed: dict[str, tuple[str, str]] = {}
        for op in ops:
            if op.typename is None:
                path, header, answer = self.probe(op)
                self.check_raw(op, answer)
                if op.label == "Q1" and self.peer:
                    self.check_peer(answer)
                probed[op.label] = (path, header)
        for op in ops:
            if op.typename is not None:
                path, header, _ = self.probe(op)
                probed[op.label] = (path, header)
        progress(f"c{concurrency}: every read answers as its raw baseline does; paths: {probed}")
        rows: list[Row] = []
        baselines: dict[str, Result] = {}
        peer_result = None
        for op in ops:
            if op.raw and op.raw not in baselines:
                load = Load(self.raw + self.raw_paths[op.raw], token=self.token)
                baselines[op.raw] = wrk(op.raw, load, concurrency, DURATION)
                rows.append(Row(op.raw, "", baselines[op.raw], ""))
            path, header = probed[op.label]
            result = wrk(op.label, op.load(self.url(op), self.token, header), concurrency, DURATION)
            rows.append(Row(op.label, op.title, result, path, baselines.get(op.raw or ""), op.targets))
            if op.label == "Q1" and self.peer:
                load = Load(self.peer, (json.dumps({"query": POSTGRAPHILE_Q1}),))
                peer_result = wrk("postgraphile Q1", load, concurrency, DURATION)
                rows.append(Row("postgraphile Q1", "(no session, no rate limit)", peer_result, ""))
        return rows, peer_result


def header(peer_names: tuple[str, ...], load: str) -> list[str]:
    lines = [
        f"size={SIZE} duration={DURATION}s app_workers={WORKERS} levels=c1,c32 (wrk: 1 thread at c1, 2 at c32); "
        f"{os.cpu_count()} cores, load average {load} at start (a shared machine: figures are noisy)",
        "app: ENVIRONMENT=production PERSISTED_ONLY=false (arbitrary documents accepted) PATH_HEADER=true",
        f"rate limits: on, budgets raised for one benchmark session, not switched off ({', '.join(RATE_LIMITS)} = "
        f"{BUDGET}): every request still pays the rate-limit statement",
        "documents: Q1, Q2 = the manifest's text after a comment line (no manifest match: an ad-hoc query); "
        "*p, M1, M2 = by documentId; Q1x, Q2x = Q1's and Q2's documents on a second app process with "
        "PLANNED_READS=false (normal execution for reference, no target; idle while the others are measured)",
        "path: x-portico-path of a probe per operation and level (planned = one SQL statement from the planner, "
        "executed = normal GraphQL execution, no header = compiled); each measured answer must carry the same "
        "header and be data, else the figure is INVALID",
        "parity: before each level, each read's answer equals its raw baseline's (Starlette + asyncpg, one "
        "hand-written SQL with the same session check): parsed JSON, values and key order",
    ]
    if "postgraphile" in peer_names:
        lines.append(
            f"postgraphile {peers.postgraphile_version()}: Q1's equivalent in its generated schema (contact 1's "
            "first 50 invoices by issue date and id, descending, with line items, payment allocations, comment "
            "count); NO session check, no portal rules, no rate limit; its data checked against Q1's (invoice "
            "numbers, dates, totals, line items, applied payments; not the comment count, which counts staff-only "
            "notes)"
        )
    return lines


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    peer_names = peers.requested()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    with exclusive(settings):
        measure(settings, peer_names, load)


def measure(settings: Settings, peer_names: tuple[str, ...], load: str) -> None:
    dsn, deep_cursor, fresh_estimates = asyncio.run(prepare(settings))
    app_env = {
        "ENVIRONMENT": "production",
        "DATABASE_URL": dsn,
        "MAIL_WORKER": "false",
        "LOG_LEVEL": "WARNING",
        "BROADCAST_URL": "memory://",
        "DB_POOL_SIZE": "10",
        "PERSISTED_ONLY": "false",
        "PATH_HEADER": "true",
        **RATE_LIMITS,
    }
    with ExitStack() as servers:
        app_url = servers.enter_context(serve("app:app", app_env, WORKERS))
        # a second app process for the reference rows (Q1x, Q2x): normal GraphQL execution of the same documents
        unplanned_url = servers.enter_context(serve("app:app", {**app_env, "PLANNED_READS": "false"}, WORKERS))
        raw_url = servers.enter_context(serve("bench.raw_server:app", {"BENCH_DSN": dsn}))
        peer_url = None
        if "postgraphile" in peer_names:
            peer_url = servers.enter_context(peers.postgraphile(dsn, free_port()))
        credentials = {"input": {"email": datagen.PORTAL_EMAIL, "password": datagen.PASSWORD, "portal": "bench"}}
        login = httpx.post(
            app_url + "/graphql",
            content=graphql_body(LOGIN, credentials, persisted=True),
            headers={"content-type": "application/json"},
        ).json()
        bench = Bench((app_url, unplanned_url), raw_url, peer_url, login["data"]["login"]["token"], deep_cursor)
        ops = [op for op in operations(deep_cursor, fresh_estimates) if not ONLY or op.label in ONLY]
        rows: list[Row] = []
        peer: dict[int, Result] = {}
        for concurrency in LEVELS:
            if concurrency != LEVELS[0]:
                asyncio.run(undo_mutations(dsn))  # the next level starts from the same data
            level_rows, peer_result = bench.level(concurrency, ops)
            rows += level_rows
            if peer_result is not None:
                peer[concurrency] = peer_result
    print("\n" + render(header(peer_names, load), rows, peer))


if __name__ == "__main__":
    main()
