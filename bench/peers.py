"""Optional peers on the same data (``BENCH_PEERS=postgraphile``): PostGraphile v4, pinned in bench/package.json.

PostGraphile reads the tables through its own generated schema: no session, no portal rules, no rate limit. Its
answer to the Q1 equivalent is compared with the app's on what both can say (numbers, dates, amounts, line items
and applied payments); ids, cursors and the money format differ in form.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

BENCH_DIR = Path(__file__).resolve().parent
KNOWN = ("postgraphile",)


def requested() -> tuple[str, ...]:
    peers = tuple(name.strip() for name in os.environ.get("BENCH_PEERS", "").split(",") if name.strip())
    unknown = [name for name in peers if name not in KNOWN]
    if unknown:
        raise SystemExit(f"BENCH_PEERS: unknown peer(s) {unknown}; known: {', '.join(KNOWN)}")
    return peers


def postgraphile_version() -> str:
    package = BENCH_DIR / "node_modules" / "postgraphile" / "package.json"
    return str(json.loads(package.read_text())["version"])


def install() -> None:
    """``npm ci`` from bench/package-lock.json when the pinned PostGraphile is not installed yet."""
    if not (BENCH_DIR / "node_modules" / ".bin" / "postgraphile").exists():
        subprocess.run(
            ["npm", "ci", "--prefix", str(BENCH_DIR), "--no-audit", "--no-fund", "--loglevel=error"], check=True
        )


@contextmanager
def postgraphile(dsn: str, port: int) -> Iterator[str]:
    """PostGraphile on the benchmark database; yields its GraphQL URL."""
    install()
    command = ["npx", "--no", "--", "postgraphile", "-c", dsn, "--schema", "public", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--disable-graphiql", "--disable-query-log"]
    log = tempfile.TemporaryFile()
    # its own process group: npx starts node as a child, and both are stopped together
    process = subprocess.Popen(command, cwd=BENCH_DIR, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 120
        while not _answers(url):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise SystemExit(f"postgraphile did not start:\n{log.read().decode(errors='replace')[-3000:]}")
            time.sleep(0.2)
        yield url
    finally:
        _stop_group(process)
        log.close()


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the group this process leads (npx and the node it started), SIGKILL after 10 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _answers(url: str) -> bool:
    try:
        return httpx.post(url, json={"query": "{ __typename }"}, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def _invoice(node: dict[str, Any], *, viewed: bool, lines: list[Any], payments: list[Any]) -> dict[str, Any]:
    """What both answers say about one invoice: amounts as numbers (their text differs), applied payments as
    (amount, date, mode, status) in payment date and id order."""
    same = {key: node[key] for key in ("number", "kind", "issueDate", "dueDate", "currency")}
    return {
        **same,
        "total": Decimal(node["total"]),
        "balanceDue": Decimal(node["balanceDue"]),
        "viewed": viewed,
        "lines": [
            (line["name"], *(Decimal(line[key]) for key in ("quantity", "rate", "amount", "taxAmount")))
            for line in lines
        ],
        "payments": [(Decimal(amount), date, mode, status) for amount, date, mode, status in payments],
    }


def _app_invoice(n: dict[str, Any]) -> dict[str, Any]:
    payments = [(p["amount"], p["paymentDate"], p["mode"], p["status"]) for p in n["payments"]]
    return _invoice(n, viewed=n["viewed"], lines=n["lineItems"], payments=payments)


def _peer_invoice(n: dict[str, Any]) -> dict[str, Any]:
    allocations = sorted(
        ((a, a["paymentByPaymentId"]) for a in n["paymentAllocationsByInvoiceId"]["nodes"]),
        key=lambda pair: (pair[1]["paymentDate"], int(pair[1]["id"])),
    )
    payments = [(a["amount"], p["paymentDate"], p["mode"], p["status"]) for a, p in allocations]
    return _invoice(n, viewed=n["viewedAt"] is not None, lines=n["lineItemsByInvoiceId"]["nodes"], payments=payments)


def _rows(connection: dict[str, Any], invoice: Callable[[dict[str, Any]], dict[str, Any]]) -> dict[str, Any]:
    nodes = [edge["node"] for edge in connection["edges"]]
    return {
        "totalCount": connection["totalCount"],
        "hasNextPage": connection["pageInfo"]["hasNextPage"],
        "invoices": [invoice(n) for n in nodes],
        "statuses": [n["status"] for n in nodes],
    }


def same_invoices(app: dict[str, Any], peer: dict[str, Any]) -> str | None:
    """None when both answers hold the same invoices; else what differs. The comment count is not compared (the
    peer counts staff notes the portal hides); a status the app derives (OVERDUE) is compared with the stored one."""
    if "errors" in peer or "errors" in app:
        return f"errors: app {app.get('errors')}, peer {peer.get('errors')}"
    mine = _rows(app["data"]["invoices"], _app_invoice)
    theirs = _rows(peer["data"]["allInvoices"], _peer_invoice)
    for shown, stored in zip(mine.pop("statuses"), theirs.pop("statuses"), strict=False):
        if shown != stored and not (shown == "OVERDUE" and stored in ("SENT", "PARTIALLY_PAID")):
            return f"status {shown} != {stored}"
    for key in ("totalCount", "hasNextPage"):
        if mine[key] != theirs[key]:
            return f"{key}: {mine[key]} != {theirs[key]}"
    if len(mine["invoices"]) != len(theirs["invoices"]):
        return f"{len(mine['invoices'])} invoices != {len(theirs['invoices'])}"
    for one, other in zip(mine["invoices"], theirs["invoices"], strict=True):
        if one != other:
            return f"invoice {one['number']}: {one} != {other}"
    return None
