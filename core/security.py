"""Password hashing (Argon2id) and opaque tokens (random, stored as SHA-256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import Settings

TOKEN_BYTES = 32


@lru_cache(maxsize=4)
def _hasher(memory_kib: int, time_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(memory_cost=memory_kib, time_cost=time_cost, parallelism=parallelism, type=Type.ID)


def password_hasher(settings: Settings) -> PasswordHasher:
    return _hasher(settings.argon2_memory_kib, settings.argon2_time_cost, settings.argon2_parallelism)


def hash_password(settings: Settings, password: str) -> str:
    """Argon2id hash of ``password`` with the configured parameters."""
    return password_hasher(settings).hash(password)


def verify_password(settings: Settings, password_hash: str | None, password: str) -> bool:
    """Check ``password``; with no hash, spend the same time so unknown users cannot be told apart."""
    hasher = password_hasher(settings)
    if not password_hash:
        hasher.hash(password)
        return False
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    return password_hasher(settings).check_needs_rehash(password_hash)


def new_token() -> str:
    """A URL-safe token carrying 32 random bytes."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_digest(token: str) -> bytes:
    """What the database stores of a token: its SHA-256."""
    return hashlib.sha256(token.encode()).digest()


def csrf_token_for(session_token: str) -> str:
    """The CSRF token of a cookie session: an HMAC keyed by the session's own secret token, so a token works only
    with the session it was issued for, and knowing it reveals nothing of the session (signed double submit)."""
    mac = hmac.new(session_token.encode(), b"portico-csrf-v1", hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")
