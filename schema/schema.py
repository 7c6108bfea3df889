"""The schema object: every domain's Query and Mutation merged, with limits and masking."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import strawberry
from graphql import GraphQLError, OperationDefinitionNode, specified_rules
from graphql.error import GraphQLSyntaxError
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule, ValidationContext
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_limit_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_limit_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule
from strawberry.tools import merge_types

from core.accesslog import OperationNote
from core.cost import cost_description
from core.database import database_unavailable
from core.errors import SERVICE_UNAVAILABLE_MESSAGE, TopLevelCode
from core.limits import RequestBudget
from core.nul_bytes import RejectNulBytes
from core.scalars import SCALAR_OVERRIDES
from core.settings import Settings
from core.tracing import Tracing
from schema.access.types import StaffUser
from schema.contacts.types import Contact, ContactPerson
from schema.estimates.types import Estimate
from schema.invoices.types import Invoice
from schema.payments.types import Payment
from schema.projects.types import Project
from subscriptions.sharing import SharedSubscriptionExecutor

log = logging.getLogger("portico.graphql")
SUGGESTION = " Did you mean"


EXTRA_TYPES: list[type] = [StaffUser, ContactPerson, Contact, Estimate, Invoice, Payment, Project]


class MaskInternalErrors(SchemaExtension):
    """Unexpected exceptions reach clients as one opaque error with the request id; the log has the details.

    Errors we raise on purpose (``GraphQLError`` with an ``extensions.code``, validation and variable errors)
    pass unchanged; a database that cannot be reached is ``SERVICE_UNAVAILABLE`` (HTTP 503: retry), not a bug.
    Outside development suggestions ("Did you mean …?") leave no error message unless turned on by name.
    """

    def __init__(self, *, hide_suggestions: bool = False) -> None:
        self.hide_suggestions = hide_suggestions

    def on_operation(self):  # type: ignore[no-untyped-def]
        yield
        self._mask_all(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._mask_all(result)  # (a socket's answer is sent before the operation ends: masked here, before it goes)
        yield

    def _mask_all(self, result: Any) -> None:
        if result is None or not getattr(result, "errors", None):
            return
        result.errors = [self._mask(error) for error in result.errors]

    def _mask(self, error: GraphQLError) -> GraphQLError:
        original = error.original_error
        if original is None or isinstance(original, GraphQLError):
            if self.hide_suggestions and SUGGESTION in error.message:
                error.message = error.message.split(SUGGESTION)[0].rstrip()
            return error
        context = self.execution_context.context
        request_id = getattr(context, "request_id", None)
        if database_unavailable(original):
            log.warning("database unavailable in %s: %s", ".".join(map(str, error.path or [])) or "operation", original)
            response = getattr(context, "response", None)
            if response is not None and hasattr(response, "status_code"):
                response.status_code = 503
                response.headers["retry-after"] = "1"
            return GraphQLError(
                SERVICE_UNAVAILABLE_MESSAGE,
                nodes=error.nodes,
                path=error.path,
                extensions={"code": TopLevelCode.SERVICE_UNAVAILABLE.value, "requestId": request_id},
            )
        log.error(
            "unexpected error in %s",
            ".".join(map(str, error.path or [])) or "operation",
            exc_info=(type(original), original, original.__traceback__),
            extra={"request_id": request_id},
        )
        return GraphQLError(
            "Internal server error.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": TopLevelCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
        )


class RequestErrorCodes(SchemaExtension):
    """Every request error gets an ``extensions.code`` a client can switch on: ``GRAPHQL_PARSE_FAILED`` (syntax),
    ``QUERY_TOO_COMPLEX`` (the token, depth and alias limits; the rules of the last two say so themselves: ``coded``),
    ``GRAPHQL_VALIDATION_FAILED`` (any other validation rule), ``BAD_USER_INPUT`` (variables that do not coerce).
    Codes already given (persisted documents, the cost and rate limits, our own errors) are kept."""

    def on_parse(self) -> Iterator[None]:
        yield
        for error in self.execution_context.pre_execution_errors or []:
            if isinstance(error, GraphQLSyntaxError):
                _code_syntax(error)

    def on_validate(self) -> Iterator[None]:
        # (after the validation cache's hook, which has set the document's errors by now)
        execution = self.execution_context
        document = execution.graphql_document
        # (Strawberry keeps the request's own operationName only here; tests/http/test_request_error_codes.py runs a
        # named operation of several and refuses an unnamed one, so a change of it fails there)
        if execution._provided_operation_name is None and document is not None and not execution.pre_execution_errors:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:  # (Strawberry would run the first: the spec asks for the name)
                execution.pre_execution_errors = [
                    GraphQLError(
                        "Must provide operation name if query contains multiple operations.",
                        extensions={"code": TopLevelCode.BAD_REQUEST.value},
                    )
                ]
        yield
        for error in execution.pre_execution_errors or []:
            _code(error, TopLevelCode.GRAPHQL_VALIDATION_FAILED)

    def on_operation(self) -> Iterator[None]:
        try:
            yield
        finally:
            _code_unresolved(self.execution_context.result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        _code_unresolved(result)  # (a socket's answer is sent before the operation ends)
        yield


def _code_unresolved(result: Any) -> None:
    """No data, and errors of no field and no cause but a GraphQL one: variable coercion's refusals (the scalar's
    own error inside), before anything ran."""
    if result is None or getattr(result, "data", None) is not None:
        return
    for error in getattr(result, "errors", None) or []:
        if error.path is None and (error.original_error is None or isinstance(error.original_error, GraphQLError)):
            _code(error, TopLevelCode.BAD_USER_INPUT)


def _code_syntax(error: GraphQLError) -> None:
    too_many_tokens = TOKEN_LIMIT in error.message
    _code(error, TopLevelCode.QUERY_TOO_COMPLEX if too_many_tokens else TopLevelCode.GRAPHQL_PARSE_FAILED)


TOKEN_LIMIT = "tokens. Parsing aborted."  # (graphql-core's lexer, past MaxTokensLimiter's max_tokens)


def _code(error: GraphQLError, code: TopLevelCode) -> None:
    if not (error.extensions or {}).get("code"):
        error.extensions = {**(error.extensions or {}), "code": code.value}


class RefusingParserCache(ParserCache):
    """Strawberry's parser cache, except that a document that does not parse is left to Strawberry's own parsing
    step, which makes the error the operation's answer: raised from the cache's hook, it escaped every handler (a
    socket's subscribe got a bare ``complete``, no error)."""

    def on_parse(self) -> Iterator[None]:
        execution = self.execution_context
        try:
            execution.graphql_document = self.cached_parse_document(execution.query, **execution.parse_options)
        except GraphQLError:
            pass  # (parsed again, and refused, by Strawberry; only documents that fail pay twice)
        yield


class _Coding:
    """A validation context whose reported errors carry a code (the rest is the context's)."""

    def __init__(self, context: ValidationContext, code: TopLevelCode) -> None:
        self._context = context
        self._error_code = code

    def report_error(self, error: GraphQLError) -> None:
        _code(error, self._error_code)
        self._context.report_error(error)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


def coded(rule: type[ASTValidationRule], code: TopLevelCode) -> type[ASTValidationRule]:
    """``rule`` whose errors carry ``code`` (a limit's refusal is not a mistake in the document)."""

    class Coded(rule):  # type: ignore[misc,valid-type]
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(_Coding(context, code))

    Coded.__name__ = f"Coded{rule.__name__}"
    return Coded


class PorticoSchema(strawberry.Schema):
    validation_rules: tuple[Any, ...] = ()  # set by build_schema

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Client errors are the client's business; unexpected ones are logged once, by MaskInternalErrors."""


def root_type(name: str, parts: list[type], description: str) -> type:
    """The root type merged from every domain's part (as ``strawberry.tools.merge_types``), described with the
    budget every operation is held to (``core.cost``)."""
    merge_types(name, tuple(parts))  # its check: no field defined twice
    return strawberry.type(type(name, tuple(parts), {}), description=description)


def build_schema(config: Settings, *, tracing: Tracing | None = None) -> strawberry.Schema:
    """The Portico schema for these settings (limits, introspection), with ``tracing``'s resolver spans."""
    from resolvers.domains import SUBSCRIPTIONS, mutation_parts, query_parts  # the resolvers depend on schema/

    budget = cost_description(config.max_query_cost)
    Query = root_type("Query", list(query_parts()), budget)
    Mutation = root_type("Mutation", list(mutation_parts()), budget)
    Subscription = root_type("Subscription", list(SUBSCRIPTIONS), budget)
    limit_rules = added_rules(config)
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension] | Any] = [
        # first in, last out: it notes the operation's errors as the others left them (masked, coded)
        OperationNote,  # the access log's operation name, type, viewer and error codes (core/accesslog.py)
        # the limit rules are made once: ValidationCache keys on the rule classes, and Strawberry's limiter
        # extensions make new classes for every request, so no validation would ever come from the cache
        lambda: AddValidationRules(list(limit_rules)),  # (and introspection off, when it is)
        lambda: MaxTokensLimiter(max_token_count=config.max_tokens),
        lambda: RefusingParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        RequestErrorCodes,  # an extensions.code on every request error; one operation or its name (after the cache)
        RequestBudget,  # cost limit and rate limits, before execution (core/limits.py)
        lambda: MaskInternalErrors(hide_suggestions=not config.field_suggestions_enabled),
        RejectNulBytes,  # no U+0000 in variables or string literals (PostgreSQL text cannot hold one)
        *([tracing.extension()] if tracing is not None else []),  # resolvers' spans (core/tracing.py)
    ]
    schema = PorticoSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=EXTRA_TYPES,
        extensions=extensions,
        config=StrawberryConfig(auto_camel_case=True, disable_field_suggestions=not config.field_suggestions_enabled),
        scalar_overrides=SCALAR_OVERRIDES,  # Decimal's one input form, and @specifiedBy on each (core/scalars.py)
        execution_context_class=SharedSubscriptionExecutor,  # FastLeafExecutor, sharing subscription results
    )
    # every rule a request is validated with: graphql-core's, ours, Strawberry's own (for the planned read path)
    schema.validation_rules = (*specified_rules, *limit_rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return schema


def added_rules(config: Settings) -> tuple[Any, ...]:
    """The validation rules Portico adds to graphql-core's: depth, aliases, and no introspection when it is off.
    Made once per schema: the validation cache keys on the rule classes."""
    rules: tuple[Any, ...] = (
        coded(depth_limit_rule(config.max_query_depth, None, None), TopLevelCode.QUERY_TOO_COMPLEX),
        coded(alias_limit_rule(config.max_aliases), TopLevelCode.QUERY_TOO_COMPLEX),
    )
    if not config.introspection_enabled:
        rules += (NoSchemaIntrospectionCustomRule,)
    return rules
