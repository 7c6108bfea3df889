"""GraphQL over HTTP's media types and request errors, and the bearer token of a request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

if TYPE_CHECKING:
    pass  # the app's composition (app.py) hands it in

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"


APPLICATION_JSON = "application/json"


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
