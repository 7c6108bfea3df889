"""The per-request (or per-websocket) GraphQL context."""

from __future__ import annotations

import ipaddress
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from core.auth import PortalViewer, StaffViewer, Viewer
from core.database import Database
from core.errors import TopLevelCode, forbidden, top_level_error, unauthenticated
from core.scope import Scope
from core.settings import Settings

if TYPE_CHECKING:
    from core.runtime import Runtime
    from resolvers.loaders import Loaders
    from subscriptions.broker import Broker


# Inside a subscription, the event being delivered has loaders of its own, fresh for every event (a websocket's
# context lives as long as the connection); set by subscriptions/streams.py, read by Context.loaders.
EVENT_LOADERS: ContextVar[Loaders | None] = ContextVar("portico_event_loaders", default=None)
OPERATION_LOADERS: ContextVar[Loaders | None] = ContextVar("portico_operation_loaders", default=None)


def client_address(connection: HTTPConnection, settings: Settings) -> str | None:
    """The client's address; ``X-Forwarded-For`` is believed only from a configured trusted proxy."""
    peer = connection.client.host if connection.client else None
    if peer and settings.trusted_proxies and _is_trusted(peer, settings.trusted_proxies):
        forwarded = connection.headers.get("x-forwarded-for", "")
        # the right-most address not belonging to a trusted proxy is the client
        for hop in reversed([part.strip() for part in forwarded.split(",") if part.strip()]):
            if not _is_trusted(hop, settings.trusted_proxies):
                return _valid_ip(hop) or peer
    return _valid_ip(peer) if peer else None


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _is_trusted(address: str, proxies: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(proxy, strict=False) for proxy in proxies)


@dataclass
class Context:
    """What every resolver gets as ``info.context``."""

    request: Any
    response: Any
    settings: Settings
    db: Database
    broker: Broker
    request_id: str
    client_ip: str | None = None
    user_agent: str | None = None
    viewer: Viewer | None = None
    auth_problem: str | None = None  # "CSRF" (cookie without its header) or "INVALID_TOKEN"
    connection_params: dict[str, Any] | None = None  # websocket connection_init payload
    socket: Any = None  # on a websocket: its handler, whose ``close_socket(code, reason)`` closes it cleanly
    extras: dict[str, Any] = field(default_factory=dict)

    def require_viewer(self) -> Viewer:
        if self.viewer is None:
            if self.auth_problem == "CSRF":
                raise forbidden("Cookie-authenticated requests need the X-CSRF-Token header.")
            raise unauthenticated()
        return self.viewer

    def require_staff(self) -> StaffViewer:
        viewer = self.require_viewer()
        if not isinstance(viewer, StaffViewer):
            raise top_level_error(TopLevelCode.FORBIDDEN, "Only staff users may do this.")
        return viewer

    def require_portal(self) -> PortalViewer:
        viewer = self.require_viewer()
        if not isinstance(viewer, PortalViewer):
            raise top_level_error(TopLevelCode.FORBIDDEN, "Only portal users may do this.")
        return viewer

    @property
    def runtime(self) -> Runtime:
        return self.request.scope["app"].state.runtime  # type: ignore[no-any-return]

    def after_commit_mail(self) -> None:
        """Tell this process's outbox worker that new mail is waiting."""
        outbox = self.runtime.outbox
        if outbox is not None:
            outbox.wake()

    async def sessions_revoked(self, session_ids: list[int]) -> None:
        """Nothing left to do: ``core.auth.revoke_sessions`` closes the sessions' sockets after its commit."""

    @property
    def scope(self) -> Scope:
        return self.require_viewer().scope()

    @property
    def loaders(self) -> Loaders:
        """The request's DataLoaders; while a subscription delivers an event, that event's."""
        return EVENT_LOADERS.get() or OPERATION_LOADERS.get() or self._request_loaders

    @cached_property
    def _request_loaders(self) -> Loaders:
        from resolvers.loaders import Loaders

        return Loaders(self.db, self.scope)
