"""Who and what the demo is about: two organizations, their owners, portal contacts with their people, catalogues,
projects, comment threads and reviews. Only data; ``services.demo.seed`` writes it."""

from __future__ import annotations

from dataclasses import dataclass


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
