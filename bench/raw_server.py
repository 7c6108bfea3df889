"""The raw baseline: Starlette + asyncpg, one hand-written SQL per query producing the GraphQL response's JSON.

It checks the same bearer session as the app (one CTE in the same statement), so the comparison is fair: the
difference is what GraphQL costs. Arguments come in the query string (``/q3?first=20&after=<cursor>``,
``/q4?id=<global id>``) and are decoded here by hand, as a hand-written endpoint would.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.queries import Q1_SQL, Q2_SQL, Q3_AFTER_SQL, Q3_SQL, Q4_SQL

UNAUTHENTICATED = {"errors": [{"message": "Sign in", "extensions": {"code": "UNAUTHENTICATED"}}]}
BAD_INPUT = {"errors": [{"message": "Bad argument", "extensions": {"code": "BAD_USER_INPUT"}}]}

pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=10)
    try:
        yield
    finally:
        await pool.close()


def _unbase64(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def q1(params: Any) -> tuple[str, tuple[Any, ...]]:
    return Q1_SQL, ()


def q2(params: Any) -> tuple[str, tuple[Any, ...]]:
    return Q2_SQL, ()


def q3(params: Any) -> tuple[str, tuple[Any, ...]]:
    """The estimate page: ``first``, and ``after`` a cursor ``["YYYY-MM-DD", id]``."""
    first = int(params.get("first", "20"))
    if "after" not in params:
        return Q3_SQL, (first,)
    issue_date, pk = json.loads(_unbase64(params["after"]))
    return Q3_AFTER_SQL, (first, date.fromisoformat(issue_date), int(pk))


def q4(params: Any) -> tuple[str, tuple[Any, ...]]:
    """One invoice by global id (``Invoice:<pk>``); another type's id finds nothing."""
    kind, _, pk = _unbase64(params["id"]).partition(":")
    return Q4_SQL, (int(pk) if kind == "Invoice" and pk.isdigit() else None,)


def make_endpoint(statement: Callable[[Any], tuple[str, tuple[Any, ...]]]):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return JSONResponse(UNAUTHENTICATED)
        try:
            sql, arguments = statement(request.query_params)
        except (KeyError, ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            return JSONResponse(BAD_INPUT)
        digest = hashlib.sha256(token.encode()).digest()
        assert pool is not None
        async with pool.acquire() as conn:
            body = await conn.fetchval(sql, digest, *arguments)
        if body is None:
            return JSONResponse(UNAUTHENTICATED)
        return Response(body, media_type="application/json")

    return endpoint


ENDPOINTS = {"q1": q1, "q2": q2, "q3": q3, "q4": q4}
app = Starlette(
    routes=[Route(f"/{name}", make_endpoint(statement)) for name, statement in ENDPOINTS.items()], lifespan=lifespan
)
