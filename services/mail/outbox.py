"""The durable mail outbox.

An action writes its emails into ``outbox_mail`` in its own transaction (``enqueue``), so a rolled-back
action sends nothing and a committed one is never forgotten. A worker in every app process claims due rows
with ``FOR UPDATE SKIP LOCKED`` (two processes never take the same mail), delivers them over SMTP
(``SMTP_URL``) or, in development, into ``.data/outbox/*.eml``, and retries failures with exponential backoff.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlparse

import aiosmtplib
from sqlalchemy import Insert, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database, after_commit
from core.metrics import OUTBOX_MAILS, counted
from core.settings import Settings
from models import OutboxMail

log = logging.getLogger(__name__)

T_OUTBOX = OutboxMail.__table__


MAX_BACKOFF = timedelta(hours=1)


_WAKE_SCHEDULED = "portico.mail.wake_scheduled"


_LOCAL_WORKERS: set[OutboxWorker] = set()  # the running workers of this process, woken after a commit


@dataclass(frozen=True, slots=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes

    def to_json(self) -> dict[str, str]:
        return {
            "filename": self.filename,
            "content_type": self.content_type,
            "data": base64.b64encode(self.data).decode(),
        }


@dataclass(frozen=True, slots=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


async def enqueue(session: AsyncSession, mail: Mail, *, kind: str, organization_id: int | None = None) -> int:
    """Write ``mail`` to the outbox inside the caller's transaction; returns its id.

    Once that transaction commits (``Database.transaction``), this process's worker is woken to deliver it
    at once; a rollback discards the row and nothing is sent. Other processes find it at their next poll.
    """
    (outbox_id,) = await enqueue_all(session, [mail], kind=kind, organization_id=organization_id)
    return outbox_id


async def enqueue_all(
    session: AsyncSession,
    mails: list[Mail],
    *,
    kind: str,
    organization_id: int | None = None,
    along: Insert | None = None,
) -> list[int]:
    """``enqueue`` for several mails, in one statement (with ``along``, the write that brings them); their ids."""
    if not mails:
        return []
    if not session.info.get(_WAKE_SCHEDULED):
        session.info[_WAKE_SCHEDULED] = True
        after_commit(session, _wake_local_workers)
    after_commit(session, counted(OUTBOX_MAILS.labels("queued"), len(mails)))
    now = datetime.now(UTC)
    rows = [
        {
            "organization_id": organization_id,
            "kind": kind,
            "to_address": mail.to,
            "subject": mail.subject[:300],
            "text_body": mail.text,
            "html_body": mail.html,
            "attachments": [a.to_json() for a in mail.attachments],
            "message_id": make_msgid(domain="portico.mail"),
            "next_attempt_at": now,
        }
        for mail in mails
    ]
    # one row is the usual case: a single-row VALUES is cached once compiled, a multi-row one is compiled each time
    stmt = insert(T_OUTBOX).values(rows[0] if len(rows) == 1 else rows).returning(T_OUTBOX.c.id)
    if along is not None:
        stmt = stmt.add_cte(along.cte("along"))
    ids = await session.scalars(stmt)
    return [int(outbox_id) for outbox_id in ids]


async def _wake_local_workers() -> None:
    for worker in list(_LOCAL_WORKERS):
        worker.wake()


def build_message(row: Any, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message["Message-ID"] = row.message_id  # stable across retries, so receivers can drop duplicates
    message["Date"] = formatdate(row.created_at.timestamp(), usegmt=True)
    message.set_content(row.text_body)
    if row.html_body:
        message.add_alternative(row.html_body, subtype="html")
    for attachment in row.attachments or []:
        maintype, _, subtype = attachment["content_type"].partition("/")
        message.add_attachment(
            base64.b64decode(attachment["data"]), maintype=maintype, subtype=subtype, filename=attachment["filename"]
        )
    return message


class Transport(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


@dataclass
class SmtpTransport:
    """SMTP from a URL: ``smtp://user:pass@host:port`` (``?starttls=true``) or ``smtps://`` (implicit TLS)."""

    url: str
    timeout: float = 20.0

    async def send(self, message: EmailMessage) -> None:
        parsed = urlparse(self.url)
        options = parse_qs(parsed.query)
        implicit_tls = parsed.scheme == "smtps"
        await aiosmtplib.send(
            message,
            hostname=parsed.hostname or "localhost",
            port=parsed.port or (465 if implicit_tls else 25),
            username=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            use_tls=implicit_tls,
            start_tls=options.get("starttls", ["false"])[0].lower() == "true" or None,
            timeout=self.timeout,
        )


