"""A tiny server for the benchmark's own tests: answers with or without a path header, with data or errors."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def planned(request: Request) -> JSONResponse:
    return JSONResponse({"data": {"ok": True}}, headers={"x-portico-path": "planned"})


async def no_header(request: Request) -> JSONResponse:
    return JSONResponse({"data": {"ok": True}})


async def refused(request: Request) -> JSONResponse:
    return JSONResponse({"errors": [{"message": "slow down"}]}, headers={"x-portico-path": "executed"})


async def mutation(request: Request) -> JSONResponse:
    body = await request.body()
    typename = "Comment" if b"good" in body else "AddCommentError"
    return JSONResponse({"data": {"addComment": {"__typename": typename}}}, headers={"x-portico-path": "executed"})


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/planned", planned),
        Route("/no-header", no_header),
        Route("/refused", refused),
        Route("/mutation", mutation, methods=["POST"]),
    ]
)
