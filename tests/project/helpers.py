"""GraphQL documents and database checks shared by the project tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from core.database import Database
from core.scope import T_ACTIVITY

PROJECT_FIELDS = "id name description status contact { id }"
TASK_FIELDS = "id name description billable rate loggedHours billedHours unbilledHours"
ENTRY_FIELDS = "id date durationMinutes hours notes billable status taskName"


def mutation(name: str, object_type: str, fields: str) -> str:
    """``mutation($input) { result: name(input) { __typename ... } }`` for one staff mutation (alias ``result``)."""
    prefix = name[0].upper() + name[1:]
    return f"""mutation($input: {prefix}Input!) {{ result: {name}(input: $input) {{
        __typename ... on {object_type} {{ {fields} }} ... on {prefix}Error {{ code field message }} }} }}"""


CREATE_PROJECT = mutation("createProject", "Project", PROJECT_FIELDS)
UPDATE_PROJECT = mutation("updateProject", "Project", PROJECT_FIELDS)
CREATE_TASK = mutation("createTask", "Task", TASK_FIELDS)
UPDATE_TASK = mutation("updateTask", "Task", TASK_FIELDS)
CREATE_TIME_ENTRY = mutation("createTimeEntry", "TimeEntry", ENTRY_FIELDS)
UPDATE_TIME_ENTRY = mutation("updateTimeEntry", "TimeEntry", ENTRY_FIELDS)


def error_code(result: dict[str, Any]) -> tuple[str, str | None]:
    """``(code, field)`` of a mutation result that must be its error type."""
    assert result["__typename"].endswith("Error"), result
    return result["code"], result["field"]


async def activities(db: Database, **where: Any) -> list[Any]:
    """History rows matching the column values given, oldest first."""
    async with db.session() as session:
        stmt = select(T_ACTIVITY).where(*(T_ACTIVITY.c[key] == value for key, value in where.items()))
        return list((await session.execute(stmt.order_by(T_ACTIVITY.c.id))).all())


async def count(db: Database, table: Any, *conditions: Any) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(table).where(*conditions)) or 0)
