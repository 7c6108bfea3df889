"""The demo data behind ``make run``, the docs and the black-box checks (``python app.py seed-demo``).

Two organizations ("Demo Studio" and its rival "Rival Works"), their owners, portal users, and for every
portal contact documents in every status, payments, a project with time, comments and history. Dates are
relative to the day of seeding, so derived statuses (OVERDUE, EXPIRED) are right on that day. Seeding is
idempotent: an organization whose portal slug exists is left alone, and each organization is written in one
transaction, so a second run changes nothing and a failed run leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import typer
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database, make_engine, resolve_database_url
from core.money import quantize
from core.scope import (
    T_ACTIVITY,
    T_ALLOCATION,
    T_COMMENT,
    T_CONTACT,
    T_CONTACT_PERSON,
    T_ESTIMATE,
    T_INVOICE,
    T_ORGANIZATION,
    T_PAYMENT,
    T_PROJECT,
    T_REVIEW,
    T_STAFF_USER,
    T_TASK,
    T_TIME_ENTRY,
)
from core.security import hash_password
from core.settings import Settings
from services.documents.lines import LineDraft, replace_line_items
from services.documents.numbering import next_number

# Any constant works; it only has to be the same for every process that seeds.
SEED_LOCK_KEY = 0x504F5254_49434F  # "PORTICO"


GATEWAYS = ["ACH", "CARD"]


CURRENCY = "USD"


@dataclass(frozen=True, slots=True)
class DemoLogin:
    """One sign-in the docs and checks rely on; ``portal`` is the portal slug (None: staff login)."""

    who: str
    email: str
    password: str
    portal: str | None = None


@dataclass(frozen=True, slots=True)
class PersonSpec:
    first_name: str
    last_name: str
    email: str
    password: str | None  # None: not invited to the portal
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class ProjectSpec:
    name: str
    description: str
    tasks: tuple[tuple[str, bool, str | None], ...]  # name, billable, hourly rate
    entries: tuple[tuple[int, int, int, str], ...]  # task index, day offset, minutes, notes


@dataclass(frozen=True, slots=True)
class ContactSpec:
    display_name: str
    company_name: str
    email: str
    phone: str
    address: dict[str, str]
    persons: tuple[PersonSpec, ...]
    tax: tuple[str, str]  # name, percent
    catalogue: tuple[tuple[str, str | None, str, str, str, bool], ...]  # name, description, qty, rate, discount%, taxed
    project: ProjectSpec


@dataclass(frozen=True, slots=True)
class OrganizationSpec:
    name: str
    slug: str
    email: str
    address: dict[str, str]
    owner_name: str
    owner_email: str
    owner_password: str
    contacts: tuple[ContactSpec, ...]


DEMO_OWNER_PASSWORD = "portico-demo-owner"


DEMO_CLIENT_PASSWORD = "portico-demo-client"


DEMO_OTHER_PASSWORD = "portico-demo-other"


ACME = ContactSpec(
    display_name="Acme Corp",
    company_name="Acme Corporation",
    email="accounts@acme.example",
    phone="+1 415 555 0134",
    address={"street1": "410 Market Street", "city": "San Francisco", "state": "CA", "zip": "94111", "country": "US"},
    persons=(
        PersonSpec("Alex", "Morgan", "client@demo.portico.test", DEMO_CLIENT_PASSWORD, "+1 415 555 0101"),
        PersonSpec("Dana", "Whitfield", "dana.whitfield@acme.example", None, "+1 415 555 0102"),
    ),
    tax=("Sales tax", "8.625"),
    catalogue=(
        ("Brand discovery workshop", "Half-day workshop with your stakeholders", "1", "1800", "0", True),
        ("Logo and visual identity", "Logo, colour palette and type system", "1", "2400", "10", True),
        ("Website page design", "Per page template, two revision rounds", "6", "450", "0", True),
        ("Front-end development", "Hours", "32", "110", "0", True),
        ("Content migration", "Pages moved from the old site", "12", "75", "5", False),
        ("Hosting and maintenance", "Monthly plan", "3", "149", "0", True),
        ("Stock photography licence", "Per image", "10", "29.50", "0", True),
    ),
    project=ProjectSpec(
        name="Website redesign",
        description="New brand and a responsive marketing site for acme.example.",
        tasks=(
            ("Discovery and wireframes", True, "95"),
            ("Visual design", True, "120"),
            ("Front-end build", True, "110"),
            ("Internal review", False, None),
        ),
        entries=(
            (0, -28, 180, "Stakeholder interviews"),
            (0, -26, 240, "Wireframes for six page templates"),
            (1, -20, 300, "Homepage and product page mock-ups"),
            (1, -12, 150, "Revisions after the design review"),
            (2, -6, 210, "Component library"),
            (2, -2, 120, "Responsive navigation"),
            (3, -11, 60, "Internal design critique"),
        ),
    ),
)


GLOBEX = ContactSpec(
    display_name="Globex",
    company_name="Globex Corporation",
    email="finance@globex.example",
    phone="+1 217 555 0190",
    address={"street1": "1 Globex Plaza", "city": "Springfield", "state": "IL", "zip": "62701", "country": "US"},
    persons=(PersonSpec("Priya", "Shah", "other@demo.portico.test", DEMO_OTHER_PASSWORD, "+1 217 555 0111"),),
    tax=("State tax", "6.25"),
    catalogue=(
        ("Campaign strategy session", "Goals, audiences and channels", "1", "1500", "0", True),
        ("Social media creative set", "Twelve assets in three formats", "1", "2200", "10", True),
        ("Landing page design", None, "2", "650", "0", True),
        ("Copywriting", "Hours", "18", "85", "0", True),
        ("Print-ready brochure", "Eight pages, two proof rounds", "1", "1200", "15", False),
        ("Ad campaign management", "Monthly", "2", "400", "0", True),
        ("Photo retouching", "Per image", "25", "18.75", "0", True),
    ),
    project=ProjectSpec(
        name="Spring campaign",
        description="Launch campaign for the Globex spring product line.",
        tasks=(
            ("Campaign planning", True, "90"),
            ("Creative production", True, "105"),
            ("Ad operations", True, "80"),
            ("Team sync", False, None),
        ),
        entries=(
            (0, -27, 150, "Audience research"),
            (0, -25, 90, "Channel plan"),
            (1, -19, 270, "Social creative, first round"),
            (1, -10, 180, "Creative revisions"),
            (2, -5, 60, "Ad account set-up"),
            (2, -1, 45, "Budget pacing check"),
            (3, -9, 30, "Weekly team sync"),
        ),
    ),
)


INITECH = ContactSpec(
    display_name="Initech",
    company_name="Initech LLC",
    email="ap@initech.example",
    phone="+1 512 555 0147",
    address={"street1": "4120 Freidrich Lane", "city": "Austin", "state": "TX", "zip": "78744", "country": "US"},
    persons=(PersonSpec("Sam", "Lee", "client@rival.portico.test", DEMO_CLIENT_PASSWORD, "+1 512 555 0121"),),
    tax=("Sales tax", "8.25"),
    catalogue=(
        ("Architecture review", "Two-week assessment", "1", "3200", "0", True),
        ("Billing module audit", None, "1", "2750", "10", True),
        ("API integration", "Hours", "24", "135", "0", True),
        ("Load testing", "Scenario design and report", "1", "980", "0", True),
        ("Team training", "Per seat", "8", "120", "5", False),
        ("Support retainer", "Monthly", "2", "500", "0", True),
        ("Technical documentation", "Hours", "14", "90", "0", True),
    ),
    project=ProjectSpec(
        name="Billing platform audit",
        description="Review of the TPS billing platform's code, performance and reports.",
        tasks=(
            ("Code review", True, "135"),
            ("Performance testing", True, "125"),
            ("Reporting", True, "110"),
            ("Internal QA", False, None),
        ),
        entries=(
            (0, -24, 240, "Invoice generation module"),
            (0, -22, 180, "Payment reconciliation code"),
            (1, -16, 210, "Load test scenarios"),
            (1, -8, 120, "Load test run and tuning"),
            (2, -4, 150, "Findings report draft"),
            (2, -1, 60, "Report review call"),
            (3, -7, 45, "Peer review of findings"),
        ),
    ),
)


ORGANIZATIONS = (
    OrganizationSpec(
        name="Demo Studio",
        slug="demo",
        email="hello@demo.portico.test",
        address={
            "street1": "88 Mission Street",
            "city": "San Francisco",
            "state": "CA",
            "zip": "94105",
            "country": "US",
        },
        owner_name="Maya Chen",
        owner_email="owner@demo.portico.test",
        owner_password=DEMO_OWNER_PASSWORD,
        contacts=(ACME, GLOBEX),
    ),
    OrganizationSpec(
        name="Rival Works",
        slug="rival",
        email="hello@rival.portico.test",
        address={"street1": "200 Congress Avenue", "city": "Austin", "state": "TX", "zip": "78701", "country": "US"},
        owner_name="Ravi Patel",
        owner_email="owner@rival.portico.test",
        owner_password=DEMO_OWNER_PASSWORD,
        contacts=(INITECH,),
    ),
)


DEMO_LOGINS = (
    DemoLogin("Demo Studio owner", "owner@demo.portico.test", DEMO_OWNER_PASSWORD),
    DemoLogin("Acme Corp client", "client@demo.portico.test", DEMO_CLIENT_PASSWORD, "demo"),
    DemoLogin("Globex client", "other@demo.portico.test", DEMO_OTHER_PASSWORD, "demo"),
    DemoLogin("Rival Works owner", "owner@rival.portico.test", DEMO_OWNER_PASSWORD),
    DemoLogin("Initech client (Rival Works)", "client@rival.portico.test", DEMO_CLIENT_PASSWORD, "rival"),
)


TERMS = "Payment due within 30 days of the invoice date. Thank you for your business."


ESTIMATE_TERMS = "Prices are valid until the expiry date. 50% of the total is invoiced on acceptance."


DECLINE_REASON = "Our budget for this quarter is already committed; let's revisit this next quarter."


# One thread per target: (author "client" or "staff", visible in portal, body). Client comments are always visible.
THREADS: dict[str, tuple[tuple[str, bool, str], ...]] = {
    "estimate": (
        ("client", True, "Could we split the work into two milestones, with a review in between?"),
        ("staff", True, "Absolutely. I'll send a revised estimate with two milestones by Friday."),
        ("staff", False, "Margin is thin on this one; keep the milestone split at 60/40."),
    ),
    "invoice": (
        ("staff", True, "A friendly reminder that this invoice is now past due."),
        ("client", True, "Apologies, it slipped through. Payment is scheduled for next week."),
        ("staff", False, "Call their accounts payable team if nothing has arrived by Friday."),
    ),
    "project": (
        ("client", True, "Can we see the work in progress before the next review call?"),
        ("staff", True, "Sure, I've shared a preview link by email."),
        ("staff", False, "They prefer review calls on Tuesday mornings."),
    ),
}


# Each portal contact's person reviews the organization (the portal allows reviews).
REVIEWS: dict[str, tuple[int, str | None]] = {
    "Acme Corp": (5, "Clear estimates, fast answers in the comments, and the new site launched on time."),
    "Globex": (4, "Great creative work; invoices could itemise the ad spend in more detail."),
    "Initech": (4, None),
}


@dataclass
class SeedResult:
    """What a run did: organizations created, and the ones left alone with the reason."""

    created: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


async def seed_demo_data(settings: Settings) -> SeedResult:
    """The CLI's ``seed-demo``: seed the configured database, then print the GraphiQL URL and the demo logins."""
    db = Database(make_engine(await resolve_database_url(settings), settings))
    try:
        result = await seed_demo(db, settings)
    finally:
        await db.dispose()
    for slug in result.created:
        typer.echo(f"demo organization {slug!r} created")
    for slug, reason in result.skipped.items():
        typer.echo(f"demo organization {slug!r} left as it is: {reason}")
    typer.echo(f"\nGraphiQL: http://{settings.host}:{settings.port}/graphql")
    typer.echo("\nDemo logins (login input: email, password, and portal for portal users):")
    for login in DEMO_LOGINS:
        portal = f'portal: "{login.portal}"' if login.portal else "staff"
        typer.echo(f"  {login.who:<30} {login.email:<27} {login.password:<20} {portal}")
    return result


