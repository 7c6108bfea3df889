"""Test helpers shared by the estimate, invoice and payment tests: logins, inputs and the mutations' text."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table

from core.database import Database
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory, Tenant

ESTIMATE_FIELDS = """
fragment EstimateFields on Estimate {
  id number status currency subtotal taxTotal total issueDate expiryDate reference notes terms
  sentAt declinedAt declineReason
  lineItems { position name description quantity rate discountPercent taxName taxPercent amount taxAmount }
  activity { kind description }
}
"""

INVOICE_FIELDS = """
fragment InvoiceFields on Invoice {
  id number kind status currency subtotal taxTotal total amountPaid balanceDue issueDate dueDate
  reference notes terms sentAt paymentGateways
  lineItems { position name description quantity rate discountPercent taxName taxPercent amount taxAmount }
  activity { kind description }
}
"""

PAYMENT_FIELDS = """
fragment PaymentFields on Payment {
  id amount currency paymentDate mode status reference notes
  allocations { amount invoice { id status amountPaid balanceDue } }
}
"""


def document_mutation(name: str, argument: str, type_name: str) -> str:
    """The text of a mutation returning ``type_name`` or ``<Name>Error`` (with code and field)."""
    fragment = {"Estimate": ESTIMATE_FIELDS, "Invoice": INVOICE_FIELDS, "Payment": PAYMENT_FIELDS}[type_name]
    variable, value = argument.split(":", 1)
    error = name[0].upper() + name[1:] + "Error"
    return (
        f"mutation(${variable}: {value.strip()}) {{ {name}({variable}: ${variable}) {{ __typename "
        f"... on {type_name} {{ ...{type_name}Fields }} ... on {error} {{ code field message }} }} }}" + fragment
    )


CREATE_ESTIMATE = document_mutation("createEstimate", "input: CreateEstimateInput!", "Estimate")
UPDATE_ESTIMATE = document_mutation("updateEstimate", "input: UpdateEstimateInput!", "Estimate")
SEND_ESTIMATE = document_mutation("sendEstimate", "id: ID!", "Estimate")
CREATE_INVOICE = document_mutation("createInvoice", "input: CreateInvoiceInput!", "Invoice")
UPDATE_INVOICE = document_mutation("updateInvoice", "input: UpdateInvoiceInput!", "Invoice")
SEND_INVOICE = document_mutation("sendInvoice", "id: ID!", "Invoice")
VOID_INVOICE = document_mutation("voidInvoice", "id: ID!", "Invoice")
RECORD_PAYMENT = document_mutation("recordPayment", "input: RecordPaymentInput!", "Payment")


def line(name: str = "Design work", quantity: str = "2", rate: str = "50.00", **extra: Any) -> dict[str, Any]:
    """A ``LineItemInput`` as JSON (decimals as strings)."""
    return {"name": name, "quantity": quantity, "rate": rate, **extra}


@dataclass
class Staff:
    """A tenant with its owner's session token."""

    tenant: Tenant
    token: str


async def staff_session(gql: GraphQLClient, factory: Factory, **organization: Any) -> Staff:
    """A new tenant (organization values overridable) and its owner signed in."""
    if organization:
        org = await factory.organization(**organization)
        contact_a, contact_b = await factory.contact(org), await factory.contact(org)
        tenant = Tenant(
            org,
            await factory.staff(org),
            contact_a,
            await factory.person(contact_a),
            contact_b,
            await factory.person(contact_b),
        )
    else:
        tenant = await factory.tenant()
    return Staff(tenant, await gql.login(tenant.owner.email, PASSWORD))


async def portal_token(gql: GraphQLClient, tenant: Tenant) -> str:
    return await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)


async def mutate(gql: GraphQLClient, mutation: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
    """Run a mutation and return its (only) result object."""
    data = await gql(mutation, variables, as_=token)
    (result,) = data.values()
    return result  # type: ignore[no-any-return]


async def snapshot(db: Database, table: Table, **where: Any) -> list[dict[str, Any]]:
    """Every matching row, as dicts ordered by id: compare before and after to show nothing changed."""
    stmt = (
        table.select().where(*(table.c[name] == value for name, value in where.items())).order_by(table.c[_key(table)])
    )
    async with db.session() as session:
        return [dict(row._mapping) for row in (await session.execute(stmt)).all()]


def _key(table: Table) -> str:
    return "id" if "id" in table.c else next(iter(table.primary_key.columns)).name
