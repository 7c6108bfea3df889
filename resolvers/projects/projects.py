"""createProject and updateProject (staff)."""

from __future__ import annotations

import strawberry
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.scope import T_PROJECT
from models.projects import ProjectStatus
from resolvers.common import changed_values, create_once, record_action, returns_errors
from resolvers.edits import editing, staff_target, write_changes
from resolvers.projects.common import text_values
from schema.projects.mutations import (
    CreateProjectError,
    CreateProjectInput,
    CreateProjectResult,
    UpdateProjectError,
    UpdateProjectInput,
    UpdateProjectResult,
)
from services.documents.lines import lock_contact


@returns_errors(CreateProjectError)
async def create_project(info: strawberry.Info, input: CreateProjectInput) -> CreateProjectResult:
    """Staff: start an ACTIVE project for a contact."""
    ctx, contact_pk = staff_target(info, input.contact_id, "Contact", field="contactId")
    values = text_values(input)

    async def create(session: AsyncSession) -> int:
        await lock_contact(session, ctx.scope, contact_pk)
        project_pk = await session.scalar(
            insert(T_PROJECT)
            .values(
                organization_id=ctx.scope.organization_id, contact_id=contact_pk, status=ProjectStatus.ACTIVE, **values
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
    ctx, project_pk = staff_target(info, input.id, "Project")
    values = text_values(input)
    if input.status is not None:
        values["status"] = input.status.value
    locked = ctx.scope.where_id(T_PROJECT, project_pk).with_for_update()
    async with editing(ctx, locked, "No project with this id.") as (session, current):
        changed = changed_values(current, values)
        moved = {"previous_status": current.status, "status": changed["status"]} if "status" in changed else {}
        await write_changes(
            ctx,
            session,
            T_PROJECT,
            project_pk,
            changed,
            kind="project_updated",
            description=f"Project {changed.get('name', current.name)} updated",
            contact_id=current.contact_id,
            project_id=project_pk,
            details=moved,
        )
    return await ctx.loaders.project.load(project_pk)


@strawberry.type
class Mutation:
    create_project: CreateProjectResult = strawberry.field(resolver=create_project)
    update_project: UpdateProjectResult = strawberry.field(resolver=update_project)
