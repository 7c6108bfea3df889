"""Per-request DataLoaders. Each batch opens its own session (sibling fields resolve concurrently)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, Select, func
from strawberry.dataloader import DataLoader

from core.database import Database
from core.money import quantize
from core.scope import (
    T_ACTIVITY,
    T_ALLOCATION,
    T_COMMENT,
    T_CONTACT,
    T_CONTACT_PERSON,
    T_LINE_ITEM,
    T_ORGANIZATION,
    T_PAYMENT,
    T_PROJECT,
    T_STAFF_USER,
    T_TASK,
    T_TIME_ENTRY,
    Scope,
)
from resolvers import reads
from schema.document import Activity, AppliedPayment, Comment, Estimate, Invoice, LineItem
from schema.payment import Payment, PaymentAllocation
from schema.people import Contact, ContactPerson, Organization, StaffUser
from schema.project import Project, Task, TimeEntry

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Loaders:
    """DataLoaders for one request (or one subscription event), all reading through ``scope``."""

    def __init__(self, db: Database, scope: Scope) -> None:
        self.db = db
        self.scope = scope
        staff = scope.is_staff
        s = scope
        self.organization = self._by_id(s.select(T_ORGANIZATION), T_ORGANIZATION.c.id, Organization.from_row)
        self.contact = self._by_id(s.select(T_CONTACT), T_CONTACT.c.id, lambda r: Contact.from_row(r, staff=staff))
        self.contact_person = self._by_id(s.select(T_CONTACT_PERSON), T_CONTACT_PERSON.c.id, ContactPerson.from_row)
        self.estimate = self._by_id(reads.estimates(s), reads.T_ESTIMATE.c.id, Estimate.from_row)
        self.invoice = self._by_id(reads.invoices(s), reads.T_INVOICE.c.id, Invoice.from_row)
        self.persons_by_contact = self._grouped(
            s.select(T_CONTACT_PERSON).order_by(T_CONTACT_PERSON.c.is_primary.desc(), T_CONTACT_PERSON.c.id),
            T_CONTACT_PERSON.c.contact_id,
            ContactPerson.from_row,
        )
        self.tasks_by_project = self._grouped(reads.tasks(s).order_by(T_TASK.c.id), T_TASK.c.project_id, Task.from_row)
        self.allocations_by_payment = self._grouped(
            s.select(T_ALLOCATION, T_ALLOCATION, T_PAYMENT.c.currency)
            .join(T_PAYMENT, T_PAYMENT.c.id == T_ALLOCATION.c.payment_id)
            .order_by(T_ALLOCATION.c.id),
            T_ALLOCATION.c.payment_id,
            lambda r: PaymentAllocation(amount=quantize(r.amount, r.currency), invoice_id=r.invoice_id),
        )
        self.applied_payments = self._grouped(
            s.select(T_ALLOCATION, T_PAYMENT, T_ALLOCATION.c.invoice_id, T_ALLOCATION.c.amount.label("applied_amount"))
            .join(T_PAYMENT, T_PAYMENT.c.id == T_ALLOCATION.c.payment_id)
            .order_by(T_PAYMENT.c.payment_date, T_PAYMENT.c.id),
            T_ALLOCATION.c.invoice_id,
            AppliedPayment.from_row,
        )
        self._comment_counts: dict[str, DataLoader[int, int]] = {}
        self._line_items: dict[str, DataLoader[int, list[LineItem]]] = {}
        self._activity: dict[str, DataLoader[int, list[Activity]]] = {}
        self.project = self._by_id(s.select(T_PROJECT), T_PROJECT.c.id, Project.from_row)
        self.task = self._by_id(reads.tasks(s), T_TASK.c.id, Task.from_row)
        self.time_entry = self._by_id(reads.time_entries(s), T_TIME_ENTRY.c.id, TimeEntry.from_row)
        self.comment = self._by_id(reads.comments(s), T_COMMENT.c.id, Comment.from_row)
        self.payment = self._by_id(s.select(T_PAYMENT), T_PAYMENT.c.id, Payment.from_row)
        self.staff_user = self._by_id(s.select(T_STAFF_USER), T_STAFF_USER.c.id, StaffUser.from_row)

    def line_items(self, document: Estimate | Invoice) -> DataLoader[int, list[LineItem]]:
        kind = "estimate" if isinstance(document, Estimate) else "invoice"
        if kind not in self._line_items:
            column = T_LINE_ITEM.c.estimate_id if kind == "estimate" else T_LINE_ITEM.c.invoice_id
            owner = reads.T_ESTIMATE if kind == "estimate" else reads.T_INVOICE
            # each line is rounded in its own document's currency (one batch may mix currencies)
            self._line_items[kind] = self._grouped(
                self.scope.select(T_LINE_ITEM, T_LINE_ITEM, owner.c.currency)
                .join(owner, owner.c.id == column)
                .order_by(T_LINE_ITEM.c.position, T_LINE_ITEM.c.id),
                column,
                lambda r: LineItem.from_row(r, r.currency),
            )
        return self._line_items[kind]

    def comment_count(self, owner: Estimate | Invoice | Project) -> DataLoader[int, int]:
        """How many comments on each estimate, invoice or project the viewer may see."""
        kind = type(owner).__name__.lower()
        if kind not in self._comment_counts:
            column = T_COMMENT.c[f"{kind}_id"]
            self._comment_counts[kind] = self._counted(
                self.scope.select(T_COMMENT, column, func.count().label("count")).group_by(column), column
            )
        return self._comment_counts[kind]

    def activity(self, owner: Estimate | Invoice | Project) -> DataLoader[int, list[Activity]]:
        kind = type(owner).__name__.lower()
        if kind not in self._activity:
            column = T_ACTIVITY.c[f"{kind}_id"]
            self._activity[kind] = self._grouped(
                reads.activities(self.scope).order_by(T_ACTIVITY.c.id), column, Activity.from_row
            )
        return self._activity[kind]

    def _by_id(self, stmt: Select[Any], key: Column[Any], build: Callable[[Any], V]) -> DataLoader[int, V | None]:
        async def load(keys: Sequence[int]) -> list[V | None]:
            rows = await self._fetch(stmt.where(key.in_(keys)))
            found = {getattr(row, key.key): build(row) for row in rows}
            return [found.get(k) for k in keys]

        return DataLoader(load_fn=load)

    def _counted(self, stmt: Select[Any], key: Column[Any]) -> DataLoader[int, int]:
        async def load(keys: Sequence[int]) -> list[int]:
            rows = await self._fetch(stmt.where(key.in_(keys)))
            found = {getattr(row, key.key): int(row.count) for row in rows}
            return [found.get(k, 0) for k in keys]

        return DataLoader(load_fn=load)

    def _grouped(self, stmt: Select[Any], key: Column[Any], build: Callable[[Any], V]) -> DataLoader[int, list[V]]:
        async def load(keys: Sequence[int]) -> list[list[V]]:
            rows = await self._fetch(stmt.where(key.in_(keys)))
            groups: dict[int, list[V]] = defaultdict(list)
            for row in rows:
                groups[getattr(row, key.key)].append(build(row))
            return [groups.get(k, []) for k in keys]

        return DataLoader(load_fn=load)

    async def _fetch(self, stmt: Select[Any]) -> Sequence[Any]:
        async with self.db.session() as session:
            return (await session.execute(stmt)).all()
