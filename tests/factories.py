"""Factories: rows for tests, written through the real database (no mocks)."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, update

from core.database import Database
from core.ids import to_global_id
from core.scope import (
    T_ALLOCATION,
    T_COMMENT,
    T_CONTACT,
    T_CONTACT_PERSON,
    T_ESTIMATE,
    T_INVOICE,
    T_ORGANIZATION,
    T_PAYMENT,
    T_PROJECT,
    T_STAFF_USER,
    T_TASK,
    T_TIME_ENTRY,
)
from core.security import hash_password
from core.settings import Settings
from services.documents.lines import LineDraft, replace_line_items
from services.documents.numbering import next_number

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)


@dataclass
class Row:
    """A created row: its primary key, global id and the values it was made with."""

    pk: int
    gid: str
    values: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


class Factory:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self._hash: str | None = None

    def password_hash(self) -> str:
        if self._hash is None:
            self._hash = hash_password(self.settings, PASSWORD)
        return self._hash

    async def _insert(self, table: Any, type_name: str, values: dict[str, Any]) -> Row:
        async with self.db.transaction() as session:
            pk = await session.scalar(insert(table).values(**values).returning(table.c.id))
        return Row(pk=int(pk), gid=to_global_id(type_name, int(pk)) if type_name else str(pk), values=values)

    async def organization(self, **values: Any) -> Row:
        n = next(_seq)
        defaults = {
            "name": f"Org {n}",
            "portal_slug": f"org-{n}",
            "base_currency": "USD",
            "portal_enabled": True,
            "portal_show_projects": True,
            "portal_allow_reviews": True,
            "payment_gateways": ["CARD", "ACH"],
        }
        return await self._insert(T_ORGANIZATION, "", {**defaults, **values})

    async def staff(self, org: Row, **values: Any) -> Row:
        n = next(_seq)
        defaults = {
            "organization_id": org.pk,
            "email": f"staff{n}@example.test",
            "name": f"Staff {n}",
            "role": "OWNER",
            "password_hash": self.password_hash(),
        }
        return await self._insert(T_STAFF_USER, "StaffUser", {**defaults, **values})

    async def contact(self, org: Row, **values: Any) -> Row:
        n = next(_seq)
        defaults = {"organization_id": org.pk, "display_name": f"Contact {n}", "currency": org.base_currency}
        return await self._insert(T_CONTACT, "Contact", {**defaults, **values})

    async def person(self, contact: Row, *, active: bool = True, **values: Any) -> Row:
        n = next(_seq)
        defaults = {
            "organization_id": contact.organization_id,
            "contact_id": contact.pk,
            "first_name": f"Person{n}",
            "last_name": "Tester",
            "email": f"person{n}@example.test",
            "portal_status": "ACTIVE" if active else "NOT_INVITED",
            "password_hash": self.password_hash() if active else None,
        }
        return await self._insert(T_CONTACT_PERSON, "ContactPerson", {**defaults, **values})

    async def _document(self, kind: str, contact: Row, lines: list[LineDraft] | None, values: dict[str, Any]) -> Row:
        table = T_ESTIMATE if kind == "estimate" else T_INVOICE
        lines = lines if lines is not None else [LineDraft(name="Design work", quantity=Decimal(2), rate=Decimal(50))]
        async with self.db.transaction() as session:
            number = await next_number(session, organization_id=contact.organization_id, kind=kind)
            row = {
                "organization_id": contact.organization_id,
                "contact_id": contact.pk,
                "number": number,
                "issue_date": dt.date.today(),
                "currency": contact.currency,
                **values,
            }
            pk = await session.scalar(insert(table).values(**row).returning(table.c.id))
            totals = await replace_line_items(
                session,
                organization_id=contact.organization_id,
                owner=kind,
                owner_id=pk,  # type: ignore[arg-type]
                lines=lines,
                currency=contact.currency,
            )
            money = {"subtotal": totals.subtotal, "tax_total": totals.tax_total, "total": totals.total}
            if kind == "invoice":
                paid = Decimal(values.get("amount_paid", 0))
                money |= {"amount_paid": paid, "balance_due": totals.total - paid}
            await session.execute(update(table).where(table.c.id == pk).values(**money))
        return Row(pk=int(pk), gid=to_global_id(kind.capitalize(), int(pk)), values={**row, **money})

    async def estimate(self, contact: Row, *, lines: list[LineDraft] | None = None, **values: Any) -> Row:
        values.setdefault("status", "SENT")
        values.setdefault("expiry_date", dt.date.today() + dt.timedelta(days=30))
        return await self._document("estimate", contact, lines, values)

    async def invoice(self, contact: Row, *, lines: list[LineDraft] | None = None, **values: Any) -> Row:
        values.setdefault("status", "SENT")
        values.setdefault("due_date", dt.date.today() + dt.timedelta(days=30))
        values.setdefault("payment_gateways", ["CARD", "ACH"])
        return await self._document("invoice", contact, lines, values)

    async def payment(self, contact: Row, allocations: list[tuple[Row, Decimal]], **values: Any) -> Row:
        """A payment split over invoices; the invoices' paid amounts and balances follow."""
        amount = sum((amount for _, amount in allocations), Decimal(0))
        defaults = {
            "organization_id": contact.organization_id,
            "contact_id": contact.pk,
            "amount": amount,
            "currency": contact.currency,
            "payment_date": dt.date.today(),
            "mode": "BANK_TRANSFER",
            "status": "SUCCEEDED",
        }
        row = await self._insert(T_PAYMENT, "Payment", {**defaults, **values})
        async with self.db.transaction() as session:
            for invoice, part in allocations:
                await session.execute(
                    insert(T_ALLOCATION).values(
                        organization_id=contact.organization_id, payment_id=row.pk, invoice_id=invoice.pk, amount=part
                    )
                )
                await session.execute(
                    update(T_INVOICE)
                    .where(T_INVOICE.c.id == invoice.pk)
                    .values(
                        amount_paid=T_INVOICE.c.amount_paid + part,
                        balance_due=T_INVOICE.c.balance_due - part,
                    )
                )
        return row

    async def project(self, contact: Row, **values: Any) -> Row:
        n = next(_seq)
        defaults = {"organization_id": contact.organization_id, "contact_id": contact.pk, "name": f"Project {n}"}
        return await self._insert(T_PROJECT, "Project", {**defaults, **values})

    async def task(self, project: Row, **values: Any) -> Row:
        n = next(_seq)
        defaults = {
            "organization_id": project.organization_id,
            "contact_id": project.contact_id,
            "project_id": project.pk,
            "name": f"Task {n}",
            "billable": True,
        }
        return await self._insert(T_TASK, "Task", {**defaults, **values})

    async def time_entry(self, task: Row, minutes: int = 90, **values: Any) -> Row:
        defaults = {
            "organization_id": task.organization_id,
            "contact_id": task.contact_id,
            "project_id": task.project_id,
            "task_id": task.pk,
            "entry_date": dt.date.today(),
            "duration_minutes": minutes,
            "billable": True,
        }
        return await self._insert(T_TIME_ENTRY, "TimeEntry", {**defaults, **values})

    async def comment(
        self,
        target: Row,
        *,
        staff: Row | None = None,
        person: Row | None = None,
        visible: bool = False,
        body: str = "A comment",
    ) -> Row:
        kind = target.gid and {"Estimate": "estimate", "Invoice": "invoice", "Project": "project"}[_type_of(target.gid)]
        values = {
            "organization_id": target.organization_id,
            "contact_id": target.contact_id,
            f"{kind}_id": target.pk,
            "author_staff_id": staff.pk if staff else None,
            "author_contact_person_id": person.pk if person else None,
            "body": body,
            "visible_in_portal": visible,
        }
        return await self._insert(T_COMMENT, "Comment", values)

    async def tenant(self) -> Tenant:
        """An organization with an owner, two contacts, each with an active portal person."""
        org = await self.organization()
        owner = await self.staff(org)
        contact_a = await self.contact(org)
        contact_b = await self.contact(org)
        return Tenant(org, owner, contact_a, await self.person(contact_a), contact_b, await self.person(contact_b))


def _type_of(gid: str) -> str:
    from core.ids import from_global_id

    decoded = from_global_id(gid)
    assert decoded is not None
    return decoded[0]


@dataclass
class Tenant:
    org: Row
    owner: Row
    contact_a: Row
    person_a: Row
    contact_b: Row
    person_b: Row
