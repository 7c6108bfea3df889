"""A client gets the session transport it chose (cookie or token, never both), cookies carry the configured
attributes, CORS_ORIGINS lets listed browser origins call the API (preflight, credentials) and open sockets, and
every other origin is refused; settings that cannot work are refused with the setting's name."""

from __future__ import annotations

from typing import Any

import pytest
from httpx import AsyncClient
from httpx_ws import WebSocketDisconnect
from pydantic import ValidationError

from core.settings import Settings
from tests.client import own_app
from tests.factories import PASSWORD, Factory
from tests.subscriptions.wsclient import in_process

LOGIN = """mutation($input: LoginInput!) { login(input: $input) {
  __typename ... on Session { token csrfToken transport } ... on LoginError { code } } }"""
ME = "{ me { __typename ... on StaffUser { email } } }"
FRONTEND = "http://localhost:3000"


async def _login(http: AsyncClient, email: str, headers: dict[str, str] | None = None, **extra: Any) -> Any:
    variables = {"input": {"email": email, "password": PASSWORD, **extra}}
    response = await http.post("/graphql", json={"query": LOGIN, "variables": variables}, headers=headers or {})
    return response, response.json()["data"]["login"]


async def test_a_client_gets_only_the_transport_it_chose(http: AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    email = tenant.owner.email
    # a client that is not a browser (no Origin): a token, no cookie
    response, session = await _login(http, email)
    assert (session["transport"], session["csrfToken"]) == ("TOKEN", None) and session["token"]
    assert response.headers.get_list("set-cookie") == []
    # a browser (Origin): the HttpOnly cookie, the CSRF token to echo, and no token in the answer
    http.cookies.clear()
    response, session = await _login(http, email, {"origin": "http://portico.test"})
    assert (session["transport"], session["token"]) == ("COOKIE", None)
    assert session["csrfToken"] == response.cookies["portico_csrf"] and response.cookies["portico_session"]
    me = await http.post("/graphql", json={"query": ME}, headers={"x-csrf-token": session["csrfToken"]})
    assert me.json()["data"]["me"]["email"] == email
    # asked for explicitly, either way round
    http.cookies.clear()
    response, session = await _login(http, email, {"origin": "http://portico.test"}, transport="TOKEN")
    assert session["transport"] == "TOKEN" and session["token"] and response.headers.get_list("set-cookie") == []
    response, session = await _login(http, email, transport="COOKIE")
    assert session["transport"] == "COOKIE" and session["token"] is None and "portico_session" in response.cookies
    http.cookies.clear()


async def test_cookie_attributes_follow_the_settings(settings: Settings, factory: Factory) -> None:
    tenant = await factory.tenant()
    configured = settings.model_copy(update={"cookie_samesite": "strict", "cookie_domain": "portico.test"})
    async with own_app(configured) as (_, client):
        response, session = await _login(client, tenant.owner.email, transport="COOKIE")
        cookies = [value.lower() for value in response.headers.get_list("set-cookie")]
        assert len(cookies) == 2 and all("samesite=strict" in c and "domain=portico.test" in c for c in cookies)
        assert sum("httponly" in c for c in cookies) == 1  # the session cookie; the CSRF one is for the page
        logout = await client.post(
            "/graphql", json={"query": "mutation { logout }"}, headers={"x-csrf-token": session["csrfToken"]}
        )
        cleared = [value.lower() for value in logout.headers.get_list("set-cookie")]
        assert len(cleared) == 2 and all("max-age=0" in c and "domain=portico.test" in c for c in cleared)


@pytest.mark.parametrize(
    ("update", "named"),
    [
        ({"cors_origins": ["*"]}, "CORS_ORIGINS"),
        ({"cors_origins": ["https://app.example.com/path"]}, "CORS_ORIGINS"),
        ({"cors_origins": ["app.example.com"]}, "CORS_ORIGINS"),
        ({"cookie_samesite": "none", "cookie_secure": False}, "COOKIE_SAMESITE"),
    ],
)
def test_settings_that_cannot_work_are_refused(update: dict[str, Any], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        Settings(environment="development", **update)


def test_origins_are_kept_in_one_form() -> None:
    settings = Settings(environment="development", cors_origins=["HTTPS://App.Example.com/", "http://localhost:3000"])
    assert settings.cors_origins == ["https://app.example.com", "http://localhost:3000"]


@pytest.fixture
async def cors(settings: Settings) -> Any:
    async with own_app(settings.model_copy(update={"cors_origins": [FRONTEND]})) as running:
        yield running


PREFLIGHT = {"access-control-request-method": "POST", "access-control-request-headers": "content-type,x-csrf-token"}


async def test_a_listed_origin_passes_the_preflight_and_reads_answers(cors: Any) -> None:
    _, client = cors
    preflight = await client.options("/graphql", headers={"origin": FRONTEND, **PREFLIGHT})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == FRONTEND
    assert preflight.headers["access-control-allow-credentials"] == "true"
    assert preflight.headers["access-control-max-age"] == "600"
    assert "x-csrf-token" in preflight.headers["access-control-allow-headers"].lower()
    answer = await client.post("/graphql", json={"query": "{ __typename }"}, headers={"origin": FRONTEND})
    assert answer.headers["access-control-allow-origin"] == FRONTEND
    assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()


async def test_another_origin_gets_no_cors_headers(cors: Any, http: AsyncClient) -> None:
    _, client = cors
    evil = {"origin": "https://evil.example"}
    preflight = await client.options("/graphql", headers={**evil, **PREFLIGHT})
    assert preflight.status_code == 400 and "access-control-allow-origin" not in preflight.headers
    answer = await client.post("/graphql", json={"query": "{ __typename }"}, headers=evil)
    assert "access-control-allow-origin" not in answer.headers
    # and without CORS_ORIGINS (the default) nobody gets them
    default = await http.options("/graphql", headers={"origin": FRONTEND, **PREFLIGHT})
    assert "access-control-allow-origin" not in default.headers


async def test_sockets_from_origins_not_listed_are_refused(cors: Any, factory: Factory, http: AsyncClient) -> None:
    application, _ = cors
    tenant = await factory.tenant()
    _, session = await _login(http, tenant.owner.email)
    token = session["token"]
    for allowed in ({}, {"origin": FRONTEND}, {"origin": "http://portico.test"}):  # none, listed, its own
        async with in_process(application, token, **allowed) as socket:
            assert socket is not None
    closed: list[int] = []
    try:  # (closed before it was accepted: a server answers that handshake with 403)
        async with in_process(application, token, origin="https://evil.example"):
            pass
    except* WebSocketDisconnect as refused:
        closed = [error.code for error in refused.exceptions]  # type: ignore[attr-defined]
    assert closed == [1008]
