"""Tenant isolation, in one place.

A ``Scope`` is built from the viewer and is the only builder of tenant-filtered queries: resolvers, loaders,
subscriptions and downloads read and write through it. A staff scope sees its organization; a portal scope
sees its own contact's non-draft documents, payments, projects (while the organization shows them) and
portal-visible comments. A row outside the scope behaves exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Integer, Select, Table, and_, bindparam, exists, false, or_, select, true

from models import (
    Activity,
    Comment,
    Contact,
    ContactPerson,
    Estimate,
    Invoice,
    LineItem,
    Organization,
    Payment,
    PaymentAllocation,
    Project,
    Review,
    SavedPaymentMethod,
    StaffUser,
    Task,
    TimeEntry,
)

T_CONTACT: Table = Contact.__table__  # type: ignore[assignment]
T_CONTACT_PERSON: Table = ContactPerson.__table__  # type: ignore[assignment]
T_ESTIMATE: Table = Estimate.__table__  # type: ignore[assignment]
T_INVOICE: Table = Invoice.__table__  # type: ignore[assignment]
T_LINE_ITEM: Table = LineItem.__table__  # type: ignore[assignment]
T_PAYMENT: Table = Payment.__table__  # type: ignore[assignment]
T_ALLOCATION: Table = PaymentAllocation.__table__  # type: ignore[assignment]
T_PROJECT: Table = Project.__table__  # type: ignore[assignment]
T_TASK: Table = Task.__table__  # type: ignore[assignment]
T_TIME_ENTRY: Table = TimeEntry.__table__  # type: ignore[assignment]
T_COMMENT: Table = Comment.__table__  # type: ignore[assignment]
T_REVIEW: Table = Review.__table__  # type: ignore[assignment]
T_ACTIVITY: Table = Activity.__table__  # type: ignore[assignment]
T_SAVED_METHOD: Table = SavedPaymentMethod.__table__  # type: ignore[assignment]
T_STAFF_USER: Table = StaffUser.__table__  # type: ignore[assignment]
T_ORGANIZATION: Table = Organization.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Scope:
    """What one viewer may read and write. Subclasses add the portal's narrower rules."""

    organization_id: int

    is_staff = True

    def conditions(self, table: Table) -> list[ColumnElement[bool]]:
        """The WHERE conditions that keep ``table`` inside this scope."""
        if table is T_ORGANIZATION:
            return [table.c.id == self.organization_id]
        return [table.c.organization_id == self.organization_id]

    def select(self, table: Table, *columns: Any) -> Select[Any]:
        """``SELECT columns FROM table`` restricted to this scope."""
        return select(*(columns or (table,))).select_from(table).where(*self.conditions(table))

    def where_id(self, table: Table, pk: int) -> Select[Any]:
        return self.select(table).where(table.c.id == pk)

    def bound(self) -> tuple[Scope, dict[str, int]]:
        """This scope's template, whose ids are bound parameters (``scope_organization_id`` …), and their values.

        Statements built over the template are the same objects for every viewer of one kind: built once, compiled
        once by SQLAlchemy, and run with ``values``; not one set of statements per viewer (a process holding
        10,000 sockets of 1,000 organizations would hold as many)."""
        values = {f"scope_{f.name}": getattr(self, f.name) for f in fields(self) if f.name in _BOUND}
        fixed = tuple((f.name, getattr(self, f.name)) for f in fields(self) if f.name not in _BOUND)
        return _template(type(self), fixed), values

    def owns(self, table: Table) -> ColumnElement[bool]:
        return and_(*self.conditions(table))

    def child_conditions(self, table: Table, via: Any, parent: Table) -> list[ColumnElement[bool]]:
        """Keep rows of ``table`` whose ``parent`` (through the foreign key ``via``) is inside this scope.

        Loaders of line items, allocations and comments use this rather than ``conditions``: one parent check,
        which PostgreSQL joins by primary key, where the table's general rule tests every kind of parent.
        """
        visible_parent = exists().where(parent.c.id == via, *self.conditions(parent)).correlate_except(parent)
        return [table.c.organization_id == self.organization_id, visible_parent, *self.extra_child_conditions(table)]

    def extra_child_conditions(self, table: Table) -> list[ColumnElement[bool]]:
        """Conditions on a child row beyond its parent's visibility (none for staff)."""
        return []

    def attached_conditions(self, table: Table) -> list[ColumnElement[bool]]:
        """Keep rows of ``table`` joined to a parent row that this scope already selected (compiled queries).

        The parent's own visibility was checked where it was selected; what remains is the tenant and the
        child's own rules (a comment's portal visibility).
        """
        return [table.c.organization_id == self.organization_id, *self.extra_child_conditions(table)]


