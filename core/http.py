"""The GraphQL endpoint: Strawberry's ASGI view with Portico's context, auth and encoding."""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from core.auth import authenticate
from core.context import AUTHENTICATED, Context, client_address
from core.database import database_unavailable
from core.errors import TopLevelCode
from core.graphiql import graphiql_html
from core.logging import request_id_var
from core.persisted import PersistedDocuments, PersistedQueryError, load_manifest
from core.security import csrf_token_for

if TYPE_CHECKING:
    from services.runtime import Runtime  # the app's composition (app.py) hands it in
from core.media import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, bearer_token, is_request_error, negotiate_media_type
from core.websocket import PersistedOperationsWSHandler, TextFrameWebSocketAdapter

_MEDIA_TYPE_KEY = "graphql_media_type"


_STATUS_KEY = "graphql_status"
CLIENT_CLOSED_REQUEST = 499  # (nginx's name and code: the answer nobody will read)


log = logging.getLogger(__name__)
_HTTP_ERROR_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


class PersistedHTTPError(HTTPException):
    """A persisted-operation request that cannot run, answered as a GraphQL error with ``code``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(400, reason)
        self.code = code


class PorticoGraphQL(GraphQL):
    """One schema at ``/graphql`` over HTTP and ``graphql-transport-ws``.

    Over HTTP it follows the GraphQL over HTTP spec (graphql-http's audit passes with no warning): GET for
    queries (a mutation over GET is 405 with ``Allow: POST``), POST with JSON, ``Accept`` negotiated with
    q-values; a client asking for ``application/graphql-response+json`` gets 4xx without ``data`` on request
    errors, while ``application/json`` clients keep status 200 for them. Every answer is JSON (never plain
    text) and carries ``Vary: Accept``.
    """

    websocket_adapter_class = TextFrameWebSocketAdapter  # type: ignore[assignment]
    graphql_transport_ws_handler_class = PersistedOperationsWSHandler

    def __init__(self, schema: Any, *, runtime: Runtime, planned: Any = None) -> None:
        settings = runtime.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.graphiql_enabled else None,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            keep_alive=True,
            keep_alive_interval=15,
            # a browser's socket from another origin is refused at the handshake unless CORS_ORIGINS lists it
            # (Strawberry's check; same-origin pages and clients without Origin always pass): core/cors.py
            allowed_origins=settings.cors_origins,
        )
        self.settings = settings
        self.runtime = runtime
        manifest = load_manifest(settings.persisted_manifest)
        self.persisted = PersistedDocuments(manifest, allow_list=settings.allow_list_enabled)
        # queries the planner writes as one statement (resolvers.planner.PlannedReads), or none
        self.planned = planned if settings.planned_reads else None

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(graphiql_html(self.settings.csrf_cookie_name))

    async def run(
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        if isinstance(request, WebSocket):
            return await super().run(request, context, root_value)
        media_type = negotiate_media_type(request.headers.get("accept"))
        request.scope.setdefault("state", {})[_MEDIA_TYPE_KEY] = media_type
        try:
            planned = await self._planned_response(request, media_type)
            if planned is not None:
                return planned
            response = await super().run(request, context, root_value)
            if self.settings.path_header:
                response.headers.setdefault("x-portico-path", "executed")
        except ClientDisconnect:  # gone before its body arrived: nothing ran, nobody to answer, nothing to log
            log.info("the client disconnected before its request body arrived")
            return Response(status_code=CLIENT_CLOSED_REQUEST)
        except HTTPException as error:
            response = self._http_error_response(request, error, media_type)
        else:
            if response.media_type == APPLICATION_JSON:  # a GraphQL result (not the IDE page, not a stream)
                response.headers["content-type"] = media_type
                status = request.scope["state"].get(_STATUS_KEY)
                if status and response.status_code == 200:
                    response.status_code = status
        response.headers.add_vary_header("Accept")
        return response

    async def _planned_response(self, request: Request, media_type: str) -> Response | None:
        """The planned read path's answer, or None for normal execution (which also answers when it fails)."""
        if self.planned is None:
            return None
        try:
            return await self.planned.answer(request, self.runtime.db, media_type)  # type: ignore[no-any-return]
        except ClientDisconnect:
            raise
        except Exception as error:
            if database_unavailable(error):
                raise
            log.exception("the planned read path failed; normal execution answers")
            return None

    def _http_error_response(self, request: Request, error: HTTPException, media_type: str) -> Response:
        """A request refused before execution, as a GraphQL error in JSON rather than Strawberry's plain text."""
        status, headers = error.status_code, {}
        cause = error.__cause__
        if (
            request.method == "GET"
            and isinstance(cause, InvalidOperationTypeError)
            and cause.operation_type == OperationType.MUTATION
        ):
            status, headers = 405, {"allow": "POST"}
        code = _HTTP_ERROR_CODES.get(status, "BAD_REQUEST" if 400 <= status < 500 else "INTERNAL_SERVER_ERROR")
        if isinstance(error, PersistedHTTPError):
            code = error.code
            # Apollo's and Relay's clients read a missing persisted query from a 200 application/json answer
            status = 200 if media_type == APPLICATION_JSON else 400
        body = {"errors": [{"message": error.reason, "extensions": {"code": code}}]}
        return Response(self.encode_json(body), status_code=status, headers=headers, media_type=media_type)

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        data = await super().parse_http_body(request)
        items = data if isinstance(data, list) else [data]
        raw_items: list[Any] | None = None
        for index, item in enumerate(items):
            if not isinstance(item.operation_name, str | None):
                raise HTTPException(
                    400, "The GraphQL operation's `operationName` must be a string or null, if provided."
                )
            document_id = None
            if not item.query:  # a persisted operation names its document instead (graphql-ws clients send "")
                if raw_items is None:
                    raw_items = await self._raw_items(request)
                raw = raw_items[index] if index < len(raw_items) else {}
                document_id = raw.get("documentId") or raw.get("id") if isinstance(raw, Mapping) else None
            try:
                resolved = await self.persisted.resolve(
                    self.runtime.db, query=item.query, extensions=item.extensions, document_id=document_id
                )
            except PersistedQueryError as error:
                raise PersistedHTTPError(error.code, error.message) from error
            if resolved is not None:
                item.query = resolved.query
        return data

    async def _raw_items(self, request: AsyncHTTPRequestAdapter) -> list[Any]:
        if request.method == "GET":
            return [dict(request.query_params)]
        decoded = self.decode_json(await request.get_body())
        return decoded if isinstance(decoded, list) else [decoded]

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        response = await super().process_result(request, result)
        state = request.scope.get("state", {})
        if state.get(_MEDIA_TYPE_KEY) == GRAPHQL_RESPONSE_JSON and is_request_error(result):
            response.pop("data", None)
            internal = any(
                (error.extensions or {}).get("code") == TopLevelCode.INTERNAL_SERVER_ERROR
                for error in result.errors or []
            )
            state[_STATUS_KEY] = 500 if internal else 400
        return response

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
        known = request.scope.get("state", {}).get(AUTHENTICATED)
        if known is not None:  # the planned read path already authenticated this request
            context.viewer, context.auth_problem = known
            return context
        await self._authenticate(request, context)
        request.scope.setdefault("state", {})[AUTHENTICATED] = (context.viewer, context.auth_problem)
        return context

    async def _authenticate(self, request: Request, context: Context) -> None:
        settings = self.settings
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            token = request.cookies.get(settings.session_cookie_name)
            if token and request.method != "GET" and not self._csrf_ok(request, token):
                context.auth_problem = "CSRF"
                return
        if token:
            context.viewer = await authenticate(self.runtime.db, settings, token)
            if context.viewer is None:
                context.auth_problem = "INVALID_TOKEN"

    def _csrf_ok(self, request: Request, session_token: str) -> bool:
        """Signed double submit: X-CSRF-Token must be the token derived from this very session (the CSRF cookie
        set at sign-in carries it for the page's script to echo); a pair an attacker chose is worth nothing."""
        header = request.headers.get("x-csrf-token", "")
        return bool(header) and hmac.compare_digest(header.encode(), csrf_token_for(session_token).encode())

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
