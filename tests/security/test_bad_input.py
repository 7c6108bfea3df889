"""Bad input gets a typed error, never an internal one: forged cursors, NUL bytes, non-canonical ids and decimals."""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from httpx import AsyncClient

from core.ids import to_global_id
from core.persisted import load_manifest
from services.persisted_manifest import MANIFEST
from tests.client import GraphQLClient, GraphQLResult
from tests.factories import PASSWORD, Factory, Tenant
from tests.invoice.helpers import CREATE_ESTIMATE, line
from tests.subscriptions.wsclient import in_process

GRAPHQL_RESPONSE = "application/graphql-response+json"
INVOICE_LIST_ID = next(key for key, text in load_manifest(MANIFEST).items() if text.startswith("query InvoiceList"))


def cursor(*values: Any) -> str:
    """A cursor as a client could forge it: base64url of any JSON array."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def assert_bad_user_input(result: GraphQLResult, field: str | None = None) -> None:
    assert result.response.status_code < 500, result.body
    assert result.response.headers["content-type"].split(";")[0].endswith("json")
    assert result.error_codes == ["BAD_USER_INPUT"], result.body
    if field is not None:
        assert result.errors[0]["extensions"]["field"] == field


async def staff_token(gql: GraphQLClient, tenant: Tenant) -> str:
    return await gql.login(tenant.owner.email, PASSWORD)


async def portal_token(gql: GraphQLClient, tenant: Tenant) -> str:
    return await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)


# --- forged cursors --------------------------------------------------------------------------------------------

# the reported one: ["2026-01-01", 10^21] (asyncpg: value out of int64 range)
REPORTED = "WyIyMDI2LTAxLTAxIiwgMTAwMDAwMDAwMDAwMDAwMDAwMDAwMF0"
DATE_KEYED = [
    REPORTED,
    cursor("2026-01-01", 2**63),
    cursor("2026-01-01", -(2**63) - 1),
    cursor("2026-01-01", True),
    cursor("2026-01-01", 1.0),
    cursor("2026-01-01", "1"),
    cursor("20260101", 1),
    cursor("2026-02-30", 1),
    cursor("2026-01-01\u0000", 1),
    cursor(20260101, 1),
    cursor("2026-01-01"),
    cursor({"a": 1}),
]
CONNECTIONS = {
    "invoices": ("query($after: String) { invoices(first: 2, after: $after) { totalCount } }", DATE_KEYED),
    "estimates": ("query($after: String) { estimates(first: 2, after: $after) { totalCount } }", DATE_KEYED),
    "payments": ("query($after: String) { payments(first: 2, after: $after) { totalCount } }", DATE_KEYED),
    "contacts": (
        "query($after: String) { contacts(first: 2, after: $after) { totalCount } }",
        [cursor("Acme", 10**21), cursor("Acme\u0000", 1), cursor(5, 1), cursor("Acme", False), cursor("Acme", "1")],
    ),
}


@pytest.mark.parametrize("connection", sorted(CONNECTIONS))
async def test_forged_cursors_are_bad_user_input(gql: GraphQLClient, factory: Factory, connection: str) -> None:
    # given a staff user whose organization has a row of each kind
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    await factory.estimate(tenant.contact_a)
    await factory.payment(tenant.contact_a, [(invoice, Decimal(10))])
    token = await staff_token(gql, tenant)
    query, forged = CONNECTIONS[connection]
    for after in forged:
        # when a forged cursor is sent / then the answer is BAD_USER_INPUT on `after`, not an internal error
        assert_bad_user_input(await gql.raw(query, {"after": after}, as_=token), field="after")


async def test_forged_cursors_on_comments_are_bad_user_input(gql: GraphQLClient, factory: Factory) -> None:
    # given an invoice with comments
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    await factory.comment(invoice, staff=tenant.owner)
    token = await staff_token(gql, tenant)
    query = "query($id: ID!, $after: String) { invoice(id: $id) { comments(first: 1, after: $after) { totalCount } } }"
    for after in (cursor(10**21), cursor(2**63), cursor(True), cursor(1.5), cursor("1"), cursor(1, 2)):
        # when its thread is paged with a forged cursor / then BAD_USER_INPUT
        assert_bad_user_input(await gql.raw(query, {"id": invoice.gid, "after": after}, as_=token), field="after")


async def test_genuine_cursors_still_page(gql: GraphQLClient, factory: Factory) -> None:
    # given three invoices and two contacts
    tenant = await factory.tenant()
    for _ in range(3):
        await factory.invoice(tenant.contact_a)
    token = await staff_token(gql, tenant)
    for connection, total in (("invoices", 3), ("contacts", 2)):
        # when the first page's end cursor asks for the next one
        first = await gql(f"query {{ {connection}(first: 2) {{ pageInfo {{ endCursor }} }} }}", as_=token)
        end = first[connection]["pageInfo"]["endCursor"]
        query = f"query($after: String) {{ {connection}(first: 2, after: $after) {{ edges {{ cursor }} }} }}"
        page = await gql(query, {"after": end}, as_=token)
        # then the rest comes
        assert len(page[connection]["edges"]) == total - 2


@pytest.mark.parametrize("accept", ["application/json", GRAPHQL_RESPONSE])
@pytest.mark.parametrize("after", [REPORTED, cursor("2026-01-01", 2**63), cursor("2026-01-01", True)])
async def test_forged_cursor_on_the_persisted_invoice_list(
    http: AsyncClient, gql: GraphQLClient, factory: Factory, accept: str, after: str
) -> None:
    # given a portal user (the compiled path answers their InvoiceList with one SQL statement)
    tenant = await factory.tenant()
    await factory.invoice(tenant.contact_a)
    token = await portal_token(gql, tenant)
    # when the persisted InvoiceList is sent by documentId with a forged cursor
    response = await http.post(
        "/graphql",
        json={"documentId": f"sha256:{INVOICE_LIST_ID}", "variables": {"first": 2, "after": after}},
        headers={"authorization": f"Bearer {token}", "accept": accept},
    )
    # then it is a JSON GraphQL error BAD_USER_INPUT, not a 500
    assert response.status_code < 500
    assert response.headers["content-type"].startswith(accept)
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


# --- NUL bytes -------------------------------------------------------------------------------------------------

LOGIN = "mutation($input: LoginInput!) { login(input: $input) { __typename } }"
RESET = "mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { accepted } }"
SEARCH = "query($filter: InvoiceFilter) { invoices(filter: $filter) { totalCount } }"
NUL_VARIABLES = {
    "login email": (LOGIN, {"input": {"email": "owner\u0000@example.test", "password": "x"}}, "input.email"),
    "login portal": (
        LOGIN,
        {"input": {"email": "someone@example.test", "password": "x", "portal": "org\u0000"}},
        "input.portal",
    ),
    "reset email": (RESET, {"input": {"email": "a\u0000@example.test"}}, "input.email"),
    "reset email, portal": (RESET, {"input": {"email": "a\u0000@example.test", "portal": "org-1"}}, "input.email"),
    "filter.search": (SEARCH, {"filter": {"search": "INV\u0000"}}, "filter.search"),
    "nested in a list": (
        "mutation($input: CreateEstimateInput!) { createEstimate(input: $input) { __typename } }",
        {"input": {"contactId": "x", "lineItems": [line(), line(name="a\u0000b")]}},
        "input.lineItems[1].name",
    ),
}
NUL_LITERALS = {
    "login email": 'mutation { login(input: {email: "owner\\u0000@example.test", password: "x"}) { __typename } }',
    "login portal": 'mutation { login(input: {email: "a@example.test", password: "x", portal: "o\\u0000"}) '
    "{ __typename } }",
    "reset email": 'mutation { requestPasswordReset(input: {email: "a\\u0000@example.test"}) { accepted } }',
    "filter.search": 'query { invoices(filter: {search: "INV\\u{0}"}) { totalCount } }',
    "raw NUL in a block string": 'query { invoices(filter: {search: """INV\u0000"""}) { totalCount } }',
}


@pytest.mark.parametrize("case", sorted(NUL_VARIABLES))
async def test_nul_in_a_variable_is_bad_user_input(gql: GraphQLClient, factory: Factory, case: str) -> None:
    # given a signed-in staff user (anonymous for login and reset: they need no session)
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    query, variables, field = NUL_VARIABLES[case]
    for as_ in (None, token):
        # when a string variable holds U+0000 / then the operation is refused before it runs
        result = await gql.raw(query, variables, as_=as_, accept=GRAPHQL_RESPONSE)
        assert_bad_user_input(result, field=field)
        assert result.response.status_code == 400 and "data" not in result.body


@pytest.mark.parametrize("case", sorted(NUL_LITERALS))
async def test_nul_in_a_string_literal_is_bad_user_input(gql: GraphQLClient, factory: Factory, case: str) -> None:
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    for as_ in (None, token):
        assert_bad_user_input(await gql.raw(NUL_LITERALS[case], as_=as_))


async def test_strings_without_nul_still_pass(gql: GraphQLClient, factory: Factory) -> None:
    # given escapes that are not NUL (the check walks such documents) and control characters the lexer allows
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    data = await gql('query { invoices(filter: {search: "\\u00e9\\u0001"}) { totalCount } }', as_=token)
    assert data == {"invoices": {"totalCount": 0}}
    data = await gql(SEARCH, {"filter": {"search": "caf\u00e9 \u0001"}}, as_=token)
    assert data == {"invoices": {"totalCount": 0}}


async def test_nul_over_a_websocket_is_bad_user_input(app: Any, gql: GraphQLClient, factory: Factory) -> None:
    # given a staff user's websocket
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    async with in_process(app, token) as socket:
        # when a query over it carries a NUL in a variable
        op_id = await socket.subscribe(SEARCH, {"filter": {"search": "a\u0000"}})
        message = await socket.receive()
        # then the operation gets BAD_USER_INPUT (and the socket stays usable)
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert message["id"] == op_id
        assert [error["extensions"]["code"] for error in errors] == ["BAD_USER_INPUT"]
        await socket.subscribe(SEARCH, {"filter": {"search": "a"}})
        while (reply := await socket.receive())["type"] != "next":
            pass
        assert reply["payload"]["data"] == {"invoices": {"totalCount": 0}}


# --- global ids: one spelling per object -----------------------------------------------------------------------


def spelled(type_name: str, pk: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


NON_CANONICAL_PKS = [" 5", "5 ", "05", "+5", "\u0665", "5\n", "5_0", "5.0", "-5", "0", str(2**63)]


async def test_non_canonical_global_ids_are_not_found(gql: GraphQLClient, factory: Factory) -> None:
    # given estimate 5 exists (ids restart at 1 for every test) and is visible to staff
    tenant = await factory.tenant()
    estimates = [await factory.estimate(tenant.contact_a) for _ in range(5)]
    target = estimates[-1]
    assert target.pk == 5 and target.gid == to_global_id("Estimate", 5)
    token = await staff_token(gql, tenant)
    read = "query($id: ID!) { estimate(id: $id) { id } node(id: $id) { id } }"
    send = "mutation($id: ID!) { sendEstimate(id: $id) { __typename ... on SendEstimateError { code field } } }"
    assert (await gql(read, {"id": target.gid}, as_=token))["estimate"] == {"id": target.gid}
    for variant in [spelled("Estimate", pk) for pk in NON_CANONICAL_PKS] + [target.gid + "=", target.gid + "\n"]:
        # when another spelling of the same id is sent / then it is not found: null for reads, NOT_FOUND for writes
        assert await gql(read, {"id": variant}, as_=token) == {"estimate": None, "node": None}, variant
        result = (await gql(send, {"id": variant}, as_=token))["sendEstimate"]
        assert result == {"__typename": "SendEstimateError", "code": "NOT_FOUND", "field": "id"}, variant


# --- decimals: one canonical form ------------------------------------------------------------------------------

NON_CANONICAL_DECIMALS: list[Any] = [
    " 5 ",
    "5 ",
    "\u0665",
    "1_0",
    "+5",
    "1e3",
    "1E3",
    "5.",
    ".5",
    "",
    "-",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "5,5",
    "\uff15",
    5,
    5.5,
    True,
    "1" * 101,
]
CANONICAL_DECIMALS = ["5", "0", "-0", "2.5", "19.99", "007", "1.0000"]


def estimate_input(contact_gid: str, quantity: Any, rate: Any = "10") -> dict[str, Any]:
    return {"input": {"contactId": contact_gid, "lineItems": [{"name": "Work", "quantity": quantity, "rate": rate}]}}


@pytest.mark.parametrize("value", NON_CANONICAL_DECIMALS, ids=repr)
async def test_non_canonical_decimal_variables_are_bad_user_input(
    gql: GraphQLClient, factory: Factory, value: Any
) -> None:
    # given a staff user creating an estimate
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    for variables in (estimate_input(tenant.contact_a.gid, value), estimate_input(tenant.contact_a.gid, "1", value)):
        # when a quantity or a rate is not the canonical string / then the request is refused before execution
        result = await gql.raw(CREATE_ESTIMATE, variables, as_=token, accept=GRAPHQL_RESPONSE)
        assert_bad_user_input(result)
        assert result.response.status_code == 400


@pytest.mark.parametrize(
    "literal", ["5", "5.5", '" 5 "', '"1e3"', '"\\u0665"', '"1_0"', '"+5"', "true", '"NaN"'], ids=str
)
async def test_non_canonical_decimal_literals_are_bad_user_input(
    gql: GraphQLClient, factory: Factory, literal: str
) -> None:
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    query = (
        f'mutation {{ createEstimate(input: {{contactId: "{tenant.contact_a.gid}", '
        f'lineItems: [{{name: "Work", quantity: "1", rate: {literal}}}]}}) {{ __typename }} }}'
    )
    assert_bad_user_input(await gql.raw(query, as_=token, accept=GRAPHQL_RESPONSE))


async def test_canonical_decimals_are_accepted(gql: GraphQLClient, factory: Factory) -> None:
    # given a staff user
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    for value in CANONICAL_DECIMALS:
        # when the rate is a canonical decimal string (as a variable and as a literal)
        by_variable = await gql(CREATE_ESTIMATE, estimate_input(tenant.contact_a.gid, "1", value), as_=token)
        query = (
            f'mutation {{ createEstimate(input: {{contactId: "{tenant.contact_a.gid}", '
            f'lineItems: [{{name: "Work", quantity: "2", rate: "{value}"}}]}}) {{ ... on Estimate {{ total }} }} }}'
        )
        by_literal = await gql(query, as_=token)
        # then the estimate is made and its total is the decimal, serialized as a string
        assert by_variable["createEstimate"]["__typename"] == "Estimate", (value, by_variable)
        expected = f"{abs(float(value)) * 2:.2f}"
        assert by_literal["createEstimate"]["total"] == expected


async def test_a_negative_canonical_decimal_reaches_the_mutations_own_rule(
    gql: GraphQLClient, factory: Factory
) -> None:
    # given the scalar accepts "-1" (its form is canonical), the mutation still decides it is not a rate
    tenant = await factory.tenant()
    token = await staff_token(gql, tenant)
    result = await gql(CREATE_ESTIMATE, estimate_input(tenant.contact_a.gid, "1", "-1"), as_=token)
    assert result["createEstimate"]["__typename"] == "CreateEstimateError"
    assert (result["createEstimate"]["code"], result["createEstimate"]["field"]) == (
        "INVALID_INPUT",
        "lineItems[0].rate",
    )


async def test_decimal_output_is_unchanged(gql: GraphQLClient, factory: Factory) -> None:
    # given an invoice made by the factory (quantity 2, rate 50)
    tenant = await factory.tenant()
    await factory.invoice(tenant.contact_a, issue_date=dt.date(2026, 1, 5))
    token = await staff_token(gql, tenant)
    data = await gql("query { invoices { edges { node { total lineItems { quantity rate amount } } } } }", as_=token)
    node = data["invoices"]["edges"][0]["node"]
    assert node == {"total": "100.00", "lineItems": [{"quantity": "2", "rate": "50.00", "amount": "100.00"}]}
