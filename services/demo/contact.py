"""One portal contact of the demo: its people, documents, payments, a project with time, comments and history."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from core.scope import T_ACTIVITY, T_COMMENT, T_CONTACT, T_CONTACT_PERSON, T_PROJECT, T_REVIEW, T_TASK, T_TIME_ENTRY
from services.demo.documents import CURRENCY, Seeded, seed_estimates, seed_invoices, seed_payments
from services.demo.specs import REVIEWS, THREADS, ContactSpec

if TYPE_CHECKING:
    from services.demo.seed import OrganizationSeeder


class ContactSeeder:
    """One portal contact: people, estimates, invoices, payments, a project, comments and history."""

    def __init__(self, org: OrganizationSeeder, spec: ContactSpec) -> None:
        self.org = org
        self.spec = spec
        self.session = org.session
        self.contact_id = 0
        self.person_id = 0
        self.person_name = ""

    async def insert(self, table: Any, **values: Any) -> int:
        """Write a row of this contact now (its organization and contact ids added); its id."""
        return await self.org.insert(table, organization_id=self.org.org_id, contact_id=self.contact_id, **values)

    def later(self, table: Any, **values: Any) -> None:
        """Queue a row of this contact (its organization and contact ids added) for the organization's flush."""
        self.org.later(table, organization_id=self.org.org_id, contact_id=self.contact_id, **values)

    async def seed(self) -> None:
        spec, org = self.spec, self.org
        self.contact_id = await org.insert(
            T_CONTACT,
            organization_id=org.org_id,
            display_name=spec.display_name,
            company_name=spec.company_name,
            email=spec.email,
            phone=spec.phone,
            currency=CURRENCY,
            billing_address=spec.address,
            shipping_address=spec.address,
            created_at=org.at(-100),
        )
        for index, person in enumerate(spec.persons):
            person_id = await self.insert(
                T_CONTACT_PERSON,
                first_name=person.first_name,
                last_name=person.last_name,
                email=person.email,
                phone=person.phone,
                is_primary=index == 0,
                portal_status="ACTIVE" if person.password else "NOT_INVITED",
                password_hash=self.org.hashes[person.password] if person.password else None,
                created_at=org.at(-100),
            )
            if index == 0:
                self.person_id, self.person_name = person_id, f"{person.first_name} {person.last_name}"
        invoices = await seed_invoices(self)
        await seed_payments(self, invoices)
        estimates = await seed_estimates(self, invoices["paid"])
        self._thread("estimate", estimates["sent_viewed"].pk, -5)
        self._thread("invoice", invoices["overdue"].pk, -13)
        project_id = await self._project(invoices["paid"])
        self._thread("project", project_id, -3)
        self._review()

    # --- project, comments, history ----------------------------------------------------------------------------

    async def _project(self, billed_on: Seeded) -> int:
        """The contact's project: billable tasks and one internal task; the older billable time is BILLED."""
        org, spec = self.org, self.spec.project
        project_id = await self.insert(
            T_PROJECT,
            name=spec.name,
            description=spec.description,
            status="ACTIVE",
            created_at=org.at(-30),
        )
        self.history("project_created", f"Project {spec.name} created", project_id=project_id, at=org.at(-30))
        task_ids = []
        for name, billable, rate in spec.tasks:
            task_ids.append(
                await self.insert(
                    T_TASK,
                    project_id=project_id,
                    name=name,
                    billable=billable,
                    rate=Decimal(rate) if rate else None,
                    created_at=org.at(-30),
                )
            )
        for task_index, offset, minutes, notes in spec.entries:
            billable = spec.tasks[task_index][1]
            billed = billable and offset <= -15
            self.later(
                T_TIME_ENTRY,
                project_id=project_id,
                task_id=task_ids[task_index],
                staff_user_id=org.owner_id,
                entry_date=org.day(offset),
                duration_minutes=minutes,
                notes=notes,
                billable=billable,
                status="BILLED" if billed else "UNBILLED",
                invoice_id=billed_on.pk if billed else None,
                created_at=org.at(offset, 18),
            )
        return project_id

    def _thread(self, target: Literal["estimate", "invoice", "project"], target_id: int, offset: int) -> None:
        """A comment thread on a document or project: a client comment, a portal-visible and a staff-only reply."""
        for position, (author, visible, body) in enumerate(THREADS[target]):
            at = self.org.at(offset, 9 + 2 * position)
            self.later(
                T_COMMENT,
                **(dict.fromkeys(("estimate_id", "invoice_id", "project_id")) | {f"{target}_id": target_id}),
                author_staff_id=self.org.owner_id if author == "staff" else None,
                author_contact_person_id=self.person_id if author == "client" else None,
                body=body,
                visible_in_portal=visible,
                created_at=at,
            )
            self.history(
                "commented",
                "Comment added",
                at=at,
                by_client=author == "client",
                client=visible,
                **{f"{target}_id": target_id},
            )

    def _review(self) -> None:
        """The portal person's review of the organization (one per person)."""
        rating, text = REVIEWS.get(self.spec.display_name, (5, None))
        at = self.org.at(-2, 16)
        self.later(
            T_REVIEW,
            contact_person_id=self.person_id,
            rating=rating,
            text=text,
            created_at=at,
        )
        self.history(
            "review_submitted", f"Review submitted: {rating} of 5", at=at, by_client=True, details={"rating": rating}
        )

    def viewed(self, *, at: dt.datetime, **owner_id: int) -> None:
        self.history("viewed", f"Viewed by {self.person_name}", at=at, by_client=True, client=True, **owner_id)

    def history(
        self,
        kind: str,
        description: str,
        *,
        at: dt.datetime,
        estimate_id: int | None = None,
        invoice_id: int | None = None,
        project_id: int | None = None,
        by_client: bool = False,
        client: bool = False,
        details: dict[str, Any] | None = None,
    ) -> None:
        """A history entry dated ``at``, by the client's person or the owner (services.history writes 'now')."""
        self.later(
            T_ACTIVITY,
            estimate_id=estimate_id,
            invoice_id=invoice_id,
            project_id=project_id,
            kind=kind,
            actor_staff_id=None if by_client else self.org.owner_id,
            actor_contact_person_id=self.person_id if by_client else None,
            actor_name=self.person_name if by_client else self.org.owner_name,
            client_visible=client or by_client,
            details={"description": description, **(details or {})},
            created_at=at,
        )
