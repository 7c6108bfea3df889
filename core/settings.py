"""The one typed settings object. Nothing else in Portico reads ``os.environ``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from strawberry.http.websocket_origin import normalize_origin

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Configuration from environment variables (and an optional ``.env`` file)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(default=1, description="uvicorn worker processes in production mode")

    # Empty: the local PostgreSQL on 127.0.0.1:5432 (database `portico`) if it answers, else an embedded one.
    database_url: str = ""
    database_name: str = "portico"
    db_pool_size: int = 10
    # connections beyond the pool are opened for one checkout and closed after it: under load that is a new
    # PostgreSQL backend per request (make bench at c32: 0.36-0.45 -> 0.63-0.64 x raw for small reads without it)
    db_max_overflow: int = 0
    data_dir: Path = PROJECT_ROOT / ".data"

    broadcast_url: str = "memory://"
    smtp_url: str = ""
    mail_from: str = "Portico <no-reply@portico.test>"
    outbox_dir: Path = PROJECT_ROOT / ".data" / "outbox"
    mail_worker: bool = Field(default=True, description="deliver the mail outbox from this process")
    mail_poll_seconds: float = 2.0
    mail_max_attempts: int = 12
    invite_ttl_hours: int = 24 * 7
    reset_ttl_minutes: int = 60

    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = Field(default="", description="default: Stripe's API; tests point it at a local fake")
    stripe_timeout_seconds: float = 20.0

    public_portal_url: str = "http://127.0.0.1:8000"
    public_api_url: str = Field(
        default="", description="the API's public origin, for the URLs it gives (pdfUrl); default: each request's"
    )
    graphiql: bool | None = Field(default=None, description="default: on outside production")
    introspection: bool | None = Field(default=None, description="default: on outside production")
    field_suggestions: bool | None = Field(
        default=None, description='"Did you mean …?" in validation errors; default: on outside production'
    )

    session_idle_timeout_minutes: int = 60 * 24 * 7
    session_absolute_timeout_hours: int = 24 * 30
    session_cookie_name: str = "portico_session"
    csrf_cookie_name: str = "portico_csrf"
    cookie_secure: bool | None = Field(default=None, description="default: on in production")
    cookie_samesite: Literal["lax", "strict", "none"] = Field(
        default="lax", description="the session cookies' SameSite; none (a frontend on another site) needs Secure"
    )
    cookie_domain: str | None = Field(
        default=None, description="the session cookies' Domain (e.g. example.com for app. and api.); default: host-only"
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="web origins allowed to call the API from a browser (no *), sockets too"
    )
    cors_max_age: int = Field(default=600, description="seconds a browser may cache a CORS preflight")

    # Argon2id parameters: at or above OWASP's floor (19 MiB, t=2, p=1).
    argon2_memory_kib: int = 19 * 1024
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1

    persisted_manifest: Path | None = Field(
        default=PROJECT_ROOT / "persisted-documents.json", description="trusted documents: JSON {id: document}"
    )
    persisted_only: bool | None = Field(default=None, description="allow-list mode; default: on in production")
    planned_reads: bool = Field(default=True, description="answer plannable queries with one SQL statement")
    path_header: bool = Field(default=False, description="X-Portico-Path on GraphQL answers: planned or executed")

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    max_query_cost: int = Field(default=20_000, description="fields resolved, lists multiplied by their size")
    max_request_bytes: int = Field(default=1_048_576, description="HTTP request bodies; larger ones get 413")
    max_ws_message_bytes: int = Field(default=262_144, description="one websocket message; larger ones close it")
    # Token buckets in PostgreSQL, shared by every app process; an operation takes its cost from the session's
    # bucket and from the client address's (anonymous requests: the address's only).
    rate_limit_enabled: bool = True
    rate_limit_session_burst: int = 60_000
    rate_limit_session_per_second: float = 6_000
    rate_limit_address_burst: int = 200_000
    rate_limit_address_per_second: float = 20_000
    rate_limit_allowance_seconds: float = Field(
        default=1.0, description="how long a process spends an allowance (a tenth of a bucket) before it goes back"
    )
    throttle_first_lock_seconds: float = Field(
        default=1.0, description="the lock after a key's free attempts; each later one doubles (at most 15 minutes)"
    )
    socket_recheck_seconds: float = Field(
        default=30.0, description="backstop re-check of every open socket's session (events close them at once)"
    )
    simulated_payments: bool | None = Field(
        default=None, description="the SIMULATED gateway: default on in development and tests; never in production"
    )

    trusted_proxies: list[str] = Field(default_factory=list)
    metrics_enabled: bool = Field(default=False, description="Prometheus metrics at /metrics (core/metrics.py)")
    metrics_port: int | None = Field(
        default=None, description="serve /metrics on this port only, not beside the API (every worker shares it)"
    )
    metrics_host: str | None = Field(default=None, description="the metrics port's address; default: HOST")
    otel_exporter_otlp_endpoint: str = Field(
        default="", description="OpenTelemetry traces by OTLP/HTTP to <endpoint>/v1/traces; empty: tracing off"
    )
    otel_service_name: str = Field(default="portico", description="the traces' service.name")
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="default: JSON logs in production")

    @model_validator(mode="after")
    def _coherent(self) -> Settings:
        """Refuse combinations that cannot work anywhere, naming the setting to change."""
        origins = []
        for origin in self.cors_origins:
            normal = origin.strip().rstrip("/").lower()
            parts = urlsplit(normal)
            if normal == "*" or "*" in normal:
                raise ValueError(
                    "CORS_ORIGINS cannot hold *: cookie sessions send credentials, so list each origin "
                    "(e.g. https://app.example.com)"
                )
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
                raise ValueError(f"CORS_ORIGINS: {origin!r} is not an origin (scheme://host[:port], no path)")
            origins.append(normalize_origin(normal) or normal)  # (the form browsers send: no default port)
        self.cors_origins = origins
        if self.cookie_samesite == "none" and not self.secure_cookies:
            raise ValueError("COOKIE_SAMESITE=none needs COOKIE_SECURE=true: browsers refuse such cookies otherwise")
        return self

    @model_validator(mode="after")
    def _safe_in_production(self) -> Settings:
        """Refuse to start in production on a combination that is unsafe there, naming the setting to change."""
        if not self.is_production:
            return self
        if self.simulated_payments:
            raise ValueError("SIMULATED_PAYMENTS cannot be turned on in production: it marks invoices paid for free")
        if self.cookie_secure is False:
            raise ValueError(
                "COOKIE_SECURE=false is refused in production: session cookies would travel over plain http "
                "(try cookie sign-in over http with ENVIRONMENT=development)"
            )
        if self.allow_list_enabled and (self.persisted_manifest is None or not self.persisted_manifest.is_file()):
            raise ValueError(
                f"PERSISTED_MANIFEST {self.persisted_manifest} is not a file: with the allow-list on (PERSISTED_ONLY, "
                "on in production) only its documents run, so every request would be refused"
            )
        if self.stripe_secret_key and not self.stripe_webhook_secret:
            raise ValueError(
                "STRIPE_WEBHOOK_SECRET is required in production when STRIPE_SECRET_KEY is set: payment outcomes "
                "arrive by webhook, and unsigned ones are refused, so no payment would ever be recorded"
            )
        return self

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def graphiql_enabled(self) -> bool:
        return self.graphiql if self.graphiql is not None else not self.is_production

    @property
    def introspection_enabled(self) -> bool:
        return self.introspection if self.introspection is not None else not self.is_production

    @property
    def field_suggestions_enabled(self) -> bool:
        return self.field_suggestions if self.field_suggestions is not None else not self.is_production

    @property
    def allow_list_enabled(self) -> bool:
        return self.persisted_only if self.persisted_only is not None else self.is_production

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else self.is_production

    @property
    def simulated_payments_enabled(self) -> bool:
        """SIMULATED marks invoices paid without money: never in production, whatever else is set."""
        if self.is_production:
            return False
        if self.simulated_payments is not None:
            return self.simulated_payments
        return self.environment in ("development", "test")

    @property
    def json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else self.is_production


@lru_cache
def get_settings() -> Settings:
    return Settings()