async def seed_demo(db: Database, settings: Settings) -> SeedResult:
    """Insert the demo organizations that are missing (by portal slug); each one in its own transaction."""
    result = SeedResult()
    hashes: dict[str, str] = {}
    for spec in ORGANIZATIONS:
        async with db.transaction() as session:
            # concurrent seeders queue here instead of failing on the unique slug
            await session.execute(select(func.pg_advisory_xact_lock(SEED_LOCK_KEY)))
            if await session.scalar(select(T_ORGANIZATION.c.id).where(T_ORGANIZATION.c.portal_slug == spec.slug)):
                result.skipped[spec.slug] = "it exists already"
                continue
            if await session.scalar(select(T_STAFF_USER.c.id).where(T_STAFF_USER.c.email == spec.owner_email)):
                result.skipped[spec.slug] = f"{spec.owner_email} belongs to another organization"
                continue
            for password in _passwords(spec):
                if password not in hashes:
                    hashes[password] = await asyncio.to_thread(hash_password, settings, password)
            today = await session.scalar(select(func.current_date()))  # the day derived statuses compare with
            assert today is not None
            await _OrganizationSeeder(session, hashes, today).seed(spec)
            result.created.append(spec.slug)
    return result


def _passwords(spec: OrganizationSpec) -> set[str]:
    persons = (person.password for contact in spec.contacts for person in contact.persons)
    return {spec.owner_password, *(password for password in persons if password)}


