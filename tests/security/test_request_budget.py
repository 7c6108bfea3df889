"""Every request has a bounded cost, checked before the work: operation cost, body and message size, rate per
session and address; a database that cannot be reached answers 503 SERVICE_UNAVAILABLE, never a bare 500."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from httpx import ASGITransport, AsyncClient
from httpx_ws import WebSocketDisconnect
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app import create_app
from core import ratelimit
from core.database import Database
from core.settings import Settings
from tests.client import GraphQLClient, GraphQLResult, own_app
from tests.factories import Factory
from tests.portal.conftest import statements
from tests.subscriptions.conftest import Sessions
from tests.subscriptions.wsclient import in_process

# the shape an attacker sent: 28 aliases of a page of 100 invoices with nested pages of comments
NESTED = """invoices(first: 100) { edges { node { id number comments(first: 100) { edges { node { body } } }
  payments { payment { allocations { invoice { comments(first: 100) { edges { node { body } } } } } } } } } }"""
ATTACK = "{ " + " ".join(f"a{i}: {NESTED}" for i in range(28)) + " }"
PAGE = """query($n: Int) { invoices(first: $n) { edges { node { id number lineItems { name amount } } } } }"""


@pytest.fixture
async def limited(settings: Settings) -> AsyncIterator[tuple[Any, AsyncClient]]:
    """An app of its own with small budgets: 100 tokens a session (1/s), 250 an address (1/s)."""
    budgets = settings.model_copy(
        update={
            "rate_limit_session_burst": 100,
            "rate_limit_session_per_second": 1,
            "rate_limit_address_burst": 250,
            "rate_limit_address_per_second": 1,
        }
    )
    application = create_app(budgets)
    async with application.router.lifespan_context(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://portico.test") as client:
            yield application, client


async def test_an_operation_over_the_cost_limit_is_refused_before_anything_runs(
    gql: GraphQLClient, factory: Factory, sessions: Sessions, db: Database
) -> None:
    tenant = await factory.tenant()
    await factory.invoice(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    with statements(db) as ran:
        result = await gql.raw(ATTACK, as_=token)
    assert result.data is None
    assert result.error_codes == ["QUERY_TOO_COMPLEX"]
    extensions = result.errors[0]["extensions"]
    assert extensions["cost"] > extensions["maxCost"] == 20_000
    assert not any("invoice" in statement.lower() for statement in ran), ran  # only the session was read
    # one alias of it is fine
    assert (await gql.raw("{ " + NESTED + " }", as_=token)).error_codes == ["QUERY_TOO_COMPLEX"]
    assert not (await gql.raw("{ invoices(first: 10) { edges { node { id } } } }", as_=token)).errors


async def test_the_cost_counts_page_sizes_given_as_variables(
    gql: GraphQLClient, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    nested = """query($n: Int, $m: Int) { invoices(first: $n) { edges { node {
      comments(first: $m) { edges { node { id body authorName } } } } } } }"""
    assert not (await gql.raw(nested, {"n": 100, "m": 40}, as_=token)).errors  # 100 × (4 + 40 × 5) ≈ 20,000
    refused = await gql.raw(nested, {"n": 100, "m": 100}, as_=token)
    assert refused.error_codes == ["QUERY_TOO_COMPLEX"]


async def test_the_cost_limit_holds_over_a_websocket(app: Any, factory: Factory, sessions: Sessions) -> None:
    tenant = await factory.tenant()
    async with in_process(app, await sessions.portal(tenant.person_a)) as socket:
        await socket.subscribe(ATTACK)
        message = await socket.receive()
        assert message["type"] in ("error", "next"), message
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert [e["extensions"]["code"] for e in errors] == ["QUERY_TOO_COMPLEX"]


async def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(http: AsyncClient) -> None:
    sent = 0

    async def hundred_megabytes() -> AsyncIterator[bytes]:
        nonlocal sent
        chunk = b" " * 1_048_576
        for _ in range(100):
            sent += 1
            yield chunk

    declared = await http.post("/graphql", content=b"{}", headers={"content-length": str(100 * 1_048_576)})
    assert declared.status_code == 413
    assert declared.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    chunked = await http.post("/graphql", content=hundred_megabytes(), headers={"content-type": "application/json"})
    assert chunked.status_code == 413
    assert sent <= 3, sent  # the rest was never read
    # a body just under the limit is read and parsed as usual
    padded = b'{"query": "{ __typename }"' + b" " * 1_000_000 + b"}"
    assert (await http.post("/graphql", content=padded, headers={"content-type": "application/json"})).json() == {
        "data": {"__typename": "Query"}
    }


async def test_a_websocket_message_over_the_limit_closes_the_socket_with_1009(
    app: Any, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    async with in_process(app, await sessions.portal(tenant.person_a)) as socket:
        await socket.ws.send_text('{"type": "ping", "padding": "' + "x" * 300_000 + '"}')
        with pytest.raises(WebSocketDisconnect) as closed:
            await socket.ws.receive_json(timeout=5)
        assert closed.value.code == 1009


# the planned read path answers the first; normal execution the second (a filter), its session check and take
# made in one statement by the planned path's machinery: the accounting is the same
TWELVE = {
    "planned": "{ invoices(first: 2) { edges { node { id number status total } } } }",  # 1 + 1 + 2 × (1 + 4)
    "executed": "{ invoices(first: 2, filter: {status: [SENT]}) { edges { node { id number status total } } } }",
}


@pytest.mark.parametrize("path", TWELVE)
async def test_operations_take_their_cost_from_the_session_and_the_address(
    limited: tuple[Any, AsyncClient], factory: Factory, sessions: Sessions, path: str
) -> None:
    _, client = limited
    gql = GraphQLClient(client)
    tenant = await factory.tenant()
    first, second, third = [await sessions.portal(tenant.person_a) for _ in range(3)]
    query = TWELVE[path]
    costs = 12
    answers = [await gql.raw(query, as_=first) for _ in range(100 // costs + 1)]
    assert [a.error_codes for a in answers[:-1]] == [[]] * (100 // costs)
    refused = answers[-1]
    assert refused.error_codes == ["TOO_MANY_REQUESTS"] and refused.data is None
    assert refused.response.status_code == 429
    assert int(refused.response.headers["retry-after"]) >= 1
    assert refused.errors[0]["extensions"]["retryAfterSeconds"] >= 1
    # another session has its own bucket, but the address's (250) is shared; the refused request cost nothing
    others = [await gql.raw(query, as_=token) for token in (second, third) for _ in range(8)]
    codes = [tuple(a.error_codes) for a in others]
    assert codes.count(()) == (250 - 100 // costs * costs) // costs, codes
    assert set(codes) == {(), ("TOO_MANY_REQUESTS",)}


async def test_normal_execution_checks_the_session_and_takes_its_cost_in_one_statement(
    limited: tuple[Any, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    application, client = limited
    gql = GraphQLClient(client)
    tenant = await factory.tenant()
    await factory.invoice(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    query = TWELVE["executed"]  # (12 is more than a tenth of the session's bucket: no allowance, every take is made)
    await gql(query, as_=token)  # (a session's first request also finds out which kind of viewer it is)
    with statements(application.state.runtime.db, allowances=True) as ran:
        await gql(query, as_=token)
    before_the_answer = [s for s in ran if "rate_limit_bucket" in s or "auth_session" in s]
    assert len(before_the_answer) == 1, ran
    assert "rate_limit_bucket" in before_the_answer[0] and "auth_session" in before_the_answer[0]


@pytest.fixture
async def two_processes(settings: Settings) -> AsyncIterator[tuple[Any, AsyncClient, AsyncClient]]:
    """Two apps on one database, as two processes are (each its own allowances): a session's bucket of 1,200
    tokens that refills 0.001 a second (nothing, for this test), so a tenth of it (120, ten operations of 12) is
    each process's allowance; the address's bucket is out of the way."""
    budgets = settings.model_copy(
        update={
            "rate_limit_session_burst": 1200,
            "rate_limit_session_per_second": 0.001,
            "rate_limit_address_burst": 10**9,
            "rate_limit_address_per_second": 10**9,
            "rate_limit_allowance_seconds": 60,
            "path_header": True,
        }
    )
    one, two = create_app(budgets), create_app(budgets)
    async with one.router.lifespan_context(one), two.router.lifespan_context(two):
        async with (
            AsyncClient(transport=ASGITransport(app=one), base_url="http://portico.test") as a,
            AsyncClient(transport=ASGITransport(app=two), base_url="http://portico.test") as b,
        ):
            yield one, a, b


async def test_an_allowance_spares_the_bucket_a_write_per_operation(
    two_processes: tuple[Any, AsyncClient, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    application, client, _ = two_processes
    gql = GraphQLClient(client)
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    with statements(application.state.runtime.db, allowances=True) as ran:
        for path in ("planned", "executed") * 4:
            await gql(TWELVE[path], as_=token)
    # the first operation took its cost and the allowance (120: ten operations) in the table; the next seven spent it
    assert len([s for s in ran if "rate_limit_bucket" in s]) == 1, ran


async def test_two_processes_spend_a_bucket_once_between_them(
    two_processes: tuple[Any, AsyncClient, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    _, a, b = two_processes
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    clients = [GraphQLClient(a), GraphQLClient(b)]
    # a parallel burst on both, planned and executed operations of 12 each: never more than 1,200 / 12 = 100
    burst = [clients[n % 2].raw(TWELVE[("planned", "executed")[n // 2 % 2]], as_=token) for n in range(160)]
    answers: list[GraphQLResult] = await asyncio.gather(*burst)
    assert all(a.error_codes in ([], ["TOO_MANY_REQUESTS"]) for a in answers)
    served = sum(1 for a in answers if not a.errors)
    assert served <= 100
    # then one at a time on each: what an allowance still holds is spent there, or goes back to the bucket for
    # the other process; when both refuse, all 100 were served, none twice
    refusals = 0
    while refusals < 4:
        answer = await clients[refusals % 2].raw(TWELVE["planned"], as_=token)
        if answer.errors:
            assert answer.error_codes == ["TOO_MANY_REQUESTS"]
            refusals += 1
        else:
            served += 1
            refusals = 0
    assert served == 100


async def test_an_allowance_asked_for_in_a_burst_never_refuses_what_the_cost_alone_would_pass(
    two_processes: tuple[Any, AsyncClient, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    application, client, _ = two_processes
    gql = GraphQLClient(client)
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    # 24 at once, none paid by an allowance yet: each asks for its cost (12) and an allowance (120); 24 x 132 is
    # more than the 1,200 the bucket holds, but 24 x 12 is not: the later takes are granted what is left
    answers: list[GraphQLResult] = await asyncio.gather(*(gql.raw(TWELVE["planned"], as_=token) for _ in range(24)))
    assert [a.error_codes for a in answers] == [[]] * 24
    assert {a.response.headers["x-portico-path"] for a in answers} == {"planned"}  # (none fell back)
    db = application.state.runtime.db
    held = {key: a.tokens for key, a in ratelimit.allowances(db).held.items() if key.startswith("session:")}
    assert len(held) == 1
    ((key, allowance),) = held.items()
    async with db.session() as session:
        tokens = (
            await session.execute(text("SELECT tokens FROM rate_limit_bucket WHERE key = :k"), {"k": key})
        ).scalar()
    assert tokens + allowance == pytest.approx(1200 - 24 * 12, abs=0.1)  # (its refill: 0.001 a second)


async def test_operations_of_many_sessions_from_one_address_take_at_once(
    two_processes: tuple[Any, AsyncClient, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    application, client, _ = two_processes
    gql = GraphQLClient(client)
    tenant = await factory.tenant()
    tokens = [await sessions.portal(tenant.person_a) for _ in range(20)]
    db = application.state.runtime.db
    taking = ratelimit.allowances(db).taking
    in_flight: list[int] = []

    def observe(statement: str) -> None:
        if "rate_limit_bucket" in statement:
            in_flight.append(len(taking))  # the buckets this process is taking from while this take is sent

    db.observers.append(observe)
    try:
        answers = await asyncio.gather(*(gql.raw(TWELVE["planned"], as_=token) for token in tokens))
    finally:
        db.observers.remove(observe)
    assert [a.error_codes for a in answers] == [[]] * 20
    # each new session must take from its own bucket, so none waits for another's take of the shared address
    # bucket: their takes overlap (one at a time, only a session and the address would ever be marked)
    assert max(in_flight) > 2, in_flight


async def test_a_parallel_burst_spends_each_token_once(
    limited: tuple[Any, AsyncClient], factory: Factory, sessions: Sessions
) -> None:
    _, client = limited
    gql = GraphQLClient(client)
    tenant = await factory.tenant()
    token = await sessions.portal(tenant.person_a)
    query = "{ invoices(first: 2) { edges { node { id number status total } } } }"
    answers: list[GraphQLResult] = await asyncio.gather(*(gql.raw(query, as_=token) for _ in range(30)))
    ok = sum(1 for a in answers if not a.errors)
    assert ok == 100 // 12, [a.error_codes for a in answers]
    assert all(a.error_codes in ([], ["TOO_MANY_REQUESTS"]) for a in answers)


async def test_suggestions_are_off_in_production(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": "production", "persisted_only": False})
    application = create_app(production)
    async with application.router.lifespan_context(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://portico.test") as client:
            answers = [
                (await client.post("/graphql", json={"query": query})).json()
                for query in (
                    "{ invoice }",
                    "{ invoicez { totalCount } }",
                    "{ estimates(filter: {statuz: []}) { totalCount } }",
                )
            ]
    messages = [error["message"] for body in answers for error in body["errors"]]
    assert messages and not any("Did you mean" in message for message in messages), messages


class Proxy:
    """A TCP proxy in front of PostgreSQL that the test can cut, to take the database away from a running app."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.server: asyncio.Server | None = None
        self.port = 0
        self.links: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.links):
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        self.links.clear()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.links |= {writer, upstream_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, upstream_writer), pipe(upstream_reader, writer))


