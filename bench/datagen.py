"""Benchmark data, generated fast with COPY.

Sizes: ``small`` = 1k contacts, 20k invoices, 100k line items; ``large`` = 10k contacts, 200k invoices, 1M line
items. Contact 1 ("Bench Client") is the portal user's contact: 60 invoices with line items, payments and
comments, and 12,000 estimates for the deep-cursor query. The database is kept between runs and rebuilt only
when its size marker differs.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from decimal import Decimal

import asyncpg
from rich.progress import Progress

from core.security import hash_password
from core.settings import Settings

PORTAL_EMAIL = "bench@portico.test"
STAFF_EMAIL = "owner@bench.portico.test"
PASSWORD = "portico-bench-password"
BENCH_CONTACT_INVOICES = 60
BENCH_CONTACT_ESTIMATES = 12_000
FRESH_ESTIMATES = 6_000  # SENT estimates for acceptEstimate (M2), consumed by the benchmark
DETAIL_INVOICE = 12  # the invoice the detail query (Q4) reads: lines, a payment and a thread of THREAD comments
THREAD = 30


@dataclass(frozen=True)
class Size:
    name: str
    contacts: int
    invoices: int
    lines_per_invoice: int


SIZES = {"small": Size("small", 1_000, 20_000, 5), "large": Size("large", 10_000, 200_000, 5)}


async def marker(conn: asyncpg.Connection) -> str | None:
    exists = await conn.fetchval("SELECT to_regclass('bench_marker') IS NOT NULL")
    return await conn.fetchval("SELECT size FROM bench_marker") if exists else None


async def generate(conn: asyncpg.Connection, size: Size, settings: Settings) -> None:
    """Fill an empty, migrated database."""
    rng = random.Random(42)
    today = dt.date.today()
    password_hash = hash_password(settings, PASSWORD)
    with Progress(transient=False) as progress:
        task = progress.add_task(f"generating {size.name}", total=7)
        await conn.execute(
            "INSERT INTO organization (id, name, portal_slug, base_currency, portal_enabled, portal_show_projects,"
            " portal_allow_reviews, payment_gateways, address) VALUES (1, 'Bench Co', 'bench', 'USD', true, true,"
            " true, '{CARD,ACH}', '{}')"
        )
        await conn.execute(
            "INSERT INTO staff_user (id, organization_id, email, name, role, password_hash) "
            "VALUES (1, 1, $1, 'Bench Owner', 'OWNER', $2)",
            STAFF_EMAIL,
            password_hash,
        )
        contacts = [
            (i, 1, "Bench Client" if i == 1 else f"Client {i:05d}", "USD", "{}", "{}")
            for i in range(1, size.contacts + 1)
        ]
        await conn.copy_records_to_table(
            "contact",
            records=contacts,
            columns=["id", "organization_id", "display_name", "currency", "billing_address", "shipping_address"],
        )
        persons = [
            (
                i,
                1,
                i,
                "Person",
                f"{'bench' if i == 1 else f'p{i}'}@portico.test",
                True,
                "ACTIVE",
                password_hash if i == 1 else None,
            )
            for i in range(1, size.contacts + 1)
        ]
        await conn.copy_records_to_table(
            "contact_person",
            records=persons,
            columns=[
                "id",
                "organization_id",
                "contact_id",
                "first_name",
                "email",
                "is_primary",
                "portal_status",
                "password_hash",
            ],
        )
        progress.advance(task)

        invoices, lines, allocations, payments, comments = [], [], [], [], []
        line_id = payment_id = comment_id = 0
        other_contacts = max(size.contacts - 1, 1)
        for invoice_id in range(1, size.invoices + 1):
            contact_id = 1 if invoice_id <= BENCH_CONTACT_INVOICES else 2 + (invoice_id % other_contacts)
            issue = today - dt.timedelta(days=invoice_id % 400)
            subtotal = Decimal(0)
            tax_total = Decimal(0)
            for position in range(1, size.lines_per_invoice + 1):
                line_id += 1
                quantity = Decimal(rng.randint(1, 9))
                rate = Decimal(rng.randint(1000, 20000)) / 100
                amount = quantity * rate
                tax = (amount * Decimal("0.0825")).quantize(Decimal("0.01"))
                subtotal += amount
                tax_total += tax
                lines.append(
                    (
                        line_id,
                        1,
                        invoice_id,
                        position,
                        f"Service {position} \u2013 \u00e9t\u00e9",
                        quantity,
                        rate,
                        Decimal(0),
                        "VAT",
                        Decimal("8.25"),
                        amount,
                        tax,
                    )
                )
            total = subtotal + tax_total
            paid = Decimal(0)
            status = "SENT"
            if invoice_id % 3 == 0:
                payment_id += 1
                paid = (total / 2).quantize(Decimal("0.01"))
                status = "PARTIALLY_PAID"
                payments.append(
                    (payment_id, 1, contact_id, paid, "USD", issue + dt.timedelta(days=3), "BANK_TRANSFER", "SUCCEEDED")
                )
                allocations.append((payment_id, 1, payment_id, invoice_id, paid))
            if invoice_id % 4 == 0:
                comment_id += 1
                comments.append((comment_id, 1, contact_id, invoice_id, "Thanks, received.", True))
            invoices.append(
                (
                    invoice_id,
                    1,
                    contact_id,
                    f"INV-{invoice_id:06d}",
                    "REGULAR",
                    status,
                    issue,
                    issue + dt.timedelta(days=30),
                    "USD",
                    subtotal,
                    tax_total,
                    total,
                    paid,
                    total - paid,
                    ["CARD", "ACH"],
                )
            )
        progress.advance(task)
        await conn.copy_records_to_table(
            "invoice",
            records=invoices,
            columns=[
                "id",
                "organization_id",
                "contact_id",
                "number",
                "kind",
                "status",
                "issue_date",
                "due_date",
                "currency",
                "subtotal",
                "tax_total",
                "total",
                "amount_paid",
                "balance_due",
                "payment_gateways",
            ],
        )
        progress.advance(task)
        await conn.copy_records_to_table(
            "line_item",
            records=lines,
            columns=[
                "id",
                "organization_id",
                "invoice_id",
                "position",
                "name",
                "quantity",
                "rate",
                "discount_percent",
                "tax_name",
                "tax_percent",
                "amount",
                "tax_amount",
            ],
        )
        progress.advance(task)
        await conn.copy_records_to_table(
            "payment",
            records=payments,
            columns=["id", "organization_id", "contact_id", "amount", "currency", "payment_date", "mode", "status"],
        )
        await conn.copy_records_to_table(
            "payment_allocation",
            records=allocations,
            columns=["id", "organization_id", "payment_id", "invoice_id", "amount"],
        )
        await conn.copy_records_to_table(
            "comment",
            records=comments,
            columns=["id", "organization_id", "contact_id", "invoice_id", "body", "visible_in_portal"],
        )
        progress.advance(task)
        estimates = []
        estimate_count = BENCH_CONTACT_ESTIMATES + FRESH_ESTIMATES + size.invoices // 2
        for estimate_id in range(1, estimate_count + 1):
            if estimate_id <= BENCH_CONTACT_ESTIMATES + FRESH_ESTIMATES:
                contact_id = 1
            else:
                contact_id = 2 + (estimate_id % other_contacts)
            fresh = BENCH_CONTACT_ESTIMATES < estimate_id <= BENCH_CONTACT_ESTIMATES + FRESH_ESTIMATES
            issue = today - dt.timedelta(days=(estimate_id % 700) + (0 if fresh else 1))
            # history: decided estimates, and SENT ones whose expiry date has passed; the fresh ones await approval
            status = "SENT" if fresh else ("ACCEPTED", "DECLINED", "INVOICED", "SENT")[estimate_id % 4]
            expiry = today + dt.timedelta(days=30) if fresh else issue + dt.timedelta(days=30)
            estimates.append(
                (
                    estimate_id,
                    1,
                    contact_id,
                    f"EST-{estimate_id:06d}",
                    status,
                    issue,
                    expiry,
                    "USD",
                    Decimal("100.00"),
                    Decimal(0),
                    Decimal("100.00"),
                )
            )
        await conn.copy_records_to_table(
            "estimate",
            records=estimates,
            columns=[
                "id",
                "organization_id",
                "contact_id",
                "number",
                "status",
                "issue_date",
                "expiry_date",
                "currency",
                "subtotal",
                "tax_total",
                "total",
            ],
        )
        progress.advance(task)
        for table in (
            "organization",
            "staff_user",
            "contact",
            "contact_person",
            "invoice",
            "line_item",
            "payment",
            "payment_allocation",
            "comment",
            "estimate",
        ):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
            )
        await conn.execute(
            "INSERT INTO document_counter VALUES (1, 'invoice', $1), (1, 'estimate', $2)",
            size.invoices + 1,
            estimate_count + 1,
        )
        await conn.execute("CREATE TABLE bench_marker (size text)")
        await conn.execute("INSERT INTO bench_marker VALUES ($1)", size.name)
        await conn.execute("ANALYZE")
        progress.advance(task)


async def reset(conn: asyncpg.Connection) -> None:
    """Undo what a previous benchmark run wrote (comments, accepted estimates, sessions, mail)."""
    await conn.execute("DELETE FROM activity")
    await undo_mutations(conn)
    await thread(conn)
    await conn.execute("DELETE FROM outbox_mail")
    await conn.execute("DELETE FROM auth_session")
    await conn.execute("DELETE FROM auth_throttle")
    await conn.execute("VACUUM ANALYZE comment")
    await conn.execute("VACUUM ANALYZE estimate")


async def undo_mutations(conn: asyncpg.Connection) -> None:
    """The comments M1 added and the estimates M2 accepted, undone (also between two concurrency levels)."""
    await conn.execute("DELETE FROM comment WHERE body = 'bench comment'")
    await conn.execute(
        "UPDATE estimate SET status = 'SENT', accepted_at = NULL, accepted_by_id = NULL, accepted_ip = NULL, "
        "signature_name = NULL, viewed_at = NULL, viewed_by_id = NULL WHERE id > $1 AND id <= $2",
        BENCH_CONTACT_ESTIMATES,
        BENCH_CONTACT_ESTIMATES + FRESH_ESTIMATES,
    )


async def thread(conn: asyncpg.Connection) -> None:
    """The detail invoice's comment thread, written again: client and staff authors, staff notes the portal does not
    show, timestamps with and without microseconds, more comments than the detail query's first 20."""
    await conn.execute("DELETE FROM comment WHERE body LIKE 'bench thread %'")
    await conn.executemany(
        "INSERT INTO comment (organization_id, contact_id, invoice_id, author_staff_id, author_contact_person_id,"
        " body, visible_in_portal, created_at) VALUES (1, 1, $1, $2, $3, $4, $5,"
        " timestamptz '2026-01-05 09:00:00+00' + $6 * interval '7 minutes 0.25 seconds')",
        [
            (
                DETAIL_INVOICE,
                None if k % 2 else 1,
                1 if k % 2 else None,
                f'bench thread {k}: \u00e9t\u00e9 "quoted" \\ line\nnext',
                k % 7 != 3,
                k,
            )
            for k in range(THREAD)
        ],
    )
