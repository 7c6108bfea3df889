"""The GraphQL endpoint: Strawberry's ASGI view with Portico's context, auth and encoding."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import DocumentNode, GraphQLError, parse
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import NonJsonMessageReceived, NonTextMessageReceived, WebSocketDisconnected
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from core.auth import Viewer, authenticate, current_viewers
from core.context import OPERATION_LOADERS, Context, client_address
from core.cost import cached_operation_cost
from core.database import database_unavailable
from core.errors import SERVICE_UNAVAILABLE_MESSAGE, TopLevelCode
from core.graphiql import graphiql_html
from core.keepalive import KeepAliveTransportWSHandler
from core.limits import take_budget
from core.logging import request_id_var
from core.persisted import PersistedDocuments, PersistedQueryError, load_manifest
from core.security import csrf_token_for
from core.sockets import CLOSE_SESSION_ENDED

if TYPE_CHECKING:
    from services.runtime import Runtime  # the app's composition (app.py) hands it in

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"
_MEDIA_TYPE_KEY = "graphql_media_type"
_STATUS_KEY = "graphql_status"
_VIEWER_KEY = "portico_viewer"
CLOSE_MESSAGE_TOO_BIG = 1009  # RFC 6455
_HTTP_ERROR_CODES = {400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 413: "PAYLOAD_TOO_LARGE"}


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def negotiate_media_type(accept: str | None) -> str:
    """The response media type for an ``Accept`` header (GraphQL over HTTP).

    ``application/graphql-response+json`` when the client names it at least as highly as ``application/json``;
    ``application/json`` when the header is missing, when only wildcards match (``*/*``), or when neither is
    acceptable (the spec lets the server disregard ``Accept`` then, rather than answer 406).
    """
    if not accept or not accept.strip():
        return APPLICATION_JSON
    ranges: list[tuple[str, str, float]] = []
    for part in accept.split(","):
        media_range, *params = (piece.strip() for piece in part.split(";"))
        main, _, sub = media_range.lower().partition("/")
        if not main or not sub:
            continue
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        ranges.append((main, sub, quality))

    def rank(candidate: str) -> tuple[float, int, int]:
        main, sub = candidate.split("/")
        best: tuple[int, float] | None = None  # (specificity, q) of the most specific matching range
        for range_main, range_sub, quality in ranges:
            if (range_main, range_sub) == (main, sub):
                specificity = 2
            elif range_main == main and range_sub == "*":
                specificity = 1
            elif (range_main, range_sub) == ("*", "*"):
                specificity = 0
            else:
                continue
            if best is None or specificity > best[0]:
                best = (specificity, quality)
        if best is None or best[1] <= 0:
            return (0.0, -1, 0)
        specificity, quality = best
        # On a tie, a client that names the new type explicitly gets it; wildcards keep the legacy default.
        preferred = (candidate == GRAPHQL_RESPONSE_JSON) == (specificity == 2)
        return (quality, specificity, int(preferred))

    new, legacy = rank(GRAPHQL_RESPONSE_JSON), rank(APPLICATION_JSON)
    if new[0] <= 0 and legacy[0] <= 0:
        return APPLICATION_JSON
    return GRAPHQL_RESPONSE_JSON if new > legacy else APPLICATION_JSON


def is_request_error(result: ExecutionResult) -> bool:
    """True when the operation never ran: parse or validation failure, variable coercion, a rejected request."""
    if isinstance(result, PreExecutionError):
        return True
    return result.data is None and bool(result.errors) and all(error.path is None for error in result.errors)


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    """graphql-transport-ws messages go in text frames: browsers' graphql-ws client cannot parse binary ones
    (Strawberry sends bytes as binary frames, and our ``encode_json`` returns orjson's bytes).

    Once the server has decided to close the socket (``closing``), whatever an operation still sends is dropped
    quietly rather than raising in its task; a message larger than ``MAX_WS_MESSAGE_BYTES`` closes the socket
    with 1009 before it is parsed.
    """

    closing = False

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        try:
            while self.ws.application_state != WebSocketState.DISCONNECTED and not self.closing:
                text = await self.ws.receive_text()
                limit = self.view.settings.max_ws_message_bytes
                if limit and len(text) > limit // 4 and len(text.encode()) > limit:
                    await self.close(CLOSE_MESSAGE_TOO_BIG, "Message too big")
                    return
                try:
                    yield self.view.decode_json(text)
                except orjson.JSONDecodeError as error:
                    if not ignore_parsing_errors:
                        raise NonJsonMessageReceived from error
        except KeyError as error:
            raise NonTextMessageReceived from error
        except WebSocketDisconnect:
            pass

    async def send_json(self, message: Mapping[str, object]) -> None:
        if self.closing or self.ws.application_state == WebSocketState.DISCONNECTED:
            return
        encoded = self.view.encode_json(message)
        try:
            await self.ws.send_text(encoded.decode() if isinstance(encoded, bytes) else encoded)
        except (WebSocketDisconnect, RuntimeError) as exc:  # RuntimeError: the close frame already went out
            raise WebSocketDisconnected from exc

    async def close(self, code: int, reason: str) -> None:
        if self.ws.application_state == WebSocketState.DISCONNECTED:
            return
        self.closing = True
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await self.ws.close(code=code, reason=reason)


class PersistedHTTPError(HTTPException):
    """A persisted-operation request that cannot run, answered as a GraphQL error with ``code``."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(400, reason)
        self.code = code


class PersistedOperationsWSHandler(KeepAliveTransportWSHandler):
    """graphql-transport-ws with persisted operations (a subscribe message may name its document), server pings,
    and the session checked again before every operation: a socket answers only while its session grants access.
    """

    websocket: TextFrameWebSocketAdapter

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        viewer = getattr(self.context, "viewer", None)
        if self.connection_acknowledged and viewer is not None:
            self.context.socket = self
            # held by session, so that the end of the session (logout, revocation, expiry, access or portal
            # disabled) closes this socket at once, on whichever process the change happened
            self.view.runtime.connections.add(self, viewer)

    async def shutdown(self) -> None:
        self.view.runtime.connections.discard(self)
        await super().shutdown()

    async def close_socket(self, code: int, reason: str) -> None:
        """Stop every operation of this socket, then close it (an operation may call this for its own socket)."""
        self.view.runtime.connections.discard(self)
        self.websocket.closing = True
        current = asyncio.current_task()
        for operation_id, operation in list(self.operations.items()):
            if operation.task is not current:
                await self.cleanup_operation(operation_id)
        await self.websocket.close(code=code, reason=reason)

    async def handle_task_exception(self, error: Exception) -> None:
        if isinstance(error, WebSocketDisconnected):  # the client went away mid-operation: nothing to report
            return
        await super().handle_task_exception(error)

    async def handle_subscribe(self, message: Any) -> None:
        payload = message.get("payload")
        if not self.connection_acknowledged or not isinstance(payload, dict):
            await super().handle_subscribe(message)
            return
        context = self.context
        try:
            viewer = await self._current_viewer()
            if viewer is None:
                await self.close_socket(CLOSE_SESSION_ENDED, "Session ended")
                return
            persisted: PersistedDocuments = self.view.persisted
            resolved = await persisted.resolve(
                self.view.runtime.db,
                query=payload.get("query"),
                extensions=payload.get("extensions"),
                document_id=payload.get("documentId") or payload.get("id"),
            )
        except PersistedQueryError as error:
            await self._send_error(message, error.code, error.message)
            return
        except Exception as error:
            if not database_unavailable(error):
                raise
            await self._send_error(message, TopLevelCode.SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE_MESSAGE)
            return
        if resolved is not None:
            message = {**message, "payload": {**payload, "query": resolved.query}}
        # each operation on a long-lived socket gets loaders of its own (the operation's task copies this context),
        # so a query sent over the socket never answers from what an earlier operation loaded
        fresh = self.view.runtime.make_loaders(context.db, viewer.scope())
        token = OPERATION_LOADERS.set(fresh)
        try:
            await super().handle_subscribe(message)
        finally:
            OPERATION_LOADERS.reset(token)

    async def _current_viewer(self) -> Viewer | None:
        """The socket's viewer as of now (the session re-read); None when it no longer grants access."""
        viewer = self.context.viewer
        if viewer is None:
            return None
        (current,) = await current_viewers(self.context.db, [viewer.session_id])
        if current is not None:
            self.context.viewer = current  # e.g. projects hidden since the socket connected
        return current

    async def _send_error(self, message: Any, code: str, text: str) -> None:
        error_payload = [{"message": text, "extensions": {"code": str(code)}}]
        await self.send_message({"id": message.get("id"), "type": "error", "payload": error_payload})


class _NoCompiled:
    by_document: dict[str, Any] = {}


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

    def __init__(self, schema: Any, *, runtime: Runtime, compiled: Any = None) -> None:
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
        manifest = load_manifest(settings.persisted_manifest)
        self.persisted = PersistedDocuments(manifest, allow_list=settings.allow_list_enabled)
        # hot persisted operations answered by one SQL statement (resolvers.compiled.CompiledOperations), or none
        self.compiled = compiled if compiled is not None and settings.compiled_operations else _NoCompiled()
        self._compiled_documents: dict[str, DocumentNode] = {}

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
            response = await self._compiled_response(request, media_type) or await super().run(
                request, context, root_value
            )
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
            if item.query is None:  # a persisted operation names its document instead of sending it
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
        known = request.scope.get("state", {}).get(_VIEWER_KEY)
        if known is not None:  # the compiled path already authenticated this request
            context.viewer, context.auth_problem = known
            return context
        await self._authenticate(request, context)
        request.scope.setdefault("state", {})[_VIEWER_KEY] = (context.viewer, context.auth_problem)
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

    async def _compiled_response(self, request: Request, media_type: str) -> Response | None:
        """A registered hot operation answered by one SQL statement, or None for normal execution."""
        if not self.compiled.by_document:
            return None
        if request.method == "POST":
            if "json" not in request.headers.get("content-type", ""):
                return None
            try:
                data = orjson.loads(await request.body())
            except orjson.JSONDecodeError:
                return None
            variables = data.get("variables") if isinstance(data, dict) else None
        elif request.method == "GET":
            data = dict(request.query_params)
            try:
                variables = orjson.loads(data["variables"]) if data.get("variables") else None
            except orjson.JSONDecodeError:
                return None
        else:
            return None
        if not isinstance(data, dict):
            return None
        document_id = self.persisted.manifest_id_of(data)
        if document_id not in self.compiled.by_document:
            return None
        context = await self.get_context(request, Response())
        if self.settings.rate_limit_enabled:
            # this path bypasses the schema's extensions: the operation pays its cost here, as RequestBudget would
            # have it pay; a refusal falls through to normal execution, which answers TOO_MANY_REQUESTS
            document = self._compiled_documents.get(document_id)
            if document is None:
                document = self._compiled_documents[document_id] = parse(self.persisted.manifest[document_id])
            cost = cached_operation_cost(self.schema._schema, document, data.get("operationName"), variables)
            try:
                await take_budget(context, cost)
            except GraphQLError:
                return None
        body = await self.compiled.answer(
            self.runtime.db, context.viewer, document_id, variables, data.get("operationName")
        )
        return Response(body, media_type=media_type) if body is not None else None

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
