"""Column helpers shared by every table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Identity, Numeric, func
from sqlmodel import Field

MONEY = Numeric(20, 4)  # amounts are quantized to the currency's minor unit in code; 4 places fit any ISO currency
QUANTITY = Numeric(14, 4)
PERCENT = Numeric(7, 4)


def utcnow() -> datetime:
    return datetime.now(UTC)


def pk() -> Any:
    return Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))


def fk(target: str, *, nullable: bool = False, index: bool = False, ondelete: str | None = "CASCADE") -> Any:
    return Field(
        default=None,
        sa_column=Column(BigInteger, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index),
    )


def tenant() -> Any:
    """Every tenant table carries the organization it belongs to."""
    return Field(sa_column=Column(BigInteger, ForeignKey("organization.id", ondelete="CASCADE"), nullable=False))


def created_at() -> Any:
    return Field(
        default_factory=utcnow,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def timestamp(*, nullable: bool = True) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


def money(*, default: Any = None, nullable: bool = False) -> Any:
    server_default = None if nullable else "0"
    return Field(default=default, sa_column=Column(MONEY, nullable=nullable, server_default=server_default))
