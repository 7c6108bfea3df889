"""Which web origins may call the API from a browser: one list (``CORS_ORIGINS``) for HTTP and websockets.

HTTP: Starlette's ``CORSMiddleware`` answers preflights (cached ``CORS_MAX_AGE`` seconds) and lets the listed
origins read answers, with credentials (cookie sessions). Websockets have no preflight, and a browser sends the
page's cookies with the handshake: Strawberry's origin check (``allowed_origins``, given the same list in
``core.http``) refuses, with 403, a socket whose ``Origin`` is neither the API's own nor listed (no cross-site
socket riding a session cookie). Clients that are not browsers send no ``Origin`` and pass.
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware

from core.settings import Settings

ALLOWED_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "x-csrf-token",
    "x-request-id",
    "traceparent",
    "tracestate",
]
EXPOSED_HEADERS = ["x-request-id", "retry-after"]


def cors_middleware(settings: Settings) -> list[Middleware]:
    """The middleware for ``CORS_ORIGINS`` (none when the list is empty: same-origin only)."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_credentials=True,
            allow_methods=["GET", "POST"],
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            max_age=settings.cors_max_age,
        )
    ]
