"""What the project, task and time-entry mutations share: cleaning their inputs, and the rules tasks and time
entries both obey (work goes on ACTIVE projects only; a non-billable task takes no billable time)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from core import validation
from core.errors import DomainError
from core.money import quantize
from models.projects import ProjectStatus
from schema.projects.mutations import MAX_ENTRY_MINUTES

MAX_NAME = 200


MAX_TEXT = 5000


MAX_RATE = Decimal("1000000000")


def text_values(input: Any) -> dict[str, Any]:
    """Cleaned ``name`` and ``description`` of an input; absent fields are left out."""
    values: dict[str, Any] = {}
    if input.name is not None:
        values["name"] = validation.required_text(input.name, "name", max_length=MAX_NAME)
    if input.description is not None:
        values["description"] = validation.text(input.description, "description", max_length=MAX_TEXT)
    return values


def notes(value: str | None) -> str | None:
    return validation.text(value, "notes", max_length=MAX_TEXT)


def rate(value: Decimal, currency: str) -> Decimal:
    """An hourly rate, rounded to the currency's minor unit."""
    return quantize(validation.decimal(value, "rate", minimum=Decimal(0), maximum=MAX_RATE), currency)


def duration(minutes: int) -> int:
    if not 0 < minutes <= MAX_ENTRY_MINUTES:
        raise DomainError(
            "INVALID_DURATION", f"durationMinutes must be between 1 and {MAX_ENTRY_MINUTES}.", "durationMinutes"
        )
    return minutes


def require_active(project_status: str, message: str, field: str) -> None:
    """Tasks and time are added to ACTIVE projects only (PROJECT_NOT_ACTIVE)."""
    if project_status != ProjectStatus.ACTIVE:
        raise DomainError("PROJECT_NOT_ACTIVE", message, field)


def check_billable(billable: bool, task_billable: bool) -> None:
    """A non-billable task takes no billable time (TASK_NOT_BILLABLE)."""
    if billable and not task_billable:
        raise DomainError("TASK_NOT_BILLABLE", "A non-billable task takes no billable time.", "billable")
