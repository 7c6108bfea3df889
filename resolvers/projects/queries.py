"""projects and project, and a project's time entries; portal users reach them only while the organization shows
projects and timesheets."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from core.auth import PortalViewer
from core.context import Context
from core.ids import decode_id
from core.scope import T_PROJECT, T_TIME_ENTRY
from resolvers import filtering, reads
from resolvers.pagination import Paging, newest_first
from schema.base import After, Before, Connection, First, Last
from schema.projects.types import Project, ProjectFilter, TimeEntry

FEATURE_DISABLED = "FEATURE_DISABLED"


PORTAL_RULE = (
    " Portal users get a top-level error with `extensions.code = FEATURE_DISABLED` while the organization does not"
    " show projects and timesheets."
)


def require_projects_shown(ctx: Context) -> None:
    """Portal users reach projects only while the organization shows them; otherwise a FEATURE_DISABLED error.

    The error is top-level (``extensions.code = FEATURE_DISABLED``, data null for the field) so a frontend can hide
    the Projects module; the scope hides the rows too, so nothing reaches the portal by any other path.
    """
    viewer = ctx.require_viewer()
    if isinstance(viewer, PortalViewer) and not viewer.show_projects:
        raise GraphQLError(
            "This organization does not show projects and timesheets in the portal.",
            extensions={"code": FEATURE_DISABLED},
        )


async def projects(
    info: strawberry.Info,
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    filter: ProjectFilter | None = None,
) -> Connection[Project]:
    """Projects in the viewer's scope, newest first (portal: only while the organization shows projects)."""
    ctx: Context = info.context
    require_projects_shown(ctx)
    stmt = ctx.scope.select(T_PROJECT)
    if filter:
        stmt = stmt.where(
            *filtering.one_of(filter.status, T_PROJECT.c.status),
            *filtering.search(filter.search, T_PROJECT.c.name),
            *filtering.contact(filter.contact_id, T_PROJECT.c.contact_id),
        )
    return await newest_first(ctx.db, stmt, [T_PROJECT.c.id], Paging(first, after, last, before), Project.from_row)


async def project(info: strawberry.Info, id: strawberry.ID) -> Project | None:
    require_projects_shown(info.context)
    pk = decode_id(id, "Project")
    return await info.context.loaders.project.load(pk) if pk else None


async def time_entries_of(info: strawberry.Info, project_pk: int, paging: Paging) -> Connection[TimeEntry]:
    """``Project.timeEntries``: newest first; the portal lists billable entries only (``reads.time_entries``)."""
    ctx: Context = info.context
    stmt = reads.time_entries(ctx.scope).where(T_TIME_ENTRY.c.project_id == project_pk)
    key = [T_TIME_ENTRY.c.entry_date, T_TIME_ENTRY.c.id]
    return await newest_first(ctx.db, stmt, key, paging, TimeEntry.from_row)


@strawberry.type
class Query:
    projects: Connection[Project] = strawberry.field(
        resolver=projects, description="Projects, newest first (portal: the contact's)." + PORTAL_RULE
    )
    project: Project | None = strawberry.field(resolver=project, description="One project, or null." + PORTAL_RULE)