@dataclass(frozen=True, slots=True)
class _Doc:
    pk: int
    total: Decimal


class _OrganizationSeeder:
    """Writes one organization's rows inside the caller's transaction."""

    def __init__(self, session: AsyncSession, hashes: dict[str, str], today: dt.date) -> None:
        self.session = session
        self.hashes = hashes
        self.today = today
        self.org_id = 0
        self.owner_id = 0
        self.pending: dict[Any, list[dict[str, Any]]] = {}

    def day(self, offset: int) -> dt.date:
        return self.today + dt.timedelta(days=offset)

    def at(self, offset: int, hour: int = 10, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.day(offset), dt.time(hour, minute), tzinfo=dt.UTC)

    async def insert(self, table: Any, **values: Any) -> int:
        return int(await self.session.scalar(insert(table).values(**values).returning(table.c.id)) or 0)

    def later(self, table: Any, **values: Any) -> None:
        """Queue a row nobody needs the id of; ``flush`` writes each table's queue in one statement."""
        self.pending.setdefault(table, []).append(values)

    async def flush(self) -> None:
        for table, rows in self.pending.items():
            await self.session.execute(insert(table), rows)
        self.pending.clear()

    async def seed(self, spec: OrganizationSpec) -> None:
        self.org_id = await self.insert(
            T_ORGANIZATION,
            name=spec.name,
            portal_slug=spec.slug,
            base_currency=CURRENCY,
            address=spec.address,
            email=spec.email,
            portal_enabled=True,
            portal_show_projects=True,
            portal_allow_reviews=True,
            payment_gateways=GATEWAYS,
            created_at=self.at(-120),
        )
        self.owner_id = await self.insert(
            T_STAFF_USER,
            organization_id=self.org_id,
            email=spec.owner_email,
            name=spec.owner_name,
            role="OWNER",
            password_hash=self.hashes[spec.owner_password],
            created_at=self.at(-120),
        )
        for contact in spec.contacts:
            await _ContactSeeder(self, contact).seed()
        await self.flush()


