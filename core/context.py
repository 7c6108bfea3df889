"""The per-request (or per-websocket) GraphQL context."""

from __future__ import annotations

import ipaddress
import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any

from starlette.requests import HTTPConnection

from core.auth import PortalViewer, StaffViewer, Viewer
from core.database import Database
from core.errors import TopLevelCode, forbidden, top_level_error, unauthenticated
from core.scope import Scope
from core.settings import Settings

if TYPE_CHECKING:
    from resolvers.loaders import Loaders
    from services.runtime import Runtime
    from subscriptions.broker import Broker


log = logging.getLogger(__name__)

#: request.scope["state"] key of the request's (viewer, auth problem) once found: the planned read path may have
#: authenticated a request that normal execution then answers
AUTHENTICATED = "portico_viewer"
#: ... and whether that path already took the operation's cost from the rate-limit buckets (in the same statement)
BUDGET_TAKEN = "portico_budget_taken"

# Inside a subscription, the event being delivered has loaders of its own, fresh for every event (a websocket's
# context lives as long as the connection); set by subscriptions/streams.py, read by Context.loaders.
EVENT_LOADERS: ContextVar[Loaders | None] = ContextVar("portico_event_loaders", default=None)
OPERATION_LOADERS: ContextVar[Loaders | None] = ContextVar("portico_operation_loaders", default=None)


def client_address(connection: HTTPConnection, settings: Settings) -> str | None:
    """The client's address; ``X-Forwarded-For`` is believed only from a peer in ``TRUSTED_PROXIES``.

    However the app is served: under ``uvicorn app:app`` uvicorn's default ``--proxy-headers`` rewrites the peer from
    ``X-Forwarded-For`` itself when the connection comes from 127.0.0.1 (its ``FORWARDED_ALLOW_IPS``), before the app
    sees it. A peer that is one of the header's own hops is such a rewrite: the real peer is unknown then, so the
    address is None (one shared "unknown" bucket for throttles, no address in history), never the header's claim.
    """
    peer = connection.client.host if connection.client else None
    hops = [hop.strip() for value in connection.headers.getlist("x-forwarded-for") for hop in value.split(",")]
    hops = [hop for hop in hops if hop]
    if peer is None:
        return None
    if hops and _rewritten_from(peer, hops):
        _warn_rewritten_once()
        return None
    if settings.trusted_proxies and _is_trusted(peer, settings.trusted_proxies):
        # the right-most address not belonging to a trusted proxy is the client
        for hop in reversed(hops):
            if not _is_trusted(hop, settings.trusted_proxies):
                return _valid_ip(hop) or _valid_ip(peer)
    return _valid_ip(peer)


def _rewritten_from(peer: str, hops: list[str]) -> bool:
    """Whether ``peer`` was taken from the header: it is one of its hops (with or without a port)."""
    candidates = {peer, _valid_ip(peer)}
    for hop in hops:
        bare = hop[1 : hop.index("]")] if hop.startswith("[") and "]" in hop else hop
        if bare.count(":") == 1:  # IPv4 with a port
            bare = bare.rsplit(":", 1)[0]
        if hop in candidates or bare in candidates or _valid_ip(bare) in candidates - {None}:
            return True
    return False


_warned: list[bool] = []


def _warn_rewritten_once() -> None:
    if not _warned:
        _warned.append(True)
        log.warning(
            "the server rewrote the client address from X-Forwarded-For (uvicorn's --proxy-headers); Portico ignores "
            "it: serve with `python app.py serve` or `uvicorn --no-proxy-headers` and list proxies in TRUSTED_PROXIES"
        )


@lru_cache(maxsize=4096)
def _valid_ip(value: str) -> str | None:
    """``value`` as an IP address in its normal form, None when it is none (remembered: it was 4% of a small read's
    CPU; bounded, so a client sending a new X-Forwarded-For each time only churns it)."""
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

    @property
    def scope(self) -> Scope:
        return self.require_viewer().scope()

    @property
    def loaders(self) -> Loaders:
        """The request's DataLoaders; while a subscription delivers an event, that event's."""
        return EVENT_LOADERS.get() or OPERATION_LOADERS.get() or self._request_loaders

    @cached_property
    def _request_loaders(self) -> Loaders:
        return self.runtime.make_loaders(self.db, self.scope)  # type: ignore[no-any-return]