async def test_while_the_database_is_away_answers_are_503_service_unavailable(
    settings: Settings, factory: Factory, sessions: Sessions
) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await sessions.portal(tenant.person_a)
    url = make_url(settings.database_url)
    proxy = Proxy(url.port or 5432)
    await proxy.start()
    through_proxy = settings.model_copy(
        update={"database_url": url.set(port=proxy.port).render_as_string(hide_password=False)}
    )
    application = create_app(through_proxy)
    try:
        await _while_the_database_is_away(application, proxy, invoice, token)
    finally:
        await proxy.cut()


async def _while_the_database_is_away(application: Any, proxy: Proxy, invoice: Any, token: str) -> None:
    async with application.router.lifespan_context(application):
        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://portico.test") as client:
            gql = GraphQLClient(client)
            assert not (await gql.raw("{ invoices { totalCount } }", as_=token)).errors
            await proxy.cut()
            headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
            requests = [
                client.post("/graphql", json={"query": "{ invoices { totalCount } }"}, headers=headers),
                client.post("/graphql", json={"query": "{ me { __typename } }"}),  # anonymous: no session lookup
                client.post(
                    "/graphql",
                    json={"query": 'mutation { login(input: {email: "a@b.test", password: "x"}) { __typename } }'},
                ),
                client.get(f"/documents/{invoice.gid}.pdf", headers=headers),
                client.get("/healthz"),
            ]
            answers = [await request for request in requests]
            for answer in answers[:-1]:
                assert answer.status_code in (200, 503), (answer.status_code, answer.text)
                body = answer.json()
                codes = [e["extensions"]["code"] for e in body.get("errors") or []]
                if answer.request.url.path == "/graphql" and "me" in answer.request.content.decode():
                    assert codes in ([], ["SERVICE_UNAVAILABLE"]), body
                else:
                    assert codes == ["SERVICE_UNAVAILABLE"], body
                    assert answer.status_code == 503 and answer.headers["retry-after"] == "1"
            assert answers[-1].status_code == 503
            await proxy.start()  # the database is back: so are the answers
            for _ in range(20):
                result = await gql.raw("{ invoices { totalCount } }", as_=token)
                if not result.errors:
                    break
                await asyncio.sleep(0.1)
            assert result.data == {"invoices": {"totalCount": 1}}


