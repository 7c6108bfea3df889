"""Trusted documents (documentId), Automatic Persisted Queries and allow-list mode, over HTTP and websockets."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import httpx
import pytest
from graphql import parse, validate
from httpx import ASGITransport, AsyncClient
from httpx_ws import connect_ws

from app import create_app
from core.persisted import load_manifest, sha256_hex
from core.settings import Settings
from schema.schema import build_schema
from services.persisted_manifest import MANIFEST
from services.persisted_manifest import main as manifest_main
from tests.factories import PASSWORD, Factory
from tests.live import running_server

MANIFEST_DOCS = load_manifest(MANIFEST)
ME_ID = next(key for key, text in MANIFEST_DOCS.items() if text.startswith("query Me"))
JSON = {"accept": "application/json"}
GRAPHQL_JSON = {"accept": "application/graphql-response+json"}


def codes(body: dict) -> list[str]:
    return [(e.get("extensions") or {}).get("code") for e in body.get("errors") or []]


def test_manifest_is_current_and_every_document_validates(settings: Settings) -> None:
    assert manifest_main(["--check"]) == 0
    schema = build_schema(settings)._schema
    for key, text in MANIFEST_DOCS.items():
        assert key == sha256_hex(text)
        assert validate(schema, parse(text)) == [], text


async def test_document_id_over_post_and_get(http: AsyncClient, gql, factory: Factory) -> None:  # type: ignore[no-untyped-def]
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)
    auth = {"authorization": f"Bearer {token}"}
    post = await http.post("/graphql", json={"documentId": f"sha256:{ME_ID}"}, headers={**JSON, **auth})
    assert post.json()["data"]["me"]["__typename"] == "StaffUser"
    get = await http.get("/graphql", params={"documentId": ME_ID}, headers={**JSON, **auth})
    assert get.json()["data"]["me"]["__typename"] == "StaffUser"
    unknown = await http.post("/graphql", json={"documentId": "sha256:" + "0" * 64}, headers=JSON)
    assert (unknown.status_code, codes(unknown.json())) == (200, ["PERSISTED_QUERY_NOT_FOUND"])
    strict = await http.post("/graphql", json={"documentId": "nope"}, headers=GRAPHQL_JSON)
    assert (strict.status_code, codes(strict.json())) == (400, ["PERSISTED_QUERY_NOT_FOUND"])


async def test_automatic_persisted_queries_register_once_then_run_by_hash(
    http: AsyncClient, settings: Settings
) -> None:
    query = "query Apq { __typename }"
    digest = sha256_hex(query)
    extensions = {"persistedQuery": {"version": 1, "sha256Hash": digest}}
    first = await http.post("/graphql", json={"extensions": extensions}, headers=JSON)
    assert first.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert codes(first.json()) == ["PERSISTED_QUERY_NOT_FOUND"]
    registered = await http.post("/graphql", json={"query": query, "extensions": extensions}, headers=JSON)
    assert registered.json() == {"data": {"__typename": "Query"}}
    by_hash = await http.get("/graphql", params={"extensions": json.dumps(extensions)}, headers=JSON)
    assert by_hash.json() == {"data": {"__typename": "Query"}}
    # another app process knows it too: registrations live in PostgreSQL
    other = create_app(settings)
    async with other.router.lifespan_context(other):
        async with AsyncClient(transport=ASGITransport(app=other), base_url="http://portico.test") as client:
            again = await client.post("/graphql", json={"extensions": extensions}, headers=JSON)
    assert again.json() == {"data": {"__typename": "Query"}}
    mismatch = await http.post("/graphql", json={"query": "{ __typename }", "extensions": extensions}, headers=JSON)
    assert codes(mismatch.json()) == ["PERSISTED_QUERY_HASH_MISMATCH"]
    bad = await http.post(
        "/graphql", json={"extensions": {"persistedQuery": {"version": 2, "sha256Hash": digest}}}, headers=JSON
    )
    assert codes(bad.json()) == ["PERSISTED_QUERY_INVALID"]


@pytest.fixture
async def allow_list_client(settings: Settings):  # type: ignore[no-untyped-def]
    application = create_app(settings.model_copy(update={"persisted_only": True}))
    async with application.router.lifespan_context(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://portico.test") as client:
            yield client


async def test_allow_list_mode_runs_only_registered_operations(allow_list_client: AsyncClient) -> None:
    me_text = MANIFEST_DOCS[ME_ID]
    by_id = await allow_list_client.post("/graphql", json={"documentId": ME_ID}, headers=JSON)
    assert by_id.json() == {"data": {"me": None}}
    by_text = await allow_list_client.post("/graphql", json={"query": me_text}, headers=JSON)
    assert by_text.json() == {"data": {"me": None}}
    arbitrary = await allow_list_client.post(
        "/graphql", json={"query": "{ __schema { types { name } } }"}, headers=GRAPHQL_JSON
    )
    assert (arbitrary.status_code, codes(arbitrary.json())) == (400, ["PERSISTED_QUERY_REQUIRED"])
    query = "query NotListed { __typename }"
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha256_hex(query)}}
    refused = await allow_list_client.post("/graphql", json={"query": query, "extensions": apq}, headers=JSON)
    assert codes(refused.json()) == ["PERSISTED_QUERY_NOT_ALLOWED"]
    listed = {"persistedQuery": {"version": 1, "sha256Hash": ME_ID}}
    assert (await allow_list_client.post("/graphql", json={"extensions": listed}, headers=JSON)).json() == {
        "data": {"me": None}
    }
    # an empty `query` beside the id or the hash is no query (what graphql-ws's client sends)
    for body in ({"query": "", "documentId": ME_ID}, {"query": "", "extensions": listed}):
        assert (await allow_list_client.post("/graphql", json=body, headers=JSON)).json() == {"data": {"me": None}}


@pytest.mark.parametrize(
    ("key", "refusal"),
    [
        (hashlib.sha1(b"{ __typename }").hexdigest(), "SHA-1"),
        (hashlib.md5(b"{ __typename }").hexdigest(), "MD5"),
        ("sha256:abc", "64 hex digits"),
        ("sha256:" + "0" * 64, "not the SHA-256 of its document"),
    ],
)
def test_a_manifest_with_ids_of_another_digest_is_refused(tmp_path: Path, key: str, refusal: str) -> None:
    manifest = tmp_path / "persisted-documents.json"
    manifest.write_text(json.dumps({key: "{ __typename }"}))
    with pytest.raises(ValueError, match=refusal):
        load_manifest(manifest)


@pytest.mark.slow
async def test_persisted_operations_over_websockets(settings: Settings, factory: Factory) -> None:
    tenant = await factory.tenant()
    with running_server(settings, PERSISTED_ONLY="true") as base_url, httpx.Client(base_url=base_url) as client:
        login = client.post(
            "/graphql",
            json={
                "documentId": next(k for k, t in MANIFEST_DOCS.items() if t.startswith("mutation Login")),
                "variables": {"input": {"email": tenant.owner.email, "password": PASSWORD}},
            },
        ).json()
        token = login["data"]["login"]["token"]
        ws_url = base_url.replace("http", "ws", 1) + "/graphql"
        with connect_ws(ws_url, client, subprotocols=["graphql-transport-ws"]) as ws:
            ws.send_json({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
            assert ws.receive_json(timeout=10)["type"] == "connection_ack"
            ws.send_json({"id": "1", "type": "subscribe", "payload": {"documentId": ME_ID}})
            answer = ws.receive_json(timeout=10)
            assert answer["type"] == "next" and answer["payload"]["data"]["me"]["__typename"] == "StaffUser"
            assert ws.receive_json(timeout=10) == {"id": "1", "type": "complete"}
            ws.send_json({"id": "2", "type": "subscribe", "payload": {"query": "{ __typename }"}})
            refused = ws.receive_json(timeout=10)
            assert refused["type"] == "error"
            assert refused["payload"][0]["extensions"]["code"] == "PERSISTED_QUERY_REQUIRED"
            apq = {"persistedQuery": {"version": 1, "sha256Hash": ME_ID}}
            ws.send_json({"id": "3", "type": "subscribe", "payload": {"extensions": apq}})
            assert ws.receive_json(timeout=10)["payload"]["data"]["me"]["__typename"] == "StaffUser"
            assert ws.receive_json(timeout=10) == {"id": "3", "type": "complete"}
            # graphql-ws's own client must send `query` as a string: "" beside the id or the hash means none
            for n, payload in enumerate(({"query": "", "documentId": ME_ID}, {"query": "", "extensions": apq}), 4):
                ws.send_json({"id": str(n), "type": "subscribe", "payload": payload})
                assert ws.receive_json(timeout=10)["payload"]["data"]["me"]["__typename"] == "StaffUser"
                assert ws.receive_json(timeout=10) == {"id": str(n), "type": "complete"}
