"""Per-request DataLoaders. Each batch opens its own session (sibling fields resolve concurrently).

Loaders are made on first use, and the scoped SELECTs behind them are built once per scope and reused
(``_Statements``): building them per request cost more than running them.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Sequence
from functools import cached_property, lru_cache
from typing import Any, TypeVar

from sqlalchemy import Column, Select, bindparam, func, select
from strawberry.dataloader import DataLoader

from core.database import Database
from core.money import quantize
from core.scope import (
    T_ACTIVITY,
    T_ALLOCATION,
    T_COMMENT,
    T_CONTACT,
    T_CONTACT_PERSON,
    T_ESTIMATE,
    T_INVOICE,
    T_LINE_ITEM,
    T_ORGANIZATION,
    T_PAYMENT,
    T_PROJECT,
    T_REVIEW,
    T_SAVED_METHOD,
    T_STAFF_USER,
    T_TASK,
    T_TIME_ENTRY,
    Scope,
)
from resolvers import reads
from resolvers.reads import OWNERS, owner_kind
from schema.access.types import StaffUser
from schema.contacts.types import Contact, ContactPerson
from schema.conversations.types import Comment, Review
from schema.documents.types import Activity, LineItem
from schema.estimates.types import Estimate
from schema.invoices.types import AppliedPayment, Invoice
from schema.payments.types import Payment, PaymentAllocation, SavedPaymentMethod
from schema.projects.types import Project, Task, TimeEntry
from schema.settings.types import Organization

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Statements:
    """The scoped SELECTs of one scope template (``Scope.bound``); immutable, so shared by every request of every
    viewer of that kind, each running them with its own scope's values."""

    def __init__(self, scope: Scope) -> None:
        s = scope
        self.organization = s.select(T_ORGANIZATION)
        self.contact = s.select(T_CONTACT)
        self.contact_person = s.select(T_CONTACT_PERSON)
        self.persons_by_contact = s.select(T_CONTACT_PERSON).order_by(
            T_CONTACT_PERSON.c.is_primary.desc(), T_CONTACT_PERSON.c.id
        )
        self.estimate = reads.estimates(s)
        self.invoice = reads.invoices(s)
        self.project = s.select(T_PROJECT)
        self.payment = s.select(T_PAYMENT)
        self.staff_user = s.select(T_STAFF_USER)
        self.task = reads.tasks(s)
        self.tasks_by_project = reads.tasks(s).order_by(T_TASK.c.id)
        self.time_entry = reads.time_entries(s)
        self.comment = reads.comments(s)
        self.activity_entry = reads.activities(s)
        self.review = s.select(T_REVIEW)
        self.saved_method = s.select(T_SAVED_METHOD)
        self.allocations_by_payment = (
            select(T_ALLOCATION, T_PAYMENT.c.currency)
            .join(T_PAYMENT, T_PAYMENT.c.id == T_ALLOCATION.c.payment_id)
            .where(*s.child_conditions(T_ALLOCATION, T_ALLOCATION.c.payment_id, T_PAYMENT))
            .order_by(T_ALLOCATION.c.id)
        )
        self.applied_payments = (
            select(T_PAYMENT, T_ALLOCATION.c.invoice_id, T_ALLOCATION.c.amount.label("applied_amount"))
            .select_from(T_ALLOCATION)
            .join(T_PAYMENT, T_PAYMENT.c.id == T_ALLOCATION.c.payment_id)
            .where(*s.child_conditions(T_ALLOCATION, T_ALLOCATION.c.invoice_id, T_INVOICE))
            .order_by(T_PAYMENT.c.payment_date, T_PAYMENT.c.id)
        )
        self.line_items: dict[str, Select[Any]] = {}
        self.comment_counts: dict[str, Select[Any]] = {}
        self.activity: dict[str, Select[Any]] = {}
        for kind in ("estimate", "invoice"):
            owner, column = OWNERS[kind], T_LINE_ITEM.c[f"{kind}_id"]
            # each line is rounded in its own document's currency (one batch may mix currencies)
            self.line_items[kind] = (
                select(T_LINE_ITEM, owner.c.currency)
                .join(owner, owner.c.id == column)
                .where(*s.child_conditions(T_LINE_ITEM, column, owner))
                .order_by(T_LINE_ITEM.c.position, T_LINE_ITEM.c.id)
            )
        for kind, owner in OWNERS.items():
            column = T_COMMENT.c[f"{kind}_id"]
            self.comment_counts[kind] = (
                select(column, func.count().label("count"))
                .where(*s.child_conditions(T_COMMENT, column, owner))
                .group_by(column)
            )
            self.activity[kind] = reads.activities(s).order_by(T_ACTIVITY.c.id)
        self._keyed: dict[tuple[int, str], Select[Any]] = {}

    def keyed(self, stmt: Select[Any], key: Column[Any]) -> Select[Any]:
        """``stmt`` for the rows whose ``key`` is in the parameter ``keys`` (a list), made once."""
        found = self._keyed.get((id(stmt), key.key))
        if found is None:
            found = self._keyed[(id(stmt), key.key)] = stmt.where(key.in_(bindparam("keys", expanding=True)))
        return found