@pytest.fixture
async def shared_address(settings: Settings) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    """Two apps on one database whose clients share one address bucket of 1,000 tokens (refilling 0.001 a second,
    so nothing for this test; a tenth of it is an allowance); sessions' buckets out of the way."""
    budgets = settings.model_copy(
        update={
            "rate_limit_session_burst": 10**9,
            "rate_limit_session_per_second": 10**9,
            "rate_limit_address_burst": 1000,
            "rate_limit_address_per_second": 0.001,
            "rate_limit_allowance_seconds": 60,
        }
    )
    async with own_app(budgets) as (_, a), own_app(budgets) as (_, b):
        yield a, b


async def test_new_sessions_taking_at_once_lend_one_allowance_of_the_shared_address(
    shared_address: tuple[AsyncClient, AsyncClient], factory: Factory, sessions: Sessions, db: Database
) -> None:
    # given 40 new sessions behind one address, half of them on each of two processes
    tenant = await factory.tenant()
    tokens = [await sessions.portal(tenant.person_a) for _ in range(40)]
    clients = [GraphQLClient(client) for client in shared_address]
    # when every session sends an operation of 12 at once (480 of the address's 1,000 tokens)
    answers = await asyncio.gather(
        *(clients[n % 2].raw(TWELVE["planned"], as_=token) for n, token in enumerate(tokens))
    )
    # then none is refused: each process's takes, however many at once, ask the address for one allowance
    assert [a.error_codes for a in answers] == [[]] * 40
    async with db.session() as session:
        tokens_left = (
            await session.execute(text("SELECT tokens FROM rate_limit_bucket WHERE key LIKE 'address:%'"))
        ).scalar()
    assert tokens_left >= 1000 - 40 * 12 - 2 * 100 - 0.1