@dataclass(frozen=True, slots=True)
class StaffScope(Scope):
    """Every staff user sees the whole organization (what a role may change is the mutation's rule, not scope)."""


@dataclass(frozen=True, slots=True)
class PortalScope(Scope):
    contact_id: int = 0
    contact_person_id: int = 0
    show_projects: bool = False

    is_staff = False

    def conditions(self, table: Table) -> list[ColumnElement[bool]]:
        if table is T_ORGANIZATION:
            return [table.c.id == self.organization_id]
        base = [table.c.organization_id == self.organization_id]
        if table is T_CONTACT:
            return [*base, table.c.id == self.contact_id]
        if table is T_STAFF_USER:
            # portal users see no staff rows; comment authors are resolved by the parent
            return [false()]
        if table in (T_ESTIMATE, T_INVOICE):
            return [*base, table.c.contact_id == self.contact_id, table.c.status != "DRAFT"]
        if table in (T_PROJECT, T_TASK, T_TIME_ENTRY):
            visible = true() if self.show_projects else false()
            return [*base, table.c.contact_id == self.contact_id, visible]
        if table is T_COMMENT:
            mine = table.c.contact_id == self.contact_id
            return [*base, mine, self._comment_shown(table), self._target_visible(table)]
        if table is T_ACTIVITY:
            mine = table.c.contact_id == self.contact_id
            return [*base, mine, table.c.client_visible, self._target_visible(table)]
        if table is T_LINE_ITEM:
            return [*base, or_(self._in(T_ESTIMATE, table.c.estimate_id), self._in(T_INVOICE, table.c.invoice_id))]
        if table is T_ALLOCATION:
            return [*base, self._in(T_PAYMENT, table.c.payment_id)]
        if table is T_REVIEW:
            return [*base, table.c.contact_person_id == self.contact_person_id]
        if "contact_id" in table.c:
            return [*base, table.c.contact_id == self.contact_id]
        raise LookupError(f"portal scope has no rule for table {table.name!r}")

    def extra_child_conditions(self, table: Table) -> list[ColumnElement[bool]]:
        if table is T_COMMENT:
            return [table.c.contact_id == self.contact_id, self._comment_shown(table)]
        return []

    @staticmethod
    def _comment_shown(table: Table) -> ColumnElement[bool]:
        """Client comments always; staff comments only when marked visible in the portal."""
        return or_(table.c.visible_in_portal, table.c.author_contact_person_id.is_not(None))

    def _in(self, table: Table, column: Any) -> ColumnElement[bool]:
        # a correlated EXISTS: PostgreSQL checks each row's parent by primary key instead of building the set of
        # every visible parent (a contact may have tens of thousands of estimates)
        # (correlate_except: the parent is the subquery's own, even when the outer query joins the same table)
        return exists().where(table.c.id == column, *self.conditions(table)).correlate_except(table)

    def _target_visible(self, table: Table) -> ColumnElement[bool]:
        # a comment or a history entry is visible only while its document or project is (none on drafts or hidden
        # projects)
        return or_(
            self._in(T_ESTIMATE, table.c.estimate_id),
            self._in(T_INVOICE, table.c.invoice_id),
            self._in(T_PROJECT, table.c.project_id),
        )


_BOUND = frozenset({"organization_id", "contact_id", "contact_person_id"})  # the ids a template binds


@lru_cache(maxsize=16)
def _template(kind: type[Scope], fixed: tuple[tuple[str, Any], ...]) -> Scope:
    ids = {f.name: bindparam(f"scope_{f.name}", type_=Integer()) for f in fields(kind) if f.name in _BOUND}
    return kind(**ids, **dict(fixed))
