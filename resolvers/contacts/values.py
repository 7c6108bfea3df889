"""Cleaning the details of contacts and contact persons, one rule per field, shared by staff's mutations and the
portal's own (updateMyAccount, updateMyCompany). Each returns the columns to write; absent fields are left out."""

from __future__ import annotations

from typing import Any

from core import validation

# (column, input field, longest value) of the optional text fields
PERSON_TEXTS = (("last_name", "lastName", 100), ("phone", "phone", 50), ("mobile", "mobile", 50))
COMPANY_TEXTS = (("company_name", "companyName", 200), ("phone", "phone", 50))
MAX_FIRST_NAME = 100
MAX_DISPLAY_NAME = 200
MAX_NOTES = 5000


def _texts(input: Any, texts: tuple[tuple[str, str, int], ...]) -> dict[str, Any]:
    return {
        column: validation.text(getattr(input, column), field, max_length=limit)
        for column, field, limit in texts
        if getattr(input, column) is not None
    }


def person_names_and_phones(input: Any) -> dict[str, Any]:
    """A person's first name (not blank), last name, phone and mobile."""
    values: dict[str, Any] = {}
    if input.first_name is not None:
        values["first_name"] = validation.required_text(input.first_name, "firstName", max_length=MAX_FIRST_NAME)
    return values | _texts(input, PERSON_TEXTS)


def company_names_and_phone(input: Any) -> dict[str, Any]:
    """A contact's display name (not blank), company name and phone."""
    values: dict[str, Any] = {}
    if input.display_name is not None:
        values["display_name"] = validation.required_text(
            input.display_name, "displayName", max_length=MAX_DISPLAY_NAME
        )
    return values | _texts(input, COMPANY_TEXTS)
