"""The durable outbox: an SMTP outage loses nothing and duplicates nothing; a rollback sends nothing; dev folder."""

from __future__ import annotations

import asyncio
import email
import email.policy
import logging
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core.auth import PortalViewer
from core.database import Database
from core.settings import Settings
from models import OutboxMail
from services.documents.history import record_activity
from services.mail import outbox as mail
from services.mail.outbox import OutboxWorker, SmtpTransport, deliver_due
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory
from tests.smtp import SmtpServer

T_OUTBOX = OutboxMail.__table__

INVITE = """mutation($ids: [ID!]!) { invitePortalUsers(contactPersonIds: $ids) { __typename } }"""
RESET = """mutation($input: RequestPasswordResetInput!) { requestPasswordReset(input: $input) { __typename } }"""
FORWARD = """mutation($input: ForwardDocumentInput!) { forwardDocument(input: $input) { __typename } }"""


async def outbox_rows(db: Database) -> list[object]:
    async with db.session() as session:
        return list((await session.execute(select(T_OUTBOX).order_by(T_OUTBOX.c.id))).all())


async def test_smtp_outage_loses_nothing_and_sends_each_mail_once(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    # given the mail server is down
    smtp.stop()
    transport = SmtpTransport(smtp.url, timeout=5)
    tenant = await factory.tenant()
    newcomer = await factory.person(tenant.contact_b, active=False)
    estimate = await factory.estimate(tenant.contact_a)
    invoice = await factory.invoice(tenant.contact_a)
    # when actions that send mail happen: an invitation, a password reset, a forward, a client's acceptance
    staff = await gql.login(tenant.owner.email, PASSWORD)
    assert (await gql(INVITE, {"ids": [newcomer.gid]}, as_=staff))["invitePortalUsers"]["__typename"] != (
        "InvitePortalUsersError"
    )
    await gql(RESET, {"input": {"email": tenant.person_b.email, "portal": tenant.org.portal_slug}})
    portal = await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)
    forwarded = await gql(FORWARD, {"input": {"documentId": invoice.gid, "email": "acct@example.test"}}, as_=portal)
    assert forwarded["forwardDocument"]["__typename"] == "Invoice"
    async with db.transaction() as session:
        viewer = PortalViewer(0, tenant.org.pk, tenant.contact_a.pk, tenant.person_a.pk, True)
        await record_activity(
            session,
            viewer=viewer,
            organization_id=tenant.org.pk,
            contact_id=tenant.contact_a.pk,
            estimate_id=estimate.pk,
            kind="accepted",
            description="accepted",
        )
    # and the worker tries while the server is down
    assert await deliver_due(db, transport, settings) == 0
    rows = await outbox_rows(db)
    assert Counter(row.kind for row in rows) == Counter(  # type: ignore[attr-defined]
        {"invite": 1, "password_reset": 1, "forward": 1, "notify_accepted": 1}
    )
    now = datetime.now(UTC)
    for row in rows:
        assert (row.status, row.attempts) == ("PENDING", 1)  # type: ignore[attr-defined]
        assert row.last_error and row.next_attempt_at > now  # type: ignore[attr-defined]
    # then nothing is retried before its backoff has passed
    assert await deliver_due(db, transport, settings) == 0
    assert {row.attempts for row in await outbox_rows(db)} == {1}  # type: ignore[attr-defined]
    # when the server is back and the backoff has passed
    smtp.start()
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await deliver_due(db, transport, settings, now=later) == 4
    # then every mail arrived exactly once, under the Message-ID fixed at enqueue time
    received = Counter(message["Message-ID"] for message in smtp.inbox.messages)
    assert received == Counter({row.message_id: 1 for row in rows})  # type: ignore[attr-defined]
    assert {message["To"] for message in smtp.inbox.messages} == {
        newcomer.email,
        tenant.person_b.email,
        "acct@example.test",
        tenant.owner.email,
    }
    assert {row.status for row in await outbox_rows(db)} == {"SENT"}  # type: ignore[attr-defined]
    # and running the worker again sends nothing more
    assert await deliver_due(db, transport, settings, now=later + timedelta(hours=2)) == 0
    assert len(smtp.inbox.messages) == 4


