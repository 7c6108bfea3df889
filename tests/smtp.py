"""A real local SMTP server (aiosmtpd) that keeps what it receives, for mail tests."""

from __future__ import annotations

import email
import email.policy
import socket
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from core.database import Database
from core.settings import Settings
from services.mail.outbox import SmtpTransport, deliver_due


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(parsed)  # type: ignore[arg-type]
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    @staticmethod
    def text(message: EmailMessage) -> str:
        body = message.get_body(preferencelist=("plain",))
        assert body is not None
        return str(body.get_content())

    @staticmethod
    def html(message: EmailMessage) -> str:
        body = message.get_body(preferencelist=("html",))
        assert body is not None
        return str(body.get_content())


class SmtpServer:
    """Start, stop and restart an aiosmtpd server on a fixed port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.inbox = Inbox()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    async def deliver(self, db: Database, settings: Settings) -> int:
        """Run the outbox worker's delivery step once against this server."""
        total = 0
        while sent := await deliver_due(db, SmtpTransport(self.url, timeout=5), settings):
            total += sent
        return total
