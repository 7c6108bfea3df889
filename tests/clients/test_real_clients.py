"""The GraphQL clients frontend teams use, against a live Portico: Apollo Client 3, urql 5, graphql-ws, GraphQL
Code Generator 5 (typed, persisted documents) and relay-compiler 18 (persisted queries).

Each client is a Node script in ``clients/`` that prints what it checked and exits non-zero on any failure
(docs/clients.md). Codegen and relay-compiler run once (``clients/build.mjs``); their manifest is loaded into a
second server in allow-list mode (``PERSISTED_ONLY=true``, ``PERSISTED_MANIFEST=<the generated file>``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT, Settings
from tests.factories import PASSWORD, Factory, Tenant
from tests.live import running_server
from tests.subscriptions.conftest import Sessions

pytestmark = pytest.mark.slow

CLIENTS = PROJECT_ROOT / "clients"
GENERATED = CLIENTS / "generated"


def node_binary() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: the client checks need Node.js 20")
    return node


@pytest.fixture(scope="module", autouse=True)
def clients_installed() -> None:
    """Every package of clients/package.json in clients/node_modules, or a failure saying how to get them."""
    manifest = json.loads((CLIENTS / "package.json").read_text())
    names = [*manifest["dependencies"], *manifest["devDependencies"]]
    missing = [name for name in names if not (CLIENTS / "node_modules" / name / "package.json").is_file()]
    if missing:
        what = "is missing" if len(missing) == len(names) else f"lacks {', '.join(missing)}"
        pytest.fail(f"clients/node_modules {what}: `make install` installs it (npm ci --prefix clients)")


def run_script(script: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``node clients/<script>`` with ``env`` added; its output is shown with -s or on failure."""
    completed = subprocess.run(
        [node_binary(), script],
        cwd=CLIENTS,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    print(f"$ node clients/{script}\n{completed.stdout}{completed.stderr}")
    return completed


def assert_passed(completed: subprocess.CompletedProcess[str]) -> None:
    assert completed.returncode == 0, f"{completed.args[-1]} failed:\n{completed.stdout}\n{completed.stderr}"


@pytest.fixture(scope="module")
def built() -> Path:
    """Codegen (typed documents, possibleTypes, persisted documents), tsc --strict, relay-compiler: once."""
    completed = run_script("build.mjs", {}, timeout=180)
    assert_passed(completed)
    return GENERATED / "persisted-documents.json"


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[str]:
    """A Portico as in development: plain documents run (Apollo, urql, graphql-ws send their text)."""
    with running_server(settings) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def trusted_server(settings: Settings, built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Portico in allow-list mode whose manifest is the one the clients' build generated (a copy in a temp dir)."""
    manifest = tmp_path_factory.mktemp("manifest") / "persisted-documents.json"
    shutil.copyfile(built, manifest)
    with running_server(settings, PERSISTED_MANIFEST=str(manifest), PERSISTED_ONLY="true") as base_url:
        yield base_url


@dataclass
class Portal:
    tenant: Tenant
    env: dict[str, str]


@pytest.fixture
async def portal(factory: Factory, sessions: Sessions) -> Portal:
    """An organization whose portal person has two sent estimates and three sent invoices; tokens for that person
    and for the organization's owner (the subscriber of live events)."""
    tenant = await factory.tenant()
    for _ in range(2):
        await factory.estimate(tenant.contact_a)
    for _ in range(3):
        await factory.invoice(tenant.contact_a)
    await factory.estimate(tenant.contact_b)  # another contact's: never seen by person_a
    env = {
        "PORTICO_TOKEN": await sessions.portal(tenant.person_a),
        "PORTICO_STAFF_TOKEN": await sessions.staff(tenant.owner),
        "PORTICO_EMAIL": tenant.person_a.email,
        "PORTICO_PASSWORD": PASSWORD,
        "PORTICO_PORTAL": tenant.org.portal_slug,
    }
    return Portal(tenant, env)


def test_apollo_client(built: Path, server: str, portal: Portal) -> None:
    # given a signed-out Apollo Client 3 with generated possibleTypes  # when it signs in, queries and mutates
    # then fragments on Document keep their fields and the mutation's answer updates the normalized cache
    assert_passed(run_script("apollo.mjs", {**portal.env, "PORTICO_URL": server}))


def test_urql(server: str, portal: Portal) -> None:
    # given urql with fetchExchange and a graphql-ws subscriptionExchange  # then a query and a live event arrive
    assert_passed(run_script("urql.mjs", {**portal.env, "PORTICO_URL": server}))


def test_graphql_ws(server: str, portal: Portal) -> None:
    # given the official graphql-ws client  # when a mutation over HTTP causes an event  # then it arrives, and
    # the client completes the subscription
    assert_passed(run_script("graphql-ws.mjs", {**portal.env, "PORTICO_URL": server}))


def test_codegen_manifest_is_sha256(built: Path) -> None:
    # given the manifest the build wrote from codegen's and relay-compiler's persisted documents
    manifest = json.loads(built.read_text())
    # then every id is the SHA-256 of its document, as Portico's manifest loader requires
    assert manifest
    for key, document in manifest.items():
        assert key == hashlib.sha256(document.encode()).hexdigest(), key


def test_codegen_persisted_documents(trusted_server: str, portal: Portal) -> None:
    # given codegen's typed documents, compiled by tsc --strict  # when they are sent by documentId to a server
    # that runs only its manifest  # then they are accepted, and a plain document is refused
    assert_passed(run_script("generated/dist/codegen/client.js", {**portal.env, "PORTICO_URL": trusted_server}))


def test_relay(trusted_server: str, portal: Portal) -> None:
    # given relay-compiler's persisted queries  # when relay-runtime fetches them by id, paginates the
    # @connection and refetches through node(id)  # then the store holds what the server answered
    assert_passed(run_script("relay.mjs", {**portal.env, "PORTICO_URL": trusted_server}))
