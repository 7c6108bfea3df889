"""The password policy, and hashing a new password that meets it."""

from __future__ import annotations

import asyncio

from core.errors import DomainError
from core.security import hash_password
from core.settings import Settings

PASSWORD_MIN = 10


PASSWORD_MAX = 128


PASSWORD_POLICY = (
    f"Passwords need {PASSWORD_MIN} to {PASSWORD_MAX} characters and must not be the email address "
    "(or the part of it before the @)."
)


def check_password_policy(password: str, email: str | None, field: str = "password") -> None:
    """Raise PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG or PASSWORD_MATCHES_EMAIL."""
    if len(password) < PASSWORD_MIN:
        raise DomainError("PASSWORD_TOO_SHORT", PASSWORD_POLICY, field)
    if len(password) > PASSWORD_MAX:
        raise DomainError("PASSWORD_TOO_LONG", PASSWORD_POLICY, field)
    if email:
        lowered = password.strip().lower()
        if lowered in (email.lower(), email.lower().split("@")[0]):
            raise DomainError("PASSWORD_MATCHES_EMAIL", PASSWORD_POLICY, field)


async def hash_new_password(settings: Settings, password: str, email: str | None, field: str = "password") -> str:
    """The Argon2id hash of a new ``password`` that meets the policy (hashed off the event loop)."""
    check_password_policy(password, email, field)
    return await asyncio.to_thread(hash_password, settings, password)
