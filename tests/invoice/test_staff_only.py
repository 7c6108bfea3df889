"""The estimate, invoice and payment mutations are staff-only: portal users are forbidden, anonymous callers
unauthenticated, and nothing is written either way."""

from __future__ import annotations

from typing import Any

import pytest

from core.database import Database
from core.scope import T_ESTIMATE, T_INVOICE, T_PAYMENT
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import (
    CREATE_ESTIMATE,
    CREATE_INVOICE,
    RECORD_PAYMENT,
    SEND_ESTIMATE,
    SEND_INVOICE,
    UPDATE_ESTIMATE,
    UPDATE_INVOICE,
    VOID_INVOICE,
    line,
    portal_token,
    snapshot,
    staff_session,
)

MUTATIONS = {
    "createEstimate": (CREATE_ESTIMATE, lambda c, e, i: {"input": {"contactId": c, "lineItems": [line()]}}),
    "updateEstimate": (UPDATE_ESTIMATE, lambda c, e, i: {"input": {"id": e, "notes": "x"}}),
    "sendEstimate": (SEND_ESTIMATE, lambda c, e, i: {"id": e}),
    "createInvoice": (CREATE_INVOICE, lambda c, e, i: {"input": {"contactId": c}}),
    "updateInvoice": (UPDATE_INVOICE, lambda c, e, i: {"input": {"id": i, "notes": "x"}}),
    "sendInvoice": (SEND_INVOICE, lambda c, e, i: {"id": i}),
    "voidInvoice": (VOID_INVOICE, lambda c, e, i: {"id": i}),
    "recordPayment": (
        RECORD_PAYMENT,
        lambda c, e, i: {
            "input": {"contactId": c, "amount": "1", "mode": "CASH", "allocations": [{"invoiceId": i, "amount": "1"}]}
        },
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
@pytest.mark.parametrize(("viewer", "code"), [("portal", "FORBIDDEN"), ("anonymous", "UNAUTHENTICATED")])
async def test_only_staff_may_call(
    gql: GraphQLClient, factory: Factory, db: Database, name: str, viewer: str, code: str
) -> None:
    # given the client's own contact, a draft estimate and a sent invoice
    staff = await staff_session(gql, factory)
    contact = staff.tenant.contact_a
    estimate = await factory.estimate(contact, status="DRAFT")
    invoice = await factory.invoice(contact)
    token = await portal_token(gql, staff.tenant) if viewer == "portal" else None
    before = [await snapshot(db, table) for table in (T_ESTIMATE, T_INVOICE, T_PAYMENT)]
    mutation, variables = MUTATIONS[name]
    # when a portal user (or nobody) calls the staff mutation
    result = await gql.raw(mutation, variables(contact.gid, estimate.gid, invoice.gid), as_=token)
    # then it fails at the top level and nothing changes
    assert result.error_codes == [code]
    data: Any = result.data
    assert data is None or data.get(name) is None
    assert [await snapshot(db, table) for table in (T_ESTIMATE, T_INVOICE, T_PAYMENT)] == before
