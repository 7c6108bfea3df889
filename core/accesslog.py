"""One access-log line per HTTP request, with what the GraphQL layers know of the operation it carried.

``AccessLog`` (ASGI middleware) writes ``{"event": "request", method, path, status, duration_ms}`` on the
``portico.access`` logger when the response is done; the planned read path and normal execution add, through
``note_operation``, each operation's ``operation`` (its name, or None), ``operation_type``, ``viewer`` (``staff``,
``portal`` or None), ``error_codes`` (the top-level errors' codes) and ``answered_by`` (``planned``/``executed``).
Never a variable's value, a token, an email or a query's text.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from core.auth import PortalViewer
from core.metrics import record_request

log = logging.getLogger("portico.access")

_OPERATIONS = "portico_operations"  # the request state's list of what note_operation recorded


def note_operation(
    state: dict[str, Any] | None,
    *,
    name: str | None,
    operation_type: str,
    viewer: str | None,
    error_codes: list[str],
    answered_by: str,
) -> None:
    """Record an operation of this request for its access-log line (``state``: the ASGI scope's state)."""
    operations = state.get(_OPERATIONS) if state is not None else None
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

    def __init__(self, app: ASGIApp, *, metrics: bool = False) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        logging_on = log.isEnabledFor(logging.INFO)
        if scope["type"] != "http" or not (logging_on or self.metrics):
            await self.app(scope, receive, send)
            return
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
        yield
        execution = self.execution_context
        context = execution.context
        scope = getattr(getattr(context, "request", None), "scope", None)
        if not scope or scope.get("type") != "http":  # (a socket's operations are not an HTTP request's)
            return
        state = scope.get("state")
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
