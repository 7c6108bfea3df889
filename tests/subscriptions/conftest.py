"""Fixtures for subscription tests: sessions without a password round-trip, a private Redis, emitting events."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from typing import Any

import pytest

from core.auth import issue_session
from core.database import Database
from core.settings import Settings
from subscriptions.broker import Broker
from subscriptions.events import Event, emit
from tests.factories import Row
from tests.live import free_port


@dataclass
class Sessions:
    db: Database
    settings: Settings

    async def staff(self, staff: Row) -> str:
        return await self._issue(staff.organization_id, staff_user_id=staff.pk)

    async def portal(self, person: Row) -> str:
        return await self._issue(person.organization_id, contact_person_id=person.pk)

    async def _issue(self, organization_id: int, **subject: Any) -> str:
        async with self.db.transaction() as session:
            issued = await issue_session(session, self.settings, organization_id=organization_id, **subject)
        return issued.token


@pytest.fixture
def broker(app: Any) -> Broker:
    return app.state.runtime.broker  # type: ignore[no-any-return]


@dataclass
class Emitter:
    db: Database
    broker: Broker

    async def __call__(self, organization_id: int, *events: Event) -> None:
        """Emit ``events`` from a committed transaction, as a mutation does."""
        async with self.db.transaction() as session:
            for event in events:
                emit(session, self.broker, organization_id, event)


@pytest.fixture
def emitted(db: Database, broker: Broker) -> Emitter:
    return Emitter(db, broker)


class PrivateRedis:
    """A redis-server of this test alone, on a free port; ``restart()`` stops it and starts it again."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        command += ["--appendonly", "no", "--daemonize", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()
