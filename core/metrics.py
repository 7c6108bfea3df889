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
- ``portico_db_pool_connections{state}``: the pool's connections in use and idle (at scrape time);
- ``portico_outbox_pending`` and ``portico_outbox_oldest_pending_seconds``: mail waiting to be sent (at scrape
  time, through the outbox's partial index of pending mail).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

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
from starlette.requests import Request
from starlette.responses import Response

if TYPE_CHECKING:
    from services.runtime import Runtime

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
POOL = Gauge("portico_db_pool_connections", "database pool connections", ["state"], multiprocess_mode="livesum")
OUTBOX = Gauge("portico_outbox_pending", "mails waiting to be sent", multiprocess_mode="max")
OUTBOX_OLDEST = Gauge(
    "portico_outbox_oldest_pending_seconds", "age of the oldest mail waiting to be sent", multiprocess_mode="max"
)

_names: set[str] = set()


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


_OUTBOX_SQL = text(
    "SELECT count(*) AS n, coalesce(extract(epoch FROM now() - min(created_at)), 0) AS oldest FROM outbox_mail "
    "WHERE status = 'PENDING'"
)


def endpoint(runtime: Runtime) -> Any:
    """``/metrics``: the values of this process, or of every process with ``PROMETHEUS_MULTIPROC_DIR``."""

    async def metrics(request: Request) -> Response:
        await _sample(runtime)
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        else:
            registry = REGISTRY
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return metrics


async def _sample(runtime: Runtime) -> None:
    """The values read at scrape time: the pool's state and the outbox."""
    pool = runtime.db.engine.pool
    in_use = pool.checkedout()  # type: ignore[attr-defined]
    POOL.labels("in_use").set(in_use)
    POOL.labels("idle").set(max(0, pool.checkedin()))  # type: ignore[attr-defined]
    async with runtime.db.session() as session:
        row = (await session.execute(_OUTBOX_SQL)).one()
    OUTBOX.set(row.n)
    OUTBOX_OLDEST.set(float(row.oldest))
