"""A small GraphQL client over httpx for tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from httpx import ASGITransport, AsyncClient, Response


@dataclass
class GraphQLResult:
    response: Response
    body: dict[str, Any]

    @property
    def data(self) -> Any:
        return self.body.get("data")

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    @property
    def error_codes(self) -> list[str | None]:
        return [(error.get("extensions") or {}).get("code") for error in self.errors]


class GraphQLClient:
    """``await gql(query, variables, as_=token)`` → data (asserting no errors); ``gql.raw`` keeps errors."""

    def __init__(self, http: AsyncClient) -> None:
        self.http = http

    async def raw(
        self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None, **headers: str
    ) -> GraphQLResult:
        request_headers = {"accept": "application/json", **headers}
        if as_:
            request_headers["authorization"] = f"Bearer {as_}"
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=request_headers
        )
        return GraphQLResult(response, response.json())

    async def __call__(self, query: str, variables: dict[str, Any] | None = None, *, as_: str | None = None) -> Any:
        result = await self.raw(query, variables, as_=as_)
        assert not result.errors, result.errors
        return result.data

    async def login(self, email: str, password: str, portal: str | None = None) -> str:
        data = await self(
            """mutation($input: LoginInput!) { login(input: $input) {
                 __typename ... on Session { token } ... on LoginError { code } } }""",
            {"input": {"email": email, "password": password, "portal": portal}},
        )
        assert data["login"]["__typename"] == "Session", data
        self.http.cookies.clear()  # this client authenticates with bearer tokens; cookies are tested on their own
        return str(data["login"]["token"])


@asynccontextmanager
async def own_app(settings: Any, **options: Any) -> AsyncIterator[tuple[Any, AsyncClient]]:
    """An app of its own with ``settings`` (and ``create_app``'s ``options``; started: its lifespan runs), and an
    in-process client of it."""
    from app import create_app  # (the app module builds an app at import: only when a test asks for one)

    application = create_app(settings, **options)
    async with application.router.lifespan_context(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://portico.test") as client:
            yield application, client
