"""Query depth, alias and size limits; introspection off in production."""

from __future__ import annotations

import pytest
from httpx import ASGITransport, AsyncClient

from app import create_app
from core.settings import Settings
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory


async def test_too_deep_queries_are_refused(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    inner = "id"
    for _ in range(7):
        inner = f"persons {{ contact {{ {inner} }} }}"
    deep = f"{{ contacts {{ edges {{ node {{ {inner} }} }} }} }}"
    result = await gql.raw(deep, as_=token)
    assert result.data is None
    assert "exceeds maximum operation depth" in result.errors[0]["message"]


async def test_too_many_aliases_are_refused(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    aliased = "{ " + " ".join(f"a{i}: me {{ __typename }}" for i in range(31)) + " }"
    result = await gql.raw(aliased, as_=token)
    assert result.data is None and result.errors


async def test_too_large_documents_are_refused(gql: GraphQLClient) -> None:
    huge = "{ " + " ".join("__typename" for _ in range(2500)) + " }"
    result = await gql.raw(huge)
    assert result.data is None and result.errors


@pytest.fixture
async def production_client(settings: Settings):  # type: ignore[no-untyped-def]
    production = settings.model_copy(update={"environment": "production", "graphiql": None, "introspection": None})
    application = create_app(production)
    async with application.router.lifespan_context(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://portico.test") as client:
            yield client


async def test_production_turns_introspection_and_graphiql_off(production_client: AsyncClient) -> None:
    result = await production_client.post("/graphql", json={"query": "{ __schema { types { name } } }"})
    body = result.json()
    assert body.get("data") is None and body["errors"]
    page = await production_client.get("/graphql", headers={"accept": "text/html"})
    assert "graphiql" not in page.text.lower()
