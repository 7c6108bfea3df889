"""The raw baseline: Starlette + asyncpg, one hand-written SQL per query producing the GraphQL response's JSON.

It checks the same bearer session as the app (one CTE in the same statement), so the comparison is fair: the
difference is what GraphQL execution costs.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.queries import RAW_SQL

pool: asyncpg.Pool | None = None


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    global pool
    pool = await asyncpg.create_pool(os.environ["BENCH_DSN"], min_size=4, max_size=10)
    try:
        yield
    finally:
        await pool.close()


def make_endpoint(name: str):  # type: ignore[no-untyped-def]
    sql = RAW_SQL[name]

    async def endpoint(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return JSONResponse({"errors": [{"message": "Sign in", "extensions": {"code": "UNAUTHENTICATED"}}]})
        digest = hashlib.sha256(token.encode()).digest()
        assert pool is not None
        async with pool.acquire() as conn:
            body = await conn.fetchval(sql, digest)
        if body is None:
            return JSONResponse({"errors": [{"message": "Sign in", "extensions": {"code": "UNAUTHENTICATED"}}]})
        return Response(body, media_type="application/json")

    return endpoint


app = Starlette(routes=[Route(f"/{name}", make_endpoint(name)) for name in RAW_SQL], lifespan=lifespan)
