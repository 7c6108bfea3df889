"""The planned read path: an HTTP request whose query the planner can write is answered by one statement.

For a query (sent as text, by ``documentId`` or by APQ hash) the path does what normal execution does before it
runs — the persisted-document rules, parsing with the token limit, the schema's validation rules, the NUL rule,
variable coercion, the cost limit — then runs the one statement (``statements.assemble``) whose text is the
response body. Whatever it does not handle — a mutation, an anonymous request, a cookie without its CSRF header,
an invalid document, a value normal execution refuses, a field outside the catalog, an empty rate-limit bucket —
returns None, and normal execution answers with its own results and errors. Statements are built once per
operation, viewer kind and shape, and persisted operations at start-up.
"""

from __future__ import annotations

import hmac
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    parse,
    validate,
    visit,
)
from graphql.execution.values import get_argument_values, get_variable_values
from starlette.requests import Request
from starlette.responses import Response

from core import ratelimit
from core.accesslog import note_operation
from core.auth import PortalViewer, authenticate
from core.context import AUTHENTICATED, BUDGET_TAKEN, client_address
from core.cost import cached_operation_cost
from core.database import Database
from core.media import bearer_token
from core.nul_bytes import nul_literal, nul_path
from core.persisted import PersistedDocuments, PersistedQueryError
from core.security import csrf_token_for, token_digest
from core.settings import Settings
from resolvers.planner.compile import Compiler, NotPlanned
from resolvers.planner.statements import LIMITED, TEMPLATES, Statement, assemble, session_and_budget, viewer_of

log = logging.getLogger(__name__)

CACHE_SIZE = 1024
MAX_CACHED_SOURCE = 8192  # bodies up to this size are remembered with what they decided (at most 8 MiB in all)
PATH_HEADER = "x-portico-path"


@dataclass(frozen=True, slots=True)
class Planned:
    document: DocumentNode
    statement: Statement  # with the rate-limit takes
    paid: Statement  # without: the process's allowances paid (``core.ratelimit``)
    binders: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Session:
    """A request's token (and its digest, the session's key), what never changes about its session (its kind and its
    id, the bucket's key), and the client's address (each worked out once per request)."""

    digest: bytes
    address: str | None
    kind: str
    id: int


@dataclass(frozen=True, slots=True)
class Prepared:
    """What one request body decided for a viewer kind, kept for the next request with the same body: everything
    but the session, the client's address and the buckets (which the statement is given on each request)."""

    planned: Planned | None  # None: normal execution answers (after the session check and the take made here)
    cost: int
    arguments: dict[str, Any]
    name: str | None = None  # the operation's name (for the access log)


class _Arguments(Visitor):
    """Every argument of a document, in order: its name, and the variable it takes (or whether it is null)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str | None, bool]] = []

    def enter_argument(self, node: Any, *_: Any) -> None:
        value = node.value
        variable = value.name.value if value.kind == "variable" else None
        self.found.append((node.name.value, variable, value.kind == "null_value"))


def arguments_of(document: DocumentNode) -> tuple[tuple[str, str | None, bool], ...]:
    found = _Arguments()
    visit(document, found)
    return tuple(found.found)


def shape_of(arguments: tuple[tuple[str, str | None, bool], ...], variables: dict[str, Any]) -> tuple[Any, ...]:
    """What of the variables decides a statement's structure: which arguments are null, which directives hold."""
    shape = []
    for _name, variable, null_literal in arguments:
        if variable is None:
            shape.append(null_literal)
        else:
            given = variables.get(variable)
            shape.append(given if isinstance(given, bool) else given is None)
    return tuple(shape)


