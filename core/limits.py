"""Bounded cost for every request, checked before the work: body size, operation cost, rate per viewer.

- ``BodySizeLimit`` (ASGI): an HTTP body larger than ``MAX_REQUEST_BYTES`` is refused with 413 before it is read
  (by its ``Content-Length``, or as soon as a chunked body passes the limit).
- ``RequestBudget`` (a Strawberry extension, so HTTP and websockets alike): an operation whose cost
  (``core.cost``) exceeds ``MAX_QUERY_COST`` is refused with ``QUERY_TOO_COMPLEX`` before it executes; then its
  cost is taken from the session's and the address's token buckets (``core.ratelimit``), ``TOO_MANY_REQUESTS``
  with ``retryAfterSeconds`` (and, over HTTP, status 429 and ``Retry-After``) when they cannot cover it.
- ``DatabaseUnavailable`` (ASGI): a request that fails because PostgreSQL cannot be reached answers 503 with a
  GraphQL error ``SERVICE_UNAVAILABLE`` and ``Retry-After`` instead of a bare 500.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from core import ratelimit
from core.context import BUDGET_TAKEN
from core.cost import cached_operation_cost
from core.database import database_unavailable
from core.errors import SERVICE_UNAVAILABLE_MESSAGE, TopLevelCode, top_level_error
from core.metrics import THROTTLED

log = logging.getLogger(__name__)

RETRY_AFTER_UNAVAILABLE = "1"


def _json_error(code: str, message: str, **extensions: Any) -> bytes:
    return orjson.dumps({"errors": [{"message": message, "extensions": {"code": code, **extensions}}]})


class RequestTooLarge(Exception):
    """The body passed the limit while it was being read."""


class BodySizeLimit:
    """Refuse HTTP request bodies over ``max_bytes`` with 413, without reading them."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.max_bytes <= 0:
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                too_large = False
            if too_large:
                await self._refuse(send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise RequestTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except RequestTooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = _json_error("PAYLOAD_TOO_LARGE", f"The request body must be at most {self.max_bytes:,} bytes.")
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class DatabaseUnavailable:
    """A request that failed because the database could not be reached answers 503 ``SERVICE_UNAVAILABLE``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:
            if started or not database_unavailable(error):
                raise
            log.warning("database unavailable: %s", error)
            headers = [(b"content-type", b"application/json"), (b"retry-after", RETRY_AFTER_UNAVAILABLE.encode())]
            await send({"type": "http.response.start", "status": 503, "headers": headers})
            await send(
                {"type": "http.response.body", "body": _json_error("SERVICE_UNAVAILABLE", SERVICE_UNAVAILABLE_MESSAGE)}
            )


def _http_response(context: Any) -> Any:
    """The response an HTTP operation's status and headers go on (None over a websocket)."""
    response = getattr(context, "response", None)
    return response if response is not None and hasattr(response, "status_code") else None


class RequestBudget(SchemaExtension):
    """Refuse an operation that costs too much, then take its cost from the viewer's rate-limit budgets."""

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        execution = self.execution_context
        context = execution.context
        settings = context.settings
        document = execution.graphql_document
        if document is not None:
            cost = cached_operation_cost(
                execution.schema._schema, document, execution.operation_name, execution.variables
            )
            if cost > settings.max_query_cost:
                raise top_level_error(
                    TopLevelCode.QUERY_TOO_COMPLEX,
                    f"This operation would cost {cost:,}; the limit is {settings.max_query_cost:,}. Ask for smaller "
                    "pages (`first`) or fewer nested lists.",
                    cost=cost,
                    maxCost=settings.max_query_cost,
                )
            if settings.rate_limit_enabled and not _already_paid(context):
                try:
                    await take_budget(context, cost)
                except GraphQLError:
                    raise
                except Exception as error:  # raised before execution, so no masking extension would see it
                    raise _masked(context, error) from error
        yield


def _already_paid(context: Any) -> bool:
    """Whether the planned read path took this HTTP request's cost with its session check (one round trip)."""
    request = getattr(context, "request", None)
    scope = getattr(request, "scope", None)
    return bool(scope and scope.get("type") == "http" and scope.get("state", {}).get(BUDGET_TAKEN))


def _masked(context: Any, error: Exception) -> GraphQLError:
    request_id = getattr(context, "request_id", None)
    if database_unavailable(error):
        response = _http_response(context)
        if response is not None:
            response.status_code = 503
            response.headers["retry-after"] = RETRY_AFTER_UNAVAILABLE
        return top_level_error(TopLevelCode.SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE, requestId=request_id)
    log.error("unexpected error while checking the rate limit", exc_info=error, extra={"request_id": request_id})
    return top_level_error(TopLevelCode.INTERNAL_SERVER_ERROR, "Internal server error.", requestId=request_id)


async def take_budget(context: Any, cost: int) -> None:
    """Take ``cost`` (at least 1) from the viewer's buckets; TOO_MANY_REQUESTS when they cannot cover it."""
    viewer = getattr(context, "viewer", None)
    wanted = ratelimit.buckets(
        context.settings, session_id=viewer.session_id if viewer is not None else None, client_ip=context.client_ip
    )
    wait = await ratelimit.take(context.db, wanted, max(1, cost))
    if wait is None:
        return
    response = _http_response(context)
    if response is not None:
        response.status_code = 429
        response.headers["retry-after"] = str(wait)
    THROTTLED.labels("requests").inc()
    raise top_level_error(TopLevelCode.TOO_MANY_REQUESTS, "Too many requests; slow down.", retryAfterSeconds=wait)


__all__ = ["BodySizeLimit", "DatabaseUnavailable", "GraphQLError", "RequestBudget", "take_budget"]