class _ContactSeeder:
    """One portal contact: people, estimates, invoices, payments, a project, comments and history."""

    def __init__(self, org: _OrganizationSeeder, spec: ContactSpec) -> None:
        self.org = org
        self.spec = spec
        self.session = org.session
        self.contact_id = 0
        self.person_id = 0
        self.person_name = ""

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
            person_id = await org.insert(
                T_CONTACT_PERSON,
                organization_id=org.org_id,
                contact_id=self.contact_id,
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
        invoices = await self._invoices()
        await self._payments(invoices)
        estimates = await self._estimates(invoices["paid"])
        self._thread("estimate", estimates["sent_viewed"].pk, -5)
        self._thread("invoice", invoices["overdue"].pk, -13)
        project_id = await self._project(invoices["paid"])
        self._thread("project", project_id, -3)
        self._review()

    # --- documents ---------------------------------------------------------------------------------------------

    def _lines(self, *indexes: int) -> list[LineDraft]:
        tax_name, tax_percent = self.spec.tax
        lines = []
        for index in indexes:
            name, description, quantity, rate, discount, taxed = self.spec.catalogue[index]
            lines.append(
                LineDraft(
                    name=name,
                    description=description,
                    quantity=Decimal(quantity),
                    rate=Decimal(rate),
                    discount_percent=Decimal(discount),
                    tax_name=tax_name if taxed else None,
                    tax_percent=Decimal(tax_percent) if taxed else Decimal(0),
                )
            )
        return lines

    async def _document(self, document: Literal["estimate", "invoice"], lines: list[LineDraft], **values: Any) -> _Doc:
        org = self.org
        table = T_ESTIMATE if document == "estimate" else T_INVOICE
        number = await next_number(self.session, organization_id=org.org_id, kind=document)
        pk = await org.insert(
            table, organization_id=org.org_id, contact_id=self.contact_id, number=number, currency=CURRENCY, **values
        )
        totals = await replace_line_items(
            self.session, organization_id=org.org_id, owner=document, owner_id=pk, lines=lines, currency=CURRENCY
        )
        money: dict[str, Any] = {"subtotal": totals.subtotal, "tax_total": totals.tax_total, "total": totals.total}
        if document == "invoice":
            money |= {"amount_paid": Decimal(0), "balance_due": totals.total}
        await self.session.execute(update(table).where(table.c.id == pk).values(**money))
        return _Doc(pk=pk, total=totals.total)

    def _sent(self, issue: int, viewed: int | None = None) -> dict[str, Any]:
        """Issue, sent and (optionally) viewed-by-the-client columns of a document."""
        values: dict[str, Any] = {"issue_date": self.org.day(issue), "sent_at": self.org.at(issue, 11)}
        values["created_at"] = self.org.at(issue, 9)
        if viewed is not None:
            values |= {"viewed_at": self.org.at(viewed, 15, 20), "viewed_by_id": self.person_id}
        return values

    async def _invoices(self) -> dict[str, _Doc]:
        """Invoices in every status, oldest first so numbers follow dates. Payments come afterwards."""
        d = self.org.day
        specs: list[tuple[str, list[LineDraft], dict[str, Any]]] = [
            ("paid", self._lines(0, 1), {"status": "SENT", "due_date": d(-30), **self._sent(-60, -58)}),
            ("overdue", self._lines(5), {"status": "SENT", "due_date": d(-15), **self._sent(-45, -40)}),
            (
                "void",
                self._lines(6),
                {"status": "VOID", "due_date": d(5), "voided_at": self.org.at(-24), **self._sent(-25)},
            ),
            ("partial", self._lines(2, 3), {"status": "SENT", "due_date": d(10), **self._sent(-20, -19)}),
            (
                "retainer",
                [self._retainer_line()],
                {"kind": "RETAINER", "status": "SENT", "due_date": d(10), **self._sent(-5)},
            ),
            ("sent", self._lines(3, 6), {"status": "SENT", "due_date": d(27), **self._sent(-3)}),
            (
                "draft",
                self._lines(4),
                {"status": "DRAFT", "due_date": d(30), "issue_date": d(0), "created_at": self.org.at(0, 9)},
            ),
        ]
        invoices: dict[str, _Doc] = {}
        for key, lines, values in specs:
            gateways = GATEWAYS if values["status"] != "VOID" else []
            invoices[key] = await self._document(
                "invoice", lines, payment_gateways=gateways, terms=TERMS, notes=_invoice_note(key), **values
            )
            self._history("created", "Invoice created", invoice_id=invoices[key].pk, at=values["created_at"])
            if values["status"] != "DRAFT":
                self._history("sent", "Invoice sent", invoice_id=invoices[key].pk, at=values["sent_at"], client=True)
            if values.get("viewed_at"):
                self._viewed(invoice_id=invoices[key].pk, at=values["viewed_at"])
            if key == "void":
                self._history("voided", "Invoice voided", invoice_id=invoices[key].pk, at=values["voided_at"])
        return invoices

    def _retainer_line(self) -> LineDraft:
        return LineDraft(
            name="Retainer: next quarter's support",
            description="Paid in advance and drawn down against future invoices",
            quantity=Decimal(1),
            rate=Decimal(3000),
        )

    async def _payments(self, invoices: dict[str, _Doc]) -> None:
        """One bank transfer spanning the PAID invoice and part of the PARTIALLY_PAID one, then a cheque."""
        paid, partial = invoices["paid"], invoices["partial"]
        first_part = quantize(partial.total * Decimal("0.4"), CURRENCY)
        second_part = quantize(partial.total * Decimal("0.2"), CURRENCY)
        await self._payment(-15, "BANK_TRANSFER", "WIRE-2231-7781", [(paid, paid.total), (partial, first_part)])
        await self._payment(-4, "CHECK", "CHK-10452", [(partial, second_part)])
        for invoice, amount_paid in ((paid, paid.total), (partial, first_part + second_part)):
            status = "PAID" if amount_paid == invoice.total else "PARTIALLY_PAID"
            await self.session.execute(
                update(T_INVOICE)
                .where(T_INVOICE.c.id == invoice.pk)
                .values(status=status, amount_paid=amount_paid, balance_due=invoice.total - amount_paid)
            )

    async def _payment(self, offset: int, mode: str, reference: str, parts: list[tuple[_Doc, Decimal]]) -> None:
        org = self.org
        payment_id = await org.insert(
            T_PAYMENT,
            organization_id=org.org_id,
            contact_id=self.contact_id,
            amount=sum((amount for _, amount in parts), Decimal(0)),
            currency=CURRENCY,
            payment_date=org.day(offset),
            mode=mode,
            status="SUCCEEDED",
            reference=reference,
            recorded_by_id=org.owner_id,
            created_at=org.at(offset, 14),
        )
        for invoice, amount in parts:
            await org.insert(
                T_ALLOCATION, organization_id=org.org_id, payment_id=payment_id, invoice_id=invoice.pk, amount=amount
            )
            self._history(
                "paid",
                f"Payment of {amount} {CURRENCY} received by {mode.replace('_', ' ').lower()}",
                invoice_id=invoice.pk,
                at=org.at(offset, 14),
                client=True,
                details={"payment_id": payment_id, "amount": str(amount), "mode": mode},
            )

    async def _estimates(self, invoiced_as: _Doc) -> dict[str, _Doc]:
        """Estimates in every status; EXPIRED is a SENT estimate past its expiry date."""
        d, at, person = self.org.day, self.org.at, self.person_id
        accepted = {"accepted_by_id": person, "signature_name": self.person_name}
        specs: list[tuple[str, list[LineDraft], dict[str, Any]]] = [
            (
                "invoiced",
                self._lines(0, 1),
                {
                    "status": "INVOICED",
                    "expiry_date": d(-40),
                    "invoice_id": invoiced_as.pk,
                    "accepted_at": at(-65),
                    **accepted,
                    **self._sent(-70, -68),
                },
            ),
            ("expired", self._lines(5, 6), {"status": "SENT", "expiry_date": d(-20), **self._sent(-50, -48)}),
            (
                "accepted",
                self._lines(2, 4),
                {
                    "status": "ACCEPTED",
                    "expiry_date": d(-10),
                    "accepted_at": at(-35),
                    **accepted,
                    **self._sent(-40, -36),
                },
            ),
            (
                "declined",
                self._lines(3),
                {
                    "status": "DECLINED",
                    "expiry_date": d(0),
                    "declined_at": at(-27),
                    "decline_reason": DECLINE_REASON,
                    **self._sent(-30, -28),
                },
            ),
            (
                "sent_viewed",
                self._lines(2, 3),
                {"status": "SENT", "expiry_date": d(24), "reference": "Phase 2", **self._sent(-6, -5)},
            ),
            ("sent", self._lines(4, 6), {"status": "SENT", "expiry_date": d(28), **self._sent(-2)}),
            (
                "draft",
                self._lines(0, 1, 5),
                {"status": "DRAFT", "expiry_date": d(29), "issue_date": d(-1), "created_at": at(-1, 9)},
            ),
        ]
        estimates: dict[str, _Doc] = {}
        for key, lines, values in specs:
            estimates[key] = doc = await self._document("estimate", lines, terms=ESTIMATE_TERMS, **values)
            self._history("created", "Estimate created", estimate_id=doc.pk, at=values["created_at"])
            if values["status"] != "DRAFT":
                self._history("sent", "Estimate sent", estimate_id=doc.pk, at=values["sent_at"], client=True)
            if values.get("viewed_at"):
                self._viewed(estimate_id=doc.pk, at=values["viewed_at"])
            if values.get("accepted_at"):
                description = f"Accepted by {self.person_name}"
                self._history("accepted", description, estimate_id=doc.pk, at=values["accepted_at"], by_client=True)
            if values.get("declined_at"):
                description = f"Declined by {self.person_name}"
                self._history(
                    "declined",
                    description,
                    estimate_id=doc.pk,
                    at=values["declined_at"],
                    by_client=True,
                    details={"reason": DECLINE_REASON},
                )
        return estimates

    # --- project, comments, history ----------------------------------------------------------------------------

    async def _project(self, billed_on: _Doc) -> int:
        """The contact's project: billable tasks and one internal task; the older billable time is BILLED."""
        org, spec = self.org, self.spec.project
        project_id = await org.insert(
            T_PROJECT,
            organization_id=org.org_id,
            contact_id=self.contact_id,
            name=spec.name,
            description=spec.description,
            status="ACTIVE",
            created_at=org.at(-30),
        )
        self._history("project_created", f"Project {spec.name} created", project_id=project_id, at=org.at(-30))
        task_ids = []
        for name, billable, rate in spec.tasks:
            task_ids.append(
                await org.insert(
                    T_TASK,
                    organization_id=org.org_id,
                    contact_id=self.contact_id,
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
            org.later(
                T_TIME_ENTRY,
                organization_id=org.org_id,
                contact_id=self.contact_id,
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
            self.org.later(
                T_COMMENT,
                organization_id=self.org.org_id,
                contact_id=self.contact_id,
                **(dict.fromkeys(("estimate_id", "invoice_id", "project_id")) | {f"{target}_id": target_id}),
                author_staff_id=self.org.owner_id if author == "staff" else None,
                author_contact_person_id=self.person_id if author == "client" else None,
                body=body,
                visible_in_portal=visible,
                created_at=at,
            )
            self._history(
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
        self.org.later(
            T_REVIEW,
            organization_id=self.org.org_id,
            contact_id=self.contact_id,
            contact_person_id=self.person_id,
            rating=rating,
            text=text,
            created_at=at,
        )
        self._history(
            "review_submitted", f"Review submitted: {rating} of 5", at=at, by_client=True, details={"rating": rating}
        )

    def _viewed(self, *, at: dt.datetime, **owner_id: int) -> None:
        self._history("viewed", f"Viewed by {self.person_name}", at=at, by_client=True, client=True, **owner_id)

    def _history(
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
        self.org.later(
            T_ACTIVITY,
            organization_id=self.org.org_id,
            contact_id=self.contact_id,
            estimate_id=estimate_id,
            invoice_id=invoice_id,
            project_id=project_id,
            kind=kind,
            actor_staff_id=None if by_client else self.org.owner_id,
            actor_contact_person_id=self.person_id if by_client else None,
            client_visible=client or by_client,
            details={"description": description, **(details or {})},
            created_at=at,
        )


def _invoice_note(key: str) -> str | None:
    return {
        "retainer": "This retainer is drawn down against next quarter's invoices.",
        "paid": "Thank you for the prompt payment!",
    }.get(key)
