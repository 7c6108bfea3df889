"""Expected failures. Business code raises ``DomainError``; each mutation turns it into its error type."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from graphql import GraphQLError


class DomainError(Exception):
    """An expected failure with a machine-readable code (the name of a member of the mutation's enum)."""

    def __init__(self, code: str, message: str, field: str | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra  # further fields of the error type, e.g. retry_after_seconds


def not_found(message: str = "Not found.", field: str | None = "id") -> DomainError:
    """NOT_FOUND: the id names nothing the viewer may see (another tenant's row reads exactly like a missing one)."""
    return DomainError("NOT_FOUND", message, field)


def invalid(message: str, field: str | None = None) -> DomainError:
    """INVALID_INPUT: the input is refused as given (``field`` names the part at fault)."""
    return DomainError("INVALID_INPUT", message, field)


class TopLevelCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    GRAPHQL_PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
    GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
    BAD_REQUEST = "BAD_REQUEST"


SERVICE_UNAVAILABLE_MESSAGE = "The service is unavailable for a moment; try again shortly."


def top_level_error(code: TopLevelCode, message: str, **extensions: Any) -> GraphQLError:
    """A top-level GraphQL error whose ``extensions.code`` clients can switch on."""
    return GraphQLError(message, extensions={"code": code.value, **extensions})


def unauthenticated() -> GraphQLError:
    return top_level_error(TopLevelCode.UNAUTHENTICATED, "Sign in to continue.")


def forbidden(message: str = "You may not do this.") -> GraphQLError:
    return top_level_error(TopLevelCode.FORBIDDEN, message)
