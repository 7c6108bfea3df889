"""Portico: the ASGI app factory and the command line (``python app.py --help``)."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import typer
from opentelemetry.sdk.trace.export import SpanExporter
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from core.accesslog import AccessLog
from core.cors import cors_middleware
from core.graphiql import asset_routes
from core.http import PorticoGraphQL
from core.limits import BodySizeLimit, DatabaseUnavailable
from core.logging import RequestIdMiddleware, configure_logging
from core.metrics import collecting, fresh_multiprocess_directory
from core.metrics import endpoint as metrics_endpoint
from core.persisted import PersistedDocuments, load_manifest
from core.settings import Settings, get_settings
from core.tracing import Tracing
from resolvers.documents.downloads import routes as download_routes
from resolvers.loaders import Loaders
from resolvers.planner.answer import PlannedReads
from schema.schema import build_schema
from services.health import livez, readyz
from services.payments.webhooks import stripe_webhook
from services.runtime import Runtime

log = logging.getLogger("portico")


# The cyclic collector's generations, sized for a server: CPython's (700, 10, 10) promote whatever is alive across
# two young collections (an operation awaiting PostgreSQL is) to the old generation, and each time that grew by a
# quarter a full collection walks every object of every open socket: 1.5-1.7 s with 10,000 sockets, with nothing to
# free. Young generations of 50,000 let requests' and events' objects die young; a full collection waits for 100
# middle ones. (What requests and events made cyclic is gone: core.execution, resolvers.loaders.)
GC_THRESHOLDS = (50_000, 20, 100)


def create_app(settings: Settings | None = None, *, span_exporter: SpanExporter | None = None) -> Starlette:
    """Build the ASGI app for ``settings`` (default: from the environment); ``span_exporter``: traces go there
    (a test's in-memory exporter) rather than where the settings say."""
    settings = settings or get_settings()
    runtime = Runtime(settings, loaders=Loaders)
    manifest = load_manifest(settings.persisted_manifest)
    tracing = Tracing.configured(settings, span_exporter)
    schema = build_schema(settings, tracing=tracing)
    planned = PlannedReads(schema, settings, PersistedDocuments(manifest, allow_list=settings.allow_list_enabled))
    graphql = PorticoGraphQL(schema, runtime=runtime, planned=planned)
    ready = readyz(runtime)
    metrics_beside_api = settings.metrics_enabled and not settings.metrics_port

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if tracing is not None:
            tracing.start()
        await runtime.start()
        if settings.environment != "test":  # (a test process starts many apps: their objects must stay collectable)
            # what start-up made lives as long as the process: out of the cyclic collector's way, so its full
            # collections (the tail of a request's latency) walk only what requests allocate
            gc.collect()
            gc.freeze()
            gc.set_threshold(*GC_THRESHOLDS)
        try:
            async with collecting(runtime):
                yield
        finally:
            await runtime.stop()
            if tracing is not None:
                tracing.stop()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        *([Route("/metrics", metrics_endpoint(runtime), methods=["GET"])] if metrics_beside_api else []),
        Route("/livez", livez, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
        Route("/healthz", ready, methods=["GET"]),  # (older configurations probe it)
        Route("/webhooks/stripe", stripe_webhook, methods=["POST"]),  # signature-verified, idempotent
        *download_routes,  # GET /documents/{id}.pdf, GET /statements.pdf
        *asset_routes(settings),  # GraphiQL's JS/CSS from node_modules, when GraphiQL is on
    ]
    middleware = [
        Middleware(RequestIdMiddleware),
        *cors_middleware(settings),  # CORS_ORIGINS: preflights, and browsers on those origins read the answers
        # one line per request with its operation (inside: the line carries the request id), and its metrics
        Middleware(AccessLog, metrics=settings.metrics_enabled, tracer=tracing.tracer if tracing else None),
        Middleware(DatabaseUnavailable),  # 503 SERVICE_UNAVAILABLE, not a bare 500, while PostgreSQL is away
        Middleware(BodySizeLimit, max_bytes=settings.max_request_bytes),  # 413 before the body is read
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.runtime = runtime
    return app


cli = typer.Typer(help="Portico, the customer portal's GraphQL backend.", no_args_is_help=True, add_completion=False)


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default: PORT or 8000")] = None,
    workers: Annotated[int | None, typer.Option(help="default: WORKERS or 1")] = None,
) -> None:
    """Serve the API (GraphQL at /graphql)."""
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.json_logs)
    fresh_multiprocess_directory()
    options = server_options(settings)
    uvicorn.run(
        "app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_config=None,
        **options,
    )


def server_options(settings: Settings) -> dict[str, object]:
    """How uvicorn serves Portico (``serve``, and the benchmarks that must measure the same server)."""
    return {
        "proxy_headers": False,  # X-Forwarded-For is trusted only from TRUSTED_PROXIES, in core.context
        "ws": "websockets-sansio",
        "ws_max_size": settings.max_ws_message_bytes,
        "ws_per_message_deflate": False,  # its zlib state costs tens of KiB per socket; GraphQL frames are small
        "access_log": False,  # the app's own line per request says more (core/accesslog.py)
        "backlog": 8192,  # a reconnect storm (a deploy, a network blip) sends thousands of sockets at once
    }


@cli.command()
def migrate() -> None:
    """Apply database migrations (alembic upgrade head)."""
    from services.migrations import upgrade_head

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.json_logs)
    asyncio.run(upgrade_head(settings))


@cli.command("seed-demo")
def seed_demo() -> None:
    """Load the demo organizations, logins and documents (idempotent)."""
    from services.demo.seed import seed_demo_data

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.json_logs)
    asyncio.run(seed_demo_data(settings))


@cli.command("create-organization")
def create_organization(
    name: Annotated[str, typer.Option(help="The business's name")],
    slug: Annotated[str, typer.Option(help="Portal slug: lower-case letters, digits and dashes")],
    owner_email: Annotated[str, typer.Option(help="The owner's login email")],
    currency: Annotated[str, typer.Option(help="Base currency (ISO 4217)")] = "USD",
    password: Annotated[
        str | None, typer.Option(envvar="PORTICO_OWNER_PASSWORD", help="Owner password; prompted when absent")
    ] = None,
) -> None:
    """Create an organization and its owner."""
    from core.errors import DomainError
    from services.settings.organizations import create_organization_with_owner

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.json_logs)
    secret = password or typer.prompt("Owner password", hide_input=True, confirmation_prompt=True)
    try:
        org_id = asyncio.run(
            create_organization_with_owner(
                settings, name=name, slug=slug, owner_email=owner_email, password=secret, currency=currency
            )
        )
    except DomainError as error:  # an expected refusal (taken slug, bad email, short password): no traceback
        option = f" (--{''.join('-' + c.lower() if c.isupper() else c for c in error.field)})" if error.field else ""
        typer.echo(f"error: {error.message}{option} [{error.code}]", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"organization {slug!r} created (id {org_id}); the owner can sign in as {owner_email}")


if __name__ == "__main__":
    os.chdir(os.path.dirname(os.path.abspath(__file__)))
    cli()
else:  # imported: `uvicorn app:app` (or another ASGI server) serves it
    if not logging.getLogger().handlers:  # (nobody configured logging: the server's own setup leaves the root bare)
        configure_logging(get_settings().log_level, json=get_settings().json_logs)
    app = create_app()