@lru_cache(maxsize=16)
def statements(template: Scope) -> _Statements:
    return _Statements(template)


async def reload(loader: DataLoader[Any, V], key: Any) -> V:
    """``key`` read again, never from the loader's cache: what a mutation returns after it changed the row."""
    with contextlib.suppress(KeyError):  # strawberry's clear() raises for a key it never loaded
        loader.clear(key)
    return await loader.load(key)


class Loaders:
    """DataLoaders for one request (or one subscription event), all reading through ``scope``."""

    def __init__(self, db: Database, scope: Scope) -> None:
        self.db = db
        self.scope = scope
        template, self.values = scope.bound()
        self.sql = statements(template)
        self._line_items: dict[str, DataLoader[int, list[LineItem]]] = {}
        self._comment_counts: dict[str, DataLoader[int, int]] = {}
        self._activity: dict[str, DataLoader[int, list[Activity]]] = {}

    @cached_property
    def organization(self) -> DataLoader[int, Organization | None]:
        return self._by_id(self.sql.organization, T_ORGANIZATION.c.id, Organization.from_row)

    @cached_property
    def contact(self) -> DataLoader[int, Contact | None]:
        staff = self.scope.is_staff
        return self._by_id(self.sql.contact, T_CONTACT.c.id, lambda r: Contact.from_row(r, staff=staff))

    @cached_property
    def contact_person(self) -> DataLoader[int, ContactPerson | None]:
        return self._by_id(self.sql.contact_person, T_CONTACT_PERSON.c.id, ContactPerson.from_row)

    @cached_property
    def persons_by_contact(self) -> DataLoader[int, list[ContactPerson]]:
        return self._grouped(self.sql.persons_by_contact, T_CONTACT_PERSON.c.contact_id, ContactPerson.from_row)

    @cached_property
    def estimate(self) -> DataLoader[int, Estimate | None]:
        return self._by_id(self.sql.estimate, T_ESTIMATE.c.id, Estimate.from_row)

    @cached_property
    def invoice(self) -> DataLoader[int, Invoice | None]:
        return self._by_id(self.sql.invoice, T_INVOICE.c.id, Invoice.from_row)

    @cached_property
    def project(self) -> DataLoader[int, Project | None]:
        return self._by_id(self.sql.project, T_PROJECT.c.id, Project.from_row)

    @cached_property
    def payment(self) -> DataLoader[int, Payment | None]:
        return self._by_id(self.sql.payment, T_PAYMENT.c.id, Payment.from_row)

    @cached_property
    def staff_user(self) -> DataLoader[int, StaffUser | None]:
        return self._by_id(self.sql.staff_user, T_STAFF_USER.c.id, StaffUser.from_row)

    @cached_property
    def task(self) -> DataLoader[int, Task | None]:
        return self._by_id(self.sql.task, T_TASK.c.id, Task.from_row)

    @cached_property
    def tasks_by_project(self) -> DataLoader[int, list[Task]]:
        return self._grouped(self.sql.tasks_by_project, T_TASK.c.project_id, Task.from_row)

    @cached_property
    def time_entry(self) -> DataLoader[int, TimeEntry | None]:
        return self._by_id(self.sql.time_entry, T_TIME_ENTRY.c.id, TimeEntry.from_row)

    @cached_property
    def comment(self) -> DataLoader[int, Comment | None]:
        return self._by_id(self.sql.comment, T_COMMENT.c.id, Comment.from_row)

    @cached_property
    def activity_entry(self) -> DataLoader[int, Activity | None]:
        return self._by_id(self.sql.activity_entry, T_ACTIVITY.c.id, Activity.from_row)

    @cached_property
    def review(self) -> DataLoader[int, Review | None]:
        return self._by_id(self.sql.review, T_REVIEW.c.id, Review.from_row)

    @cached_property
    def saved_method(self) -> DataLoader[int, SavedPaymentMethod | None]:
        return self._by_id(self.sql.saved_method, T_SAVED_METHOD.c.id, SavedPaymentMethod.from_row)

    @cached_property
    def allocations_by_payment(self) -> DataLoader[int, list[PaymentAllocation]]:
        return self._grouped(
            self.sql.allocations_by_payment,
            T_ALLOCATION.c.payment_id,
            lambda r: PaymentAllocation(amount=quantize(r.amount, r.currency), invoice_id=r.invoice_id),
        )

    @cached_property
    def applied_payments(self) -> DataLoader[int, list[AppliedPayment]]:
        return self._grouped(self.sql.applied_payments, T_ALLOCATION.c.invoice_id, AppliedPayment.from_row)

    def line_items(self, document: Estimate | Invoice) -> DataLoader[int, list[LineItem]]:
        kind = owner_kind(document)
        if kind not in self._line_items:
            self._line_items[kind] = self._grouped(
                self.sql.line_items[kind], T_LINE_ITEM.c[f"{kind}_id"], lambda r: LineItem.from_row(r, r.currency)
            )
        return self._line_items[kind]

    def comment_count(self, owner: Estimate | Invoice | Project) -> DataLoader[int, int]:
        """How many comments on each estimate, invoice or project the viewer may see."""
        kind = owner_kind(owner)
        if kind not in self._comment_counts:
            self._comment_counts[kind] = self._counted(self.sql.comment_counts[kind], T_COMMENT.c[f"{kind}_id"])
        return self._comment_counts[kind]

    def activity(self, owner: Estimate | Invoice | Project) -> DataLoader[int, list[Activity]]:
        kind = owner_kind(owner)
        if kind not in self._activity:
            self._activity[kind] = self._grouped(self.sql.activity[kind], T_ACTIVITY.c[f"{kind}_id"], Activity.from_row)
        return self._activity[kind]

    def _by_id(self, stmt: Select[Any], key: Column[Any], build: Callable[[Any], V]) -> DataLoader[int, V | None]:
        fetch = self._fetcher(stmt, key)

        async def load(keys: Sequence[int]) -> list[V | None]:
            found = {getattr(row, key.key): build(row) for row in await fetch(keys)}
            return [found.get(k) for k in keys]

        return DataLoader(load_fn=load)

    def _counted(self, stmt: Select[Any], key: Column[Any]) -> DataLoader[int, int]:
        fetch = self._fetcher(stmt, key)

        async def load(keys: Sequence[int]) -> list[int]:
            found = {getattr(row, key.key): int(row.count) for row in await fetch(keys)}
            return [found.get(k, 0) for k in keys]

        return DataLoader(load_fn=load)

    def _grouped(self, stmt: Select[Any], key: Column[Any], build: Callable[[Any], V]) -> DataLoader[int, list[V]]:
        fetch = self._fetcher(stmt, key)

        async def load(keys: Sequence[int]) -> list[list[V]]:
            groups: dict[int, list[V]] = defaultdict(list)
            for row in await fetch(keys):
                groups[getattr(row, key.key)].append(build(row))
            return [groups.get(k, []) for k in keys]

        return DataLoader(load_fn=load)

    def _fetcher(self, stmt: Select[Any], key: Column[Any]) -> Callable[[Sequence[int]], Awaitable[Sequence[Any]]]:
        """The rows of ``stmt`` whose ``key`` is one of the keys asked for: one statement built once per template
        (an expanding parameter, not a new statement per batch), and a function that holds neither these loaders
        nor anything that holds it (no reference cycle for the collector: reference counting frees a request's
        loaders)."""
        db, keyed = self.db, self.sql.keyed(stmt, key)
        values = self.values

        async def fetch(keys: Sequence[int]) -> Sequence[Any]:
            async with db.session() as session:
                return (await session.execute(keyed, {**values, "keys": list(keys)})).all()

        return fetch
