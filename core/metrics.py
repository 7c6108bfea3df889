"""Prometheus metrics (``prometheus-client``), served at ``/metrics`` only when ``METRICS_ENABLED`` is on.

Several worker processes: set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory writable by all of them (cleared
at each deploy); every process then writes its values there and ``/metrics`` on any of them answers for all.

Families (dashboard-ready names, also in the README):
- ``portico_requests_total{operation,type,outcome}``: HTTP requests by GraphQL operation name (``other`` past 200
  distinct names: an ad-hoc client must not blow up the series), type and outcome (``ok``, the first top-level
  error code, or ``http_<status>``);
- ``portico_request_duration_seconds{operation}``: their latency;
- ``portico_open_sockets``: websocket connections open now;
- ``portico_events_published_total`` / ``portico_events_delivered_total``: live events sent to the broadcast
  backend, and frames of them written to sockets;
- ``portico_subscriptions{field}``: subscription operations streaming now, by their field;
- ``portico_events_dropped_total{reader}``: live events not delivered because their reader fell behind: a
  ``socket`` whose writes had backed up (closed as a slow consumer), or a process's ``listener`` of an
  organization's channel (its unread events are dropped and its sockets closed, to reconnect);
- ``portico_db_pool_connections{state}``: the pool's connections ``in_use`` and ``idle`` (sampled every few
  seconds and at scrape time), and ``waiting``: checkouts waiting now for a free or a new connection (live);
- ``portico_outbox_pending`` and ``portico_outbox_oldest_pending_seconds``: mail waiting to be sent (sampled,
  through the outbox's partial index of pending mail);
- ``portico_outbox_mails_total{outcome}``: mails ``queued`` (committed to the outbox), ``sent``, ``retried``
  (an attempt failed, another is due later) and ``failed`` (the last attempt failed);
- ``portico_payment_attempts_total{status}``: payment attempts entering each status (``CREATED``,
  ``REQUIRES_ACTION``, ``PROCESSING``, ``SUCCEEDED``, ``FAILED``), counted once their transaction committed;
- ``portico_throttled_total{limit}``: refusals by a throttle: ``requests`` (the rate limits, TOO_MANY_REQUESTS),
  ``attempts`` (sign-in, codes and tokens, TOO_MANY_ATTEMPTS), ``forwards`` (TOO_MANY_FORWARDS).

With ``METRICS_PORT`` the families are served on that port only (every worker listens on it, with SO_REUSEPORT),
not beside the API; with ``METRICS_ENABLED`` off they are served nowhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

if TYPE_CHECKING:
    from services.runtime import Runtime

log = logging.getLogger(__name__)

MAX_OPERATION_NAMES = 200

REQUESTS = Counter("portico_requests", "HTTP requests by GraphQL operation", ["operation", "type", "outcome"])
DURATION = Histogram(
    "portico_request_duration_seconds",
    "HTTP request latency by GraphQL operation",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
OPEN_SOCKETS = Gauge("portico_open_sockets", "websocket connections open now", multiprocess_mode="livesum")
EVENTS_PUBLISHED = Counter("portico_events_published", "live events sent to the broadcast backend")
EVENTS_DELIVERED = Counter("portico_events_delivered", "frames of live events written to sockets")
SUBSCRIPTIONS = Gauge(
    "portico_subscriptions", "subscription operations streaming now", ["field"], multiprocess_mode="livesum"
)
EVENTS_DROPPED = Counter("portico_events_dropped", "live events dropped for a slow reader", ["reader"])
POOL = Gauge("portico_db_pool_connections", "database pool connections", ["state"], multiprocess_mode="livesum")
POOL_WAITING = POOL.labels("waiting")
OUTBOX_MAILS = Counter("portico_outbox_mails", "mails through the outbox, by outcome", ["outcome"])
PAYMENT_ATTEMPTS = Counter("portico_payment_attempts", "payment attempts entering a status", ["status"])
THROTTLED = Counter("portico_throttled", "refusals by a throttle", ["limit"])
OUTBOX = Gauge("portico_outbox_pending", "mails waiting to be sent", multiprocess_mode="max")
OUTBOX_OLDEST = Gauge(
    "portico_outbox_oldest_pending_seconds", "age of the oldest mail waiting to be sent", multiprocess_mode="max"
)

_names: set[str] = set()


def fresh_multiprocess_directory() -> None:
    """Empty ``PROMETHEUS_MULTIPROC_DIR`` before the workers start (``app.py serve``): files of a previous run's
    processes would otherwise be summed with this run's (prometheus-client's rule: wipe it between runs)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def operation_label(name: str | None) -> str:
    """A bounded label for an operation's name (``anonymous`` without one, ``other`` past the first 200)."""
    if not name:
        return "anonymous"
    if name in _names:
        return name
    if len(_names) >= MAX_OPERATION_NAMES:
        return "other"
    _names.add(name)
    return name


