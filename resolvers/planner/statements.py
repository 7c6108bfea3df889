"""The statement a planned operation runs: the session check, its rate-limit take and the read, in one round trip.

``WITH viewer AS (…)`` finds the request's session by its token with the rule ``core.auth`` applies to every
request (``request_session``), ``seen`` moves its ``last_seen_at`` on (once a minute, as ``authenticate`` does),
``take`` draws the operation's cost and a new allowance from the session's and the address's token buckets
(``core.ratelimit``; a statement is made with the takes and one without, for when the process's allowances
already paid), and the body — the compiled read, whose scope is the viewer's row (``TEMPLATES``) — runs only when
the session holds. The answer is the response body, NULL (no such session: normal execution says why) or
``LIMITED`` (a bucket cannot cover the cost: normal execution then refuses the operation with its
``Retry-After``), and with the takes, what each bucket granted (``granted0``, ``granted1``; NULL: it refused), for
``ratelimit.settle``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Text, cast, func, literal, literal_column, select

from core import ratelimit
from core.auth import T_ORG, T_PERSON, T_SESSION, T_STAFF, PortalViewer, StaffViewer, Viewer, request_session, seen_cte
from core.scope import PortalScope, Scope, StaffScope
from core.settings import Settings
from core.sqltext import Statement, marker, numbered, render


def _viewer(column: str) -> Any:
    return literal_column(f"(SELECT {column} FROM viewer)")


# what the viewer CTE holds, by kind: enough to build core.auth's viewer (``viewer_of``)
VIEWER_COLUMNS = {
    "portal": ("session_id", "organization_id", "expires_at", "contact_id", "person_id", "portal_show_projects"),
    "staff": ("session_id", "organization_id", "expires_at", "staff_user_id", "role"),
}


def viewer_of(kind: str, row: Any) -> Viewer:
    if kind == "portal":
        names = ("session_id", "organization_id", "contact_id", "person_id", "portal_show_projects", "expires_at")
        return PortalViewer(*(row[name] for name in names))
    names = ("session_id", "organization_id", "staff_user_id", "role", "expires_at")
    return StaffViewer(*(row[name] for name in names))


TEMPLATES: dict[str, Scope] = {
    "portal": PortalScope(
        organization_id=_viewer("organization_id"),
        contact_id=_viewer("contact_id"),
        contact_person_id=_viewer("person_id"),
        show_projects=False,
    ),
    "staff": StaffScope(organization_id=_viewer("organization_id")),
}


def _viewer_select(kind: str, settings: Settings) -> Any:
    token = literal_column("CAST(__param_token__ AS BYTEA)")
    conditions = request_session(token, now=func.now(), idle_minutes=settings.session_idle_timeout_minutes)
    columns = [T_SESSION.c.id.label("session_id"), T_SESSION.c.organization_id, T_SESSION.c.expires_at]
    if kind == "portal":
        columns += [T_PERSON.c.contact_id, T_PERSON.c.id.label("person_id"), T_ORG.c.portal_show_projects]
        joins = T_SESSION.join(T_ORG, T_ORG.c.id == T_SESSION.c.organization_id).join(
            T_PERSON, T_PERSON.c.id == T_SESSION.c.contact_person_id
        )
        # (the access rule also names the staff table: an outer join that finds nothing for a portal session)
        joins = joins.outerjoin(T_STAFF, T_STAFF.c.id == T_SESSION.c.staff_user_id)
    else:
        columns += [T_STAFF.c.id.label("staff_user_id"), T_STAFF.c.role]
        joins = (
            T_SESSION.join(T_ORG, T_ORG.c.id == T_SESSION.c.organization_id)
            .join(T_STAFF, T_STAFF.c.id == T_SESSION.c.staff_user_id)
            .outerjoin(T_PERSON, T_PERSON.c.id == T_SESSION.c.contact_person_id)
        )
    return select(*columns).select_from(joins).where(*conditions)


LIMITED = "LIMITED"  # the answer of a statement whose take a bucket refused
_BUCKET_KEYS = ("'session:' || (SELECT session_id FROM viewer)", "CAST(__param_address_key__ AS varchar)")


def _ctes(kind: str, settings: Settings, *, taking: bool) -> tuple[list[str], str, str]:
    """The session check and the rate-limit takes (``ratelimit.take_cte``; a bucket only for a session found),
    SQL for "a bucket refused", and the columns of what each take granted (none without takes)."""
    ctes = [f"viewer AS ({render(_viewer_select(kind, settings))})", seen_cte("(SELECT session_id FROM viewer)")]
    if not (settings.rate_limit_enabled and taking):
        return ctes, "false", ""
    for n, key in enumerate(_BUCKET_KEYS):
        ctes.append(ratelimit.take_cte(n, key, marker, guard="EXISTS (SELECT 1 FROM viewer) AND "))
    limited = " OR ".join(f"NOT EXISTS (SELECT 1 FROM take{n})" for n in range(len(_BUCKET_KEYS)))
    return ctes, limited, ", " + ratelimit.granted_columns(len(_BUCKET_KEYS))


def assemble(kind: str, body: Any, settings: Settings, *, taking: bool = True) -> Statement:
    """The whole statement for a compiled ``body`` (the JSON text of ``data``) and a viewer kind; ``taking``: with
    the rate-limit takes (without: the process's allowances paid)."""
    ctes, limited, granted = _ctes(kind, settings, taking=taking)
    answer = select(cast(func.json_build_object(literal("data"), body), Text).label("body"))
    return numbered(
        "WITH " + ",\n".join(ctes) + "\n"
        f"SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM viewer) THEN NULL WHEN {limited} THEN '{LIMITED}' "
        f"ELSE ({render(answer)}) END AS body{granted}"
    )


def session_and_budget(kind: str, settings: Settings, *, taking: bool = True) -> Statement:
    """For an operation normal execution answers: the same session check and take (``taking``; without: the
    process's allowances paid), one round trip; its row is the viewer's (``VIEWER_COLUMNS``) and what each bucket
    granted (NULL: it refused), or none."""
    ctes, _, granted = _ctes(kind, settings, taking=taking)
    columns = ", ".join(f"viewer.{name}" for name in VIEWER_COLUMNS[kind])
    return numbered("WITH " + ",\n".join(ctes) + f"\nSELECT {columns}{granted} FROM viewer")
