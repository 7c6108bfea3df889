"""One access-log line per HTTP request, with what the GraphQL layers know of the operation it carried.

``AccessLog`` (ASGI middleware) writes ``{"event": "request", method, path, status, duration_ms}`` on the
``portico.access`` logger when the response is done; the planned read path and normal execution add, through
``note_operation``, each operation's ``operation`` (its name, or None), ``operation_type``, ``viewer`` (``staff``,
``portal`` or None), ``error_codes`` (the top-level errors' codes) and ``answered_by`` (``planned``/``executed``).
Over a websocket each operation gets a line of its own when it ends (``log_socket_operation``:
``{"event": "operation", "transport": "websocket", …, "outcome": "complete"|"cancelled"|"failed"}``; a
subscription's duration is how long it streamed). Never a variable's value, a token, an email or a query's text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from opentelemetry import propagate
from opentelemetry.trace import Span, SpanKind, Tracer
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from core.auth import PortalViewer
from core.metrics import record_request
from core.tracing import describe

log = logging.getLogger("portico.access")

_OPERATIONS = "portico_operations"  # the request state's list of what note_operation recorded
# a socket operation's task's own list (core.websocket sets it for each operation it runs)
SOCKET_OPERATIONS: ContextVar[list[dict[str, Any]] | None] = ContextVar("portico_socket_operations", default=None)


def note_operation(
    state: dict[str, Any] | None,
    *,
    name: str | None,
    operation_type: str,
    viewer: str | None,
    error_codes: list[str],
    answered_by: str,
) -> None:
    """Record an operation of this request for its access-log line (``state``: the ASGI scope's state; None: a
    socket's operation, recorded for its own line)."""
    operations = state.get(_OPERATIONS) if state is not None else SOCKET_OPERATIONS.get()
    if operations is not None:  # (AccessLog wants them: it logs, or counts, this request)
        operations.append(
            {
                "operation": name,
                "operation_type": operation_type,
                "viewer": viewer,
                "error_codes": error_codes,
                "answered_by": answered_by,
            }
        )


def viewer_kind(viewer: object) -> str | None:
    if viewer is None:
        return None
    return "portal" if isinstance(viewer, PortalViewer) else "staff"


class AccessLog:
    """The request's line, written once its response is done (or failed), and with ``metrics`` its counts
    (``core.metrics``)."""

    def __init__(self, app: ASGIApp, *, metrics: bool = False, tracer: Tracer | None = None) -> None:
        self.app = app
        self.metrics = metrics
        self.tracer = tracer  # with tracing on (core.tracing): the request's span, named after its operation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        logging_on = log.isEnabledFor(logging.INFO)
        if scope["type"] != "http" or not (logging_on or self.metrics or self.tracer):
            await self.app(scope, receive, send)
            return
        if self.tracer is None:
            await self._logged(scope, receive, send, logging_on, None)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope.get("headers") or []}
        method, path = scope.get("method", ""), scope.get("path", "")
        with self.tracer.start_as_current_span(
            f"{method} {path}",
            context=propagate.extract(headers),  # (a caller's traceparent: this request joins its trace)
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        ) as span:
            await self._logged(scope, receive, send, logging_on, span)

    async def _logged(self, scope: Scope, receive: Receive, send: Send, logging_on: bool, span: Span | None) -> None:
        operations: list[dict[str, Any]] = []
        scope.setdefault("state", {})[_OPERATIONS] = operations
        started = time.perf_counter()
        status = 500  # (an exception before the response started)

        async def send_with_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_with_status)
        finally:
            seconds = time.perf_counter() - started
            if self.metrics and scope.get("path") != "/metrics":
                record_request(operations, status, seconds)
            if span is not None:
                describe(span, operations, status)
            if logging_on:
                line: dict[str, Any] = {
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                }
                if len(operations) == 1:
                    line |= operations[0]
                elif operations:
                    line["operations"] = operations
                log.info("request", extra=line)


class OperationNote(SchemaExtension):
    """Normal execution's part of the access log: each operation's name, type, viewer and error codes."""

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:  # (also when the operation ends by an exception: a socket's stream closed early, or cancelled)
            self._note()

    def _note(self) -> None:
        execution = self.execution_context
        context = execution.context
        scope = getattr(getattr(context, "request", None), "scope", None)
        if not scope:
            return
        state = scope.get("state") if scope.get("type") == "http" else None  # (a socket's: its operation's own)
        result = execution.result
        errors = getattr(result, "errors", None) or []
        codes = [str((error.extensions or {}).get("code", "")) for error in errors]
        try:
            operation_type = execution.operation_type.value
        except Exception:  # (a document that did not parse has no operation type)
            operation_type = None
        note_operation(
            state,
            name=execution.operation_name,
            operation_type=operation_type or "unknown",
            viewer=viewer_kind(getattr(context, "viewer", None)),
            error_codes=[code for code in codes if code],
            answered_by="executed",
        )


def log_socket_operation(
    operations: list[dict[str, Any]], name: str | None, seconds: float, outcome: str, path: str | None
) -> None:
    """The line of one operation of a socket, once it ended (``operations``: what normal execution noted of it)."""
    if not log.isEnabledFor(logging.INFO):
        return
    line: dict[str, Any] = {"transport": "websocket", "path": path, "duration_ms": round(seconds * 1000, 2)}
    line |= operations[0] if operations else {"operation": name}
    line["outcome"] = outcome
    log.info("operation", extra=line)
