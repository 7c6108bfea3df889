"""The data of ``make bench-fanout``: a fresh database (``portico_bench_fanout``), one organization with N staff
sessions for the fan-out rounds, and a SaaS-shaped population (many organizations, staff and portal users)."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from core.auth import issue_session
from core.database import Database, drop_database, ensure_database, make_engine, server_url
from core.ids import to_global_id
from core.scope import T_CONTACT, T_CONTACT_PERSON, T_ESTIMATE, T_ORGANIZATION, T_STAFF_USER
from core.settings import Settings
from services.migrations import run_alembic

DATABASE = "portico_bench_fanout"


@dataclass
class Organization:
    id: int
    staff_tokens: list[str]
    drafts: list[str]  # global ids of draft estimates, one per round
    probe: tuple[int, int]  # (estimate pk, contact pk) of a sent estimate: the probes' document


@dataclass
class Tenant:
    """One organization of the SaaS case: its sockets' tokens, and per contact its estimates."""

    id: int
    staff_tokens: list[str]
    portal_tokens: dict[int, list[str]]  # contact pk -> tokens of its people
    estimates: dict[int, list[int]]  # contact pk -> sent estimate pks


async def fresh_database(settings: Settings) -> Any:
    url = (await asyncio.to_thread(server_url, settings)).set(database=DATABASE)
    await drop_database(url)
    await ensure_database(url)
    await run_alembic(url, "upgrade", "head")
    return url


async def drop(url: Any) -> None:
    await drop_database(url)


def _engine(url: Any, settings: Settings) -> Database:
    return Database(make_engine(url, settings))


async def one_organization(
    url: Any, settings: Settings, *, sessions: int, staff_users: int, drafts: int
) -> Organization:
    """Fan-out Co: ``staff_users`` owners holding ``sessions`` sessions between them, drafts to send, a probe."""
    from services.documents.lines import LineDraft
    from tests.factories import Factory, Row

    db = _engine(url, settings)
    try:
        async with db.transaction() as session:
            (org_id,) = await _ids(session, T_ORGANIZATION, [_organization("fanout")])
            staff = await _ids(session, T_STAFF_USER, [_staff(org_id, f"s{i}") for i in range(staff_users)])
            (contact_id,) = await _ids(session, T_CONTACT, [_contact(org_id, "Fan-out Client")])
            (probe,) = await _ids(session, T_ESTIMATE, [_estimate(org_id, contact_id, "PROBE", "SENT")])
            tokens = [
                (
                    await issue_session(session, settings, organization_id=org_id, staff_user_id=staff[n % staff_users])
                ).token
                for n in range(sessions)
            ]
        contact = Row(contact_id, to_global_id("Contact", contact_id), {"organization_id": org_id, "currency": "USD"})
        lines = [LineDraft(name="Work", quantity=Decimal(1), rate=Decimal(100))]
        factory = Factory(db, settings)
        draft_rows = [await factory.estimate(contact, lines=lines, status="DRAFT") for _ in range(drafts)]
        return Organization(org_id, tokens, [row.gid for row in draft_rows], (probe, contact_id))
    finally:
        await db.dispose()


async def tenants(
    url: Any, settings: Settings, *, organizations: int, staff: int, contacts: int, people: int, estimates: int
) -> list[Tenant]:
    """``organizations`` tenants, each with ``staff`` staff sessions and ``contacts`` contacts of ``people`` portal
    users each; every contact has ``estimates`` sent estimates (the documents of the events)."""
    db = _engine(url, settings)
    try:
        async with db.transaction() as session:
            orgs = await _ids(session, T_ORGANIZATION, [_organization(f"t{o}") for o in range(organizations)])
            result = []
            for o, org_id in enumerate(orgs):
                staff_ids = await _ids(session, T_STAFF_USER, [_staff(org_id, f"t{o}s{i}") for i in range(staff)])
                contact_ids = await _ids(session, T_CONTACT, [_contact(org_id, f"Client {c}") for c in range(contacts)])
                tenant = Tenant(org_id, [], {}, {})
                for c, contact_id in enumerate(contact_ids):
                    rows = [_person(org_id, contact_id, f"t{o}c{c}p{p}") for p in range(people)]
                    people_ids = await _ids(session, T_CONTACT_PERSON, rows)
                    docs = [_estimate(org_id, contact_id, f"E{c}-{e}", "SENT") for e in range(estimates)]
                    tenant.estimates[contact_id] = await _ids(session, T_ESTIMATE, docs)
                    tenant.portal_tokens[contact_id] = [
                        (await issue_session(session, settings, organization_id=org_id, contact_person_id=p)).token
                        for p in people_ids
                    ]
                tenant.staff_tokens = [
                    (await issue_session(session, settings, organization_id=org_id, staff_user_id=s)).token
                    for s in staff_ids
                ]
                result.append(tenant)
        return result
    finally:
        await db.dispose()


async def _ids(session: Any, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    return list((await session.scalars(insert(table).returning(table.c.id), rows)).all())


def _organization(slug: str) -> dict[str, Any]:
    return {
        "name": f"Org {slug}",
        "portal_slug": f"bench-{slug}",
        "base_currency": "USD",
        "portal_enabled": True,
        "payment_gateways": ["CARD"],
    }


def _staff(org_id: int, name: str) -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "email": f"{name}@fanout.test",
        "name": name,
        "role": "OWNER",
        "password_hash": "-",
    }


def _contact(org_id: int, name: str) -> dict[str, Any]:
    return {"organization_id": org_id, "display_name": name, "currency": "USD"}


def _person(org_id: int, contact_id: int, name: str) -> dict[str, Any]:
    return {
        "organization_id": org_id,
        "contact_id": contact_id,
        "first_name": name,
        "last_name": "Bench",
        "email": f"{name}@fanout.test",
        "portal_status": "ACTIVE",
        "password_hash": "-",
    }


def _estimate(org_id: int, contact_id: int, number: str, status: str) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {
        "organization_id": org_id,
        "contact_id": contact_id,
        "number": number,
        "status": status,
        "issue_date": now.date(),
        "expiry_date": now.date() + dt.timedelta(days=30),
        "currency": "USD",
        "subtotal": Decimal(100),
        "tax_total": Decimal(0),
        "total": Decimal(100),
        "sent_at": now if status != "DRAFT" else None,
    }