async def test_two_workers_never_send_the_same_mail(db: Database, settings: Settings, smtp: SmtpServer) -> None:
    # given 30 queued mails
    async with db.transaction() as session:
        for n in range(30):
            await mail.enqueue(session, mail.Mail(to=f"r{n}@example.test", subject=f"n{n}", text="hi"), kind="test")
    transport = SmtpTransport(smtp.url, timeout=5)

    async def worker() -> int:
        total = 0
        while sent := await deliver_due(db, transport, settings, batch=7):
            total += sent
        return total

    # when two workers (two app processes) deliver at the same time
    first, second = await asyncio.gather(worker(), worker())
    # then each mail went out once (FOR UPDATE SKIP LOCKED: they took different rows)
    assert first + second == 30
    assert sorted(Counter(m["Subject"] for m in smtp.inbox.messages).values()) == [1] * 30


async def test_a_mail_fails_for_good_after_max_attempts(db: Database, settings: Settings, smtp: SmtpServer) -> None:
    limited = settings.model_copy(update={"mail_max_attempts": 2})
    async with db.transaction() as session:
        await mail.enqueue(session, mail.Mail(to="x@example.test", subject="s", text="t"), kind="test")
    smtp.stop()
    transport = SmtpTransport(smtp.url, timeout=5)
    now = datetime.now(UTC)
    assert await deliver_due(db, transport, limited, now=now) == 0
    assert await deliver_due(db, transport, limited, now=now + timedelta(hours=1)) == 0
    [row] = await outbox_rows(db)
    assert (row.status, row.attempts) == ("FAILED", 2)  # type: ignore[attr-defined]
    smtp.start()
    assert await deliver_due(db, transport, limited, now=now + timedelta(hours=3)) == 0
    assert smtp.inbox.messages == []


async def test_rolled_back_action_sends_nothing(db: Database, settings: Settings, smtp: SmtpServer) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await mail.enqueue(session, mail.Mail(to="x@example.test", subject="s", text="t"), kind="test")
            raise RuntimeError("the action failed after writing its mail")
    assert await outbox_rows(db) == []
    assert await smtp.deliver(db, settings) == 0
    assert smtp.inbox.messages == []


async def test_without_smtp_url_mail_goes_to_eml_files_and_the_log_says_where(
    db: Database, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # given the development default: no SMTP_URL, an outbox folder
    folder = tmp_path / "outbox"
    dev = settings.model_copy(update={"smtp_url": "", "outbox_dir": folder, "mail_poll_seconds": 60.0})
    worker = OutboxWorker(db, dev)
    caplog.set_level(logging.INFO, logger="services.mail.outbox")
    worker.start()
    try:
        assert f"no SMTP_URL: mail goes to {folder.resolve()}" in caplog.text
        # when a mail is committed (the commit wakes this process's worker: no waiting for the poll)
        async with db.transaction() as session:
            await mail.enqueue(session, mail.Mail(to="dev@example.test", subject="Hello dev", text="body"), kind="t")
        for _ in range(100):
            if [row.status for row in await outbox_rows(db)] == ["SENT"]:  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.05)
    finally:
        await worker.stop()
    # then it is one .eml file, and the log names it
    [path] = list(folder.glob("*.eml"))
    parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert (parsed["To"], parsed["Subject"]) == ("dev@example.test", "Hello dev")
    assert str(path) in caplog.text
    [row] = await outbox_rows(db)
    assert row.status == "SENT"  # type: ignore[attr-defined]


async def test_stopping_the_worker_lets_the_batch_in_flight_finish(db: Database, settings: Settings) -> None:
    # given a worker whose transport is slow, in the middle of delivering a mail
    started = asyncio.Event()
    sent: list[str] = []

    class SlowTransport:
        async def send(self, message: object) -> None:
            started.set()
            await asyncio.sleep(0.3)
            sent.append(str(message["To"]))  # type: ignore[index]

    worker = OutboxWorker(db, settings.model_copy(update={"mail_poll_seconds": 60.0}), transport=SlowTransport())
    async with db.transaction() as session:
        await mail.enqueue(session, mail.Mail(to="slow@example.test", subject="s", text="t"), kind="test")
    worker.start()
    await asyncio.wait_for(started.wait(), timeout=5)
    # when the app shuts down
    await worker.stop()
    # then the mail was sent once and its SENT mark committed (no resend at the next start)
    assert sent == ["slow@example.test"]
    assert [row.status for row in await outbox_rows(db)] == ["SENT"]  # type: ignore[attr-defined]
