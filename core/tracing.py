"""OpenTelemetry traces: one span per GraphQL request, with its resolvers' and its SQL statements' spans inside.

On only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (batched, exported by OTLP over HTTP to
``<endpoint>/v1/traces``), or when a test hands ``create_app`` an exporter. Off, nothing is installed: no span is
started, asyncpg is not wrapped, the schema has no resolver extension.

- The request's span (``core.accesslog.AccessLog``, kind SERVER) continues an incoming W3C ``traceparent``, and is
  named after its operation once known (``query Invoices``, ``mutation Add``), with the attributes
  ``graphql.operation.name``/``type``, ``http.request.method``, ``url.path`` (never the query string: a GET's
  variables are in it), ``http.response.status_code``, and ``portico.answered_by``, ``portico.viewer``,
  ``portico.error_codes``.
- ``ResolverSpans`` (a schema extension): a span per field with a resolver of its own (``Invoice.payments``,
  ``Query.invoices``), never for plain attributes; no argument values.
- SQL: ``opentelemetry-instrumentation-asyncpg`` (statements through SQLAlchemy and ``Database.fetch_row`` alike;
  the statement's text with its ``$n`` placeholders, never the parameters).
- Log lines written while a span is current carry its ``trace_id`` and ``span_id`` (``core.logging``).
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import isawaitable
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor, SpanExporter
from strawberry.extensions import SchemaExtension
from strawberry.extensions.utils import get_path_from_info, is_introspection_field
from strawberry.resolvers import is_default_resolver

if TYPE_CHECKING:
    from graphql import GraphQLResolveInfo

    from core.settings import Settings

TRACER_NAME = "portico"


class Tracing:
    """The app's tracer provider, and what it instruments while the app runs."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self.tracer = provider.get_tracer(TRACER_NAME)

    @classmethod
    def configured(cls, settings: Settings, exporter: SpanExporter | None = None) -> Tracing | None:
        """From the settings (OTLP over HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set), or with ``exporter``
        (each span exported as it ends: a test's in-memory exporter); None when neither: tracing is off."""
        if exporter is None and not settings.otel_exporter_otlp_endpoint:
            return None
        provider = TracerProvider(resource=Resource.create({"service.name": settings.otel_service_name}))
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            endpoint = settings.otel_exporter_otlp_endpoint.rstrip("/") + "/v1/traces"
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
        return cls(provider)

    def start(self) -> None:
        AsyncPGInstrumentor().instrument(tracer_provider=self.provider)

    def stop(self) -> None:
        """Unwrap asyncpg and send what is still batched (the provider's shutdown flushes)."""
        AsyncPGInstrumentor().uninstrument()
        self.provider.shutdown()

    def extension(self) -> type[SchemaExtension]:
        """The schema extension that makes this provider's resolver spans."""
        tracer = self.tracer

        class Spans(ResolverSpans):
            def __init__(self, *, execution_context: Any = None) -> None:
                super().__init__(tracer, execution_context=execution_context)

        return Spans


class ResolverSpans(SchemaExtension):
    """A span per resolved field that has a resolver of its own, inside the current (the request's) span."""

    def __init__(self, tracer: trace.Tracer, *, execution_context: Any = None) -> None:
        self.tracer = tracer
        if execution_context is not None:
            self.execution_context = execution_context

    def resolve(self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo, *args: Any, **kwargs: Any) -> Any:
        field = info.parent_type.fields.get(info.field_name)
        if (
            field is None
            or field.resolve is None
            or is_default_resolver(field.resolve)
            or is_introspection_field(info)
            or not trace.get_current_span().is_recording()  # (a socket's operation: no request span to be in)
        ):
            return _next(root, info, *args, **kwargs)
        return self._traced(_next, root, info, args, kwargs)

    async def _traced(
        self, _next: Callable[..., Any], root: Any, info: GraphQLResolveInfo, args: Any, kwargs: Any
    ) -> Any:
        attributes = {
            "graphql.field.name": info.field_name,
            "graphql.field.parent_type": info.parent_type.name,
            "graphql.field.path": ".".join(map(str, get_path_from_info(info))),
        }
        with self.tracer.start_as_current_span(f"{info.parent_type.name}.{info.field_name}", attributes=attributes):
            result = _next(root, info, *args, **kwargs)
            if isawaitable(result):
                result = await result
            return result


def describe(span: trace.Span, operations: list[dict[str, Any]], status: int) -> None:
    """Name the request's span after its operation(s), with what the access log knows of them."""
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(trace.StatusCode.ERROR)
    if not operations:
        return
    first = operations[0]
    kind = first.get("operation_type") or "unknown"
    name = first.get("operation")
    if len(operations) > 1:
        span.update_name(f"batch of {len(operations)}")
    else:
        span.update_name(f"{kind} {name}" if name else kind)
    span.set_attribute("graphql.operation.type", kind)
    if name:
        span.set_attribute("graphql.operation.name", name)
    codes = [code for operation in operations for code in operation.get("error_codes") or []]
    if codes:
        span.set_attribute("portico.error_codes", codes)
    for key in ("answered_by", "viewer"):
        if first.get(key):
            span.set_attribute(f"portico.{key}", first[key])
