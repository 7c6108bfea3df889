"""Probes for whoever runs the process (an orchestrator, a load balancer, an operator):

- ``/livez``: the process answers (nothing else is asked: a database outage must not get it restarted);
- ``/readyz``: it can serve: the database answers and its schema is at the migrations' head, the broadcast backend
  takes a message (live events would be lost otherwise), and the mail worker runs when it is on. 200 with each check,
  or 503 naming the one that failed; ``/healthz`` is the same (older configurations probe it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import TYPE_CHECKING

from alembic.script import ScriptDirectory
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse

from services.migrations import alembic_config

if TYPE_CHECKING:
    from services.runtime import Runtime

log = logging.getLogger(__name__)

CHECK_SECONDS = 2.0  # each check's time limit: a probe answers within a few seconds whatever hangs
READINESS_CHANNEL = "portico.readiness"


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The revisions the code's migrations end at."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


async def livez(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"})


async def readiness(runtime: Runtime) -> tuple[bool, dict[str, str]]:
    """Each check's outcome, and whether all of them allow serving."""
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(CHECK_SECONDS), runtime.db.session() as session:
            applied = frozenset((await session.execute(text("SELECT version_num FROM alembic_version"))).scalars())
        checks["database"] = "up"
        heads = migration_heads()
        checks["migrations"] = "head" if applied == heads else f"at {', '.join(sorted(applied)) or 'none'}, not head"
    except Exception:  # any failure means not ready; the log says why
        log.exception("readiness: the database check failed")
        checks["database"], checks["migrations"] = "down", "unknown"
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await runtime.broker.publish(READINESS_CHANNEL, {})
        checks["broadcast"] = "up"
    except Exception:
        log.exception("readiness: the broadcast backend did not take a message")
        checks["broadcast"] = "down"
    worker = runtime.outbox
    if not runtime.settings.mail_worker:
        checks["outbox"] = "off"
    else:
        checks["outbox"] = "running" if worker is not None and worker.running else "stopped"
    ready = (
        checks["database"] == "up"
        and checks["migrations"] == "head"
        and checks["broadcast"] == "up"
        and checks["outbox"] != "stopped"
    )
    return ready, checks


def readyz(runtime: Runtime) -> Callable[[Request], Awaitable[JSONResponse]]:
    """The ``/readyz`` (and ``/healthz``) endpoint of ``runtime``."""

    async def endpoint(request: Request) -> JSONResponse:
        ready, checks = await readiness(runtime)
        body = {"status": "ok" if ready else "unavailable", **checks}
        return JSONResponse(body, status_code=200 if ready else 503)

    return endpoint
