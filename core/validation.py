"""Input cleaning shared by mutations. Each failure is a ``DomainError`` naming the field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from email_validator import EmailNotValidError, validate_email

from core.errors import DomainError, invalid
from core.money import is_known_currency


def text(value: str | None, field: str, *, max_length: int, required: bool = False) -> str | None:
    """Strip ``value``; None or empty becomes None unless required."""
    cleaned = value.strip() if value is not None else None
    if not cleaned:
        if required:
            raise invalid(f"{field} must not be empty.", field)
        return None
    if len(cleaned) > max_length:
        raise invalid(f"{field} must be at most {max_length} characters.", field)
    if any(ord(ch) < 32 and ch not in "\n\t\r" for ch in cleaned):
        raise invalid(f"{field} contains control characters.", field)
    return cleaned


def required_text(value: str | None, field: str, *, max_length: int) -> str:
    cleaned = text(value, field, max_length=max_length, required=True)
    assert cleaned is not None
    return cleaned


def email(value: str | None, field: str = "email", *, code: str = "INVALID_EMAIL") -> str | None:
    """A syntactically valid address, lower-cased (no DNS lookups); None when empty."""
    if value is None or not value.strip():
        return None
    try:
        # test_environment: accept the reserved .test domain (demo data, staging); no DNS lookups either way
        return validate_email(value.strip(), check_deliverability=False, test_environment=True).normalized.lower()
    except EmailNotValidError:
        raise DomainError(code, "This is not a valid email address.", field) from None


def currency(value: str, field: str = "currency", *, code: str = "INVALID_CURRENCY") -> str:
    cleaned = value.strip().upper()
    if not is_known_currency(cleaned):
        raise DomainError(code, f"{value!r} is not an ISO 4217 currency code.", field)
    return cleaned


def decimal(
    value: Decimal | str,
    field: str,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    exclusive_minimum: bool = False,
) -> Decimal:
    try:
        number = Decimal(value)
    except (InvalidOperation, ValueError, TypeError):
        raise invalid(f"{field} must be a number.", field) from None
    if not number.is_finite():
        raise invalid(f"{field} must be a finite number.", field)
    if minimum is not None and (number < minimum or (exclusive_minimum and number == minimum)):
        bound = "greater than" if exclusive_minimum else "at least"
        raise invalid(f"{field} must be {bound} {minimum}.", field)
    if maximum is not None and number > maximum:
        raise invalid(f"{field} must be at most {maximum}.", field)
    return number