def record_request(operations: list[dict[str, Any]], status: int, seconds: float) -> None:
    """One HTTP request, as the access log saw it (``core.accesslog``)."""
    if not operations:
        operations = [{"operation": None, "operation_type": "none", "error_codes": []}]
    for operation in operations:
        label = operation_label(operation.get("operation"))
        codes = operation.get("error_codes") or []
        outcome = codes[0] if codes else ("ok" if status < 400 else f"http_{status}")
        REQUESTS.labels(label, operation.get("operation_type") or "none", outcome).inc()
        DURATION.labels(label).observe(seconds)


def counted(child: Any, amount: float = 1) -> Callable[[], Awaitable[None]]:
    """An after-commit callback (``core.database.after_commit``) that adds ``amount`` to a counter's ``child``:
    what a rolled-back transaction did is not counted."""

    async def count() -> None:
        child.inc(amount)

    return count


_OUTBOX_SQL = text(
    "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest FROM outbox_mail "
    "WHERE status = 'PENDING'"
)
SAMPLE_SECONDS = 5.0
OUTBOX_WAIT_SECONDS = 1.0


def endpoint(runtime: Runtime) -> Callable[[Request], Awaitable[Response]]:
    """``/metrics``: the values of this process, or of every process with ``PROMETHEUS_MULTIPROC_DIR``."""

    async def metrics(request: Request) -> Response:
        await sample(runtime)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = REGISTRY
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


async def sample(runtime: Runtime) -> None:
    """The values read rather than counted: this process's pool, and the outbox (given up after a second: a
    scrape while every connection is taken answers at once, with the outbox's last values)."""
    pool = runtime.db.engine.pool
    POOL.labels("in_use").set(pool.checkedout())  # type: ignore[attr-defined]
    POOL.labels("idle").set(max(0, pool.checkedin()))  # type: ignore[attr-defined]
    try:
        row = await asyncio.wait_for(_outbox(runtime), OUTBOX_WAIT_SECONDS)
    except TimeoutError:
        log.info("the outbox was not sampled: no database connection within %s s", OUTBOX_WAIT_SECONDS)
        return
    OUTBOX.set(row.n)
    OUTBOX_OLDEST.set(float(row.oldest))


async def _outbox(runtime: Runtime) -> Any:
    async with runtime.db.session() as session:
        return (await session.execute(_OUTBOX_SQL)).one()


async def sample_forever(runtime: Runtime, every: float = SAMPLE_SECONDS) -> None:
    """``sample`` every few seconds: a scrape answered by another worker still sees this one's pool."""
    while True:
        try:
            await sample(runtime)
        except Exception as error:  # (the database away: the probes say so; the next round tries again)
            log.debug("metrics sample failed: %s", error)
        await asyncio.sleep(every)


class _SideServer(uvicorn.Server):
    """uvicorn serving the metrics port inside the app's process: the API's server keeps the signals."""

    def capture_signals(self) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()


@contextlib.asynccontextmanager
async def served_apart(runtime: Runtime, host: str, port: int) -> AsyncIterator[None]:
    """``/metrics`` on ``host:port`` while the block runs. Every worker process binds the port with SO_REUSEPORT,
    so a scrape reaches one of them (which answers for all with ``PROMETHEUS_MULTIPROC_DIR``)."""
    app = Starlette(routes=[Route("/metrics", endpoint(runtime), methods=["GET"])])
    server = _SideServer(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", server_header=False))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    listener.bind((host, port))
    listener.set_inheritable(True)
    task = asyncio.create_task(server.serve(sockets=[listener]), name="metrics port")
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # (it failed to start: say why)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def collecting(runtime: Runtime) -> AsyncIterator[None]:
    """While the app runs: the sampler, and with ``METRICS_PORT`` the port apart (nothing without
    ``METRICS_ENABLED``)."""
    settings = runtime.settings
    if not settings.metrics_enabled:
        yield
        return
    sampler = asyncio.create_task(sample_forever(runtime), name="metrics sampler")
    try:
        if settings.metrics_port:
            async with served_apart(runtime, settings.metrics_host or settings.host, settings.metrics_port):
                yield
        else:
            yield
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
