"""createProject and updateProject (staff)."""

from __future__ import annotations

from typing import Any

import strawberry
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.context import Context
from core.errors import not_found
from core.scope import T_CONTACT, T_PROJECT
from models.projects import ProjectStatus
from resolvers.common import changed_values, create_once, one_or_raise, pk_of, record_action, returns_errors
from resolvers.projects.common import text_values
from schema.projects.mutations import (
    CreateProjectError,
    CreateProjectInput,
    CreateProjectResult,
    UpdateProjectError,
    UpdateProjectInput,
    UpdateProjectResult,
)


@returns_errors(CreateProjectError)
async def create_project(info: strawberry.Info, input: CreateProjectInput) -> CreateProjectResult:
    """Staff: start an ACTIVE project for a contact."""
    ctx: Context = info.context
    viewer = ctx.require_staff()
    contact_pk = pk_of(input.contact_id, "Contact", field="contactId")
    values = text_values(input)

    async def create(session: AsyncSession) -> int:
        await one_or_raise(
            session,
            ctx.scope.where_id(T_CONTACT, contact_pk).with_for_update(read=True),
            not_found("No contact with this id.", "contactId"),
        )
        project_pk = await session.scalar(
            insert(T_PROJECT)
            .values(
                organization_id=viewer.organization_id, contact_id=contact_pk, status=ProjectStatus.ACTIVE, **values
            )
            .returning(T_PROJECT.c.id)
        )
        await record_action(
            ctx,
            session,
            kind="project_created",
            description=f"Project {values['name']} created",
            contact_id=contact_pk,
            project_id=project_pk,
        )
        return int(project_pk)

    project_pk = await create_once(ctx, operation="createProject", input=input, result_type="Project", create=create)
    return await ctx.loaders.project.load(project_pk)


@returns_errors(UpdateProjectError)
async def update_project(info: strawberry.Info, input: UpdateProjectInput) -> UpdateProjectResult:
    """Staff: rename, describe, complete or archive a project."""
    ctx: Context = info.context
    ctx.require_staff()
    project_pk = pk_of(input.id, "Project")
    values = text_values(input)
    if input.status is not None:
        values["status"] = input.status.value
    async with ctx.db.transaction() as session:
        current = await one_or_raise(
            session, ctx.scope.where_id(T_PROJECT, project_pk).with_for_update(), not_found("No project with this id.")
        )
        changed = changed_values(current, values)
        if changed:
            await session.execute(update(T_PROJECT).where(T_PROJECT.c.id == project_pk).values(**changed))
            details: dict[str, Any] = {"fields": sorted(changed)}
            if "status" in changed:
                details |= {"previous_status": current.status, "status": changed["status"]}
            await record_action(
                ctx,
                session,
                kind="project_updated",
                description=f"Project {changed.get('name', current.name)} updated",
                contact_id=current.contact_id,
                project_id=project_pk,
                details=details,
            )
    return await ctx.loaders.project.load(project_pk)


@strawberry.type
class Mutation:
    create_project: CreateProjectResult = strawberry.field(resolver=create_project)
    update_project: UpdateProjectResult = strawberry.field(resolver=update_project)