@dataclass
class FolderTransport:
    """Development: one ``.eml`` file per mail in a folder."""

    folder: Path

    async def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = str(message["Message-ID"]).strip("<>").replace("@", "_").replace("/", "_")
        path = self.folder / f"{name}.eml"
        await asyncio.to_thread(path.write_bytes, bytes(message))
        log.info("mail to %s (%s) written to %s", message["To"], message["Subject"], path)


def transport_for(settings: Settings) -> Transport:
    if settings.smtp_url:
        return SmtpTransport(settings.smtp_url)
    return FolderTransport(settings.outbox_dir)


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s, … at most an hour."""
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def deliver_due(
    db: Database, transport: Transport, settings: Settings, *, batch: int = 20, now: datetime | None = None
) -> int:
    """Deliver up to ``batch`` due mails (due at ``now``, default: the current time); returns how many were sent.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``: concurrent workers (other processes) take other rows.
    A failure leaves the row PENDING with a later ``next_attempt_at`` (exponential backoff), or FAILED after
    ``mail_max_attempts``. The Message-ID is fixed when the mail is enqueued, so a receiver can recognize a
    retry of a mail whose delivery succeeded but whose SENT mark was lost (the worker died in between).
    """
    sent = retried = failed = 0
    due_at = now or datetime.now(UTC)
    async with db.transaction() as session:
        rows = (
            await session.execute(
                select(T_OUTBOX)
                .where(T_OUTBOX.c.status == "PENDING", T_OUTBOX.c.next_attempt_at <= due_at)
                .order_by(T_OUTBOX.c.next_attempt_at, T_OUTBOX.c.id)
                .limit(batch)
                .with_for_update(skip_locked=True)
            )
        ).all()
        for row in rows:
            try:
                await transport.send(build_message(row, settings.mail_from))
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                attempts = row.attempts + 1
                final = attempts >= settings.mail_max_attempts
                log.warning("mail %s to %s failed (attempt %s): %s", row.id, row.to_address, attempts, error)
                if final:
                    failed += 1
                else:
                    retried += 1
                await session.execute(
                    update(T_OUTBOX)
                    .where(T_OUTBOX.c.id == row.id)
                    .values(
                        attempts=attempts,
                        status="FAILED" if final else "PENDING",
                        next_attempt_at=due_at + backoff(attempts),
                        last_error=str(error)[:2000],
                    )
                )
                continue
            sent += 1
            await session.execute(
                update(T_OUTBOX)
                .where(T_OUTBOX.c.id == row.id)
                .values(status="SENT", sent_at=datetime.now(UTC), attempts=row.attempts + 1, last_error=None)
            )
    for outcome, count in (("sent", sent), ("retried", retried), ("failed", failed)):
        if count:  # (committed: the marks above are what the counts say)
            OUTBOX_MAILS.labels(outcome).inc(count)
    return sent


class OutboxWorker:
    """Background delivery loop of one app process."""

    def __init__(self, db: Database, settings: Settings, transport: Transport | None = None) -> None:
        self.db = db
        self.settings = settings
        self.transport = transport or transport_for(settings)
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-worker")
            _LOCAL_WORKERS.add(self)
            if not self.settings.smtp_url:
                log.info("no SMTP_URL: mail goes to %s (one .eml file per mail)", self.settings.outbox_dir.resolve())

    @property
    def running(self) -> bool:
        """Whether the delivery loop is on and has not ended (readiness: ``services.health``)."""
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Deliver now rather than at the next poll (call after committing new mail)."""
        self._wake.set()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let the batch in flight finish (so its SENT marks commit), then end; cancel after ``grace_seconds``."""
        _LOCAL_WORKERS.discard(self)
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout=grace_seconds)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while not self._stopping:
            try:
                while not self._stopping and await deliver_due(self.db, self.transport, self.settings):
                    pass
            except Exception:  # the loop must survive a database outage; the log says what happened
                log.exception("outbox delivery failed")
            if self._stopping:
                break
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.mail_poll_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
