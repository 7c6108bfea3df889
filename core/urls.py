"""Absolute URLs of the API's own routes (downloads), as a client on another origin must be given them."""

from __future__ import annotations

from typing import Any


def api_url(context: Any, path: str) -> str:
    """``PUBLIC_API_URL`` + ``path``; without that setting, the origin this request was made to (its Host)."""
    base = context.settings.public_api_url
    if not base:
        request = getattr(context, "request", None)
        base = str(request.base_url) if request is not None else ""
    return base.rstrip("/") + path
