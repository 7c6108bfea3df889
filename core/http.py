"""The GraphQL endpoint: Strawberry's ASGI view with Portico's context, auth and encoding."""

from __future__ import annotations

import hmac
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.unset import UNSET, UnsetType

from core.auth import authenticate
from core.context import Context, client_address
from core.logging import request_id_var
from core.runtime import Runtime


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


class PorticoGraphQL(GraphQL):
    """One schema at ``/graphql`` over HTTP and ``graphql-transport-ws``."""

    def __init__(self, schema: Any, *, runtime: Runtime) -> None:
        settings = runtime.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            keep_alive=True,
            keep_alive_interval=15,
        )
        self.settings = settings
        self.runtime = runtime

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        settings = self.settings
        context = Context(
            request=request,
            response=response,
            settings=settings,
            db=self.runtime.db,
            broker=self.runtime.broker,
            request_id=request.scope.get("state", {}).get("request_id") or request_id_var.get() or "",
            client_ip=client_address(request, settings),
            user_agent=request.headers.get("user-agent"),
        )
        if isinstance(request, WebSocket):
            return context  # authenticated in on_ws_connect from connection_init
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            token = request.cookies.get(settings.session_cookie_name)
            if token and request.method != "GET" and not self._csrf_ok(request):
                context.auth_problem = "CSRF"
                return context
        if token:
            context.viewer = await authenticate(self.runtime.db, settings, token)
            if context.viewer is None:
                context.auth_problem = "INVALID_TOKEN"
        return context

    def _csrf_ok(self, request: Request) -> bool:
        """Double-submit check: the X-CSRF-Token header must equal the CSRF cookie set at login."""
        cookie = request.cookies.get(self.settings.csrf_cookie_name, "")
        header = request.headers.get("x-csrf-token", "")
        return bool(cookie) and hmac.compare_digest(cookie, header)

    async def on_ws_connect(self, context: Context) -> UnsetType:  # type: ignore[override]
        """Authenticate a websocket from ``connection_init`` (``authorization: Bearer …``) or the session cookie."""
        params = context.connection_params or {}
        value = params.get("authorization") or params.get("Authorization")
        token = bearer_token(value) if isinstance(value, str) else None
        if token is None:
            token = context.request.cookies.get(self.settings.session_cookie_name)
        viewer = await authenticate(self.runtime.db, self.settings, token)
        if viewer is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.viewer = viewer
        return UNSET