class PlannedReads:
    """The planned read path of one app (its schema and settings)."""

    def __init__(self, schema: Any, settings: Settings, persisted: PersistedDocuments) -> None:
        self.schema: GraphQLSchema = schema._schema
        self.settings = settings
        self.persisted = persisted
        self.rules = schema.validation_rules
        self.documents: OrderedDict[str, DocumentNode | None] = OrderedDict()
        self.arguments: dict[int, tuple[tuple[str, str | None, bool], ...]] = {}  # by id(document), while cached
        self.plans: OrderedDict[tuple[Any, ...], Planned | None] = OrderedDict()
        self.kinds: OrderedDict[bytes, tuple[str, int]] = OrderedDict()
        self.prepared: OrderedDict[tuple[str, bytes], Prepared] = OrderedDict()
        self.sessions: dict[tuple[str, bool], Statement] = {}  # session_and_budget, by viewer kind and taking

    # ---- what normal execution checks before it runs

    def document(self, text: str) -> DocumentNode | None:
        """The parsed and validated document (cached), or None when normal execution would refuse it."""
        if text in self.documents:
            self.documents.move_to_end(text)
            return self.documents[text]
        try:
            document = parse(text, max_tokens=self.settings.max_tokens)
        except GraphQLError:
            document = None
        if document is not None and (validate(self.schema, document, self.rules) or nul_literal(document, text)):
            document = None
        if document is not None:
            self.arguments[id(document)] = arguments_of(document)
        self._remember(self.documents, text, document)
        return document

    def _remember(self, cache: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        cache[key] = value
        if len(cache) > CACHE_SIZE:
            _, dropped = cache.popitem(last=False)
            if cache is self.documents and dropped is not None:
                self.arguments.pop(id(dropped), None)

    def operation(self, document: DocumentNode, name: Any) -> OperationDefinitionNode | None:
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        if name is not None:
            operations = [o for o in operations if o.name is not None and o.name.value == name]
        if len(operations) != 1 or operations[0].operation == OperationType.SUBSCRIPTION:
            return None
        return operations[0]

    # ---- planning

    def plan(
        self, document: DocumentNode, operation: OperationDefinitionNode, variables: Any, raw: dict[str, Any], kind: str
    ) -> Planned | None:
        shape = shape_of(self.arguments[id(document)], raw)
        key = (id(document), operation.name.value if operation.name else None, kind, shape)
        if key in self.plans:
            planned = self.plans[key]
            if planned is None or planned.document is document:
                return planned
        try:
            compiler = Compiler(self.schema, document, operation, variables, TEMPLATES[kind], portal=kind == "portal")
            body = compiler.root()
            planned = Planned(
                document,
                assemble(kind, body, self.settings),
                assemble(kind, body, self.settings, taking=False),
                tuple(compiler.build.binders),
            )
        except NotPlanned as reason:
            log.debug("not planned: %s", reason)
            planned = None
        self._remember(self.plans, key, planned)
        return planned

    # ---- one request

    async def answer(self, request: Request, db: Database, media_type: str) -> Response | None:
        """The response, or None for normal execution."""
        source = await self._source(request)
        if source is None:
            return None
        session = await self._session(request, db)
        if session is None:
            return None
        key = (session.kind, source)
        prepared = self.prepared.get(key)
        if prepared is None:
            prepared = await self._prepare(source, request.method, db, session.kind)
            if prepared is None:
                return None
            if len(source) <= MAX_CACHED_SOURCE:
                self._remember(self.prepared, key, prepared)
        cost = max(1, prepared.cost)
        wanted = self._buckets(session)
        planned = prepared.planned
        async with ratelimit.budget(db, wanted, cost) as asked:
            if planned is None:  # normal execution answers, with the viewer and the budget found here
                await self._session_and_budget(request, db, session, wanted, cost, asked)
                return None
            values = self._request_values(session, wanted, cost, asked) | prepared.arguments
            row = await self._run(db, planned.statement if asked else planned.paid, values)
            if row[0] is None:  # no such session: nothing was taken (what old allowances held goes back)
                if asked:
                    ratelimit.untaken(db, wanted, asked)
                return None
            if asked and not await ratelimit.settle(db, wanted, cost, asked, row[1:]):
                return None  # (a bucket refused: normal execution answers TOO_MANY_REQUESTS)
        body = row[0]
        if body == LIMITED:  # (a refused bucket's tokens were this process's allowance: they paid)
            body = (await self._run(db, planned.paid, values))[0]
            if body is None:
                return None
        note_operation(
            request.scope.get("state"),
            name=prepared.name,
            operation_type="query",
            viewer=session.kind,
            error_codes=[],
            answered_by="planned",
        )
        headers = {"vary": "Accept"}
        if self.settings.path_header:
            headers[PATH_HEADER] = "planned"
        return Response(body.encode(), media_type=media_type, headers=headers)

    @staticmethod
    async def _run(db: Database, statement: Statement, values: dict[str, Any]) -> Any:
        """The statement's row (None: the session statement found no session)."""
        return await db.fetch_row(statement.sql, [values[name] for name in statement.names])

    async def _prepare(self, source: bytes, method: str, db: Database, kind: str) -> Prepared | None:
        """What a request's body (or query string) decides for a viewer kind: the plan, the cost, the arguments;
        None when normal execution answers without the session check made here (its errors are its own)."""
        data = self._request_data(source, method)
        if data is None or not all(isinstance(data.get(k), str | None) for k in ("query", "operationName")):
            return None
        try:
            resolved = await self.persisted.resolve(
                db,
                query=data.get("query"),
                extensions=data.get("extensions"),
                document_id=data.get("documentId") or data.get("id"),
            )
        except PersistedQueryError:
            return None
        if resolved is None or not isinstance(resolved.query, str):
            return None
        document = self.document(resolved.query)
        operation = self.operation(document, data.get("operationName")) if document is not None else None
        raw = data.get("variables") or {}
        if document is None or operation is None or not isinstance(raw, dict) or nul_path(raw) is not None:
            return None
        coerced = get_variable_values(self.schema, operation.variable_definitions or [], raw)
        if isinstance(coerced, list):  # variable errors: normal execution reports them
            return None
        cost = cached_operation_cost(self.schema, document, data.get("operationName"), raw)
        if cost > self.settings.max_query_cost:
            return None
        planned = (
            self.plan(document, operation, coerced, raw, kind) if operation.operation == OperationType.QUERY else None
        )
        if planned is None:
            return Prepared(None, cost, {})
        try:
            name = operation.name.value if operation.name is not None else None
            return Prepared(planned, cost, self._arguments(planned, coerced), name)
        except (NotPlanned, GraphQLError, ValueError, TypeError):
            return None

    async def _session_and_budget(
        self,
        request: Request,
        db: Database,
        session: Session,
        wanted: list[ratelimit.Bucket],
        cost: int,
        asked: list[ratelimit.Take] | None,
    ) -> None:
        """For normal execution: check the session and take the operation's cost (``asked``; None: the allowances
        paid it) in one statement; normal execution then takes the viewer found (``AUTHENTICATED``) and skips its
        own take (``BUDGET_TAKEN``). A refused take is given back, and normal execution takes again and answers
        TOO_MANY_REQUESTS."""
        state = request.scope.setdefault("state", {})
        key = (session.kind, bool(asked))
        statement = self.sessions.get(key)
        if statement is None:
            statement = self.sessions[key] = session_and_budget(session.kind, self.settings, taking=bool(asked))
        values = self._request_values(session, wanted, cost, asked)
        row = await self._run(db, statement, values)
        if row is None:  # no such session: nothing was taken (what old allowances held goes back)
            state[AUTHENTICATED] = (None, "INVALID_TOKEN")
            if asked:
                ratelimit.untaken(db, wanted, asked)
            return
        state[AUTHENTICATED] = (viewer_of(session.kind, row), None)
        if not asked or await ratelimit.settle(db, wanted, cost, asked, row[len(row) - len(asked) :]):
            state[BUDGET_TAKEN] = True

    async def _source(self, request: Request) -> bytes | None:
        """What decides the operation: a JSON POST's body, a GET's query string (None: normal execution)."""
        if request.method == "POST":
            if "json" not in request.headers.get("content-type", ""):
                return None
            return await request.body()
        if request.method == "GET":
            return request.scope.get("query_string", b"")
        return None

    @staticmethod
    def _request_data(source: bytes, method: str) -> dict[str, Any] | None:
        if method == "POST":
            try:
                data = orjson.loads(source)
            except orjson.JSONDecodeError:
                return None
            return data if isinstance(data, dict) else None
        data = dict(parse_qsl(source.decode("latin-1"), keep_blank_values=True))
        try:
            for name in ("variables", "extensions"):
                if data.get(name):
                    data[name] = orjson.loads(data[name])
        except orjson.JSONDecodeError:
            return None
        return data

    async def _session(self, request: Request, db: Database) -> Session | None:
        """The request's token and its session's kind and id (None: normal execution)."""
        token = bearer_token(request.headers.get("authorization"))
        if token is None:
            token = request.cookies.get(self.settings.session_cookie_name)
            header = request.headers.get("x-csrf-token", "")
            if (
                token
                and request.method != "GET"
                and not (header and hmac.compare_digest(header.encode(), csrf_token_for(token).encode()))
            ):
                return None
        if not token or len(token) > 200:
            return None
        digest = token_digest(token)
        known = self.kinds.get(digest)
        if known is None:  # a session's kind and id never change; its validity is checked by the statement itself
            viewer = await authenticate(db, self.settings, token)
            # normal execution, if it answers this request, takes the viewer as found here (no second lookup)
            request.scope.setdefault("state", {})[AUTHENTICATED] = (viewer, None if viewer else "INVALID_TOKEN")
            if viewer is None:
                return None
            known = ("portal" if isinstance(viewer, PortalViewer) else "staff", viewer.session_id)
            self._remember(self.kinds, digest, known)
        return Session(digest, client_address(request, self.settings), *known)

    @staticmethod
    def _arguments(planned: Planned, coerced: Any) -> dict[str, Any]:
        """The statement's parameters that come from the operation's arguments (and so from the request body)."""
        arguments: dict[int, dict[str, Any]] = {}
        values: dict[str, Any] = {}
        for binder in planned.binders:
            node: FieldNode = binder.node
            if id(node) not in arguments:
                arguments[id(node)] = get_argument_values(binder.field_def, node, coerced)
            values[binder.name] = binder.value(arguments[id(node)])
        return values

    def _buckets(self, session: Session) -> list[ratelimit.Bucket]:
        """The buckets the operation draws on (none while rate limits are off)."""
        if not self.settings.rate_limit_enabled:
            return []
        return ratelimit.buckets(self.settings, session_id=session.id, client_ip=session.address)

    def _request_values(
        self,
        session: Session,
        wanted: list[ratelimit.Bucket],
        cost: int,
        asked: list[ratelimit.Take],
    ) -> dict[str, Any]:
        """The parameters every statement of the path takes: the session, and the buckets and what to take (when
        the statement takes)."""
        values: dict[str, Any] = {
            "token": session.digest,
            "address_key": f"address:{session.address or 'unknown'}",
        }
        if asked:
            values |= ratelimit.take_values(wanted, cost, asked)
        return values
