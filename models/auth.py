from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, DateTime, Index, LargeBinary, String
from sqlalchemy.dialects.postgresql import INET
from sqlmodel import Field, SQLModel

from models.base import created_at, fk, pk, tenant, timestamp


class AuthSession(SQLModel, table=True):
    """A signed-in session of a staff user or a contact person. Only the token's SHA-256 is stored."""

    __tablename__ = "auth_session"

    id: int | None = pk()
    organization_id: int = tenant()
    staff_user_id: int | None = fk("staff_user.id", nullable=True)
    contact_person_id: int | None = fk("contact_person.id", nullable=True)
    token_hash: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False, unique=True))
    created_at: datetime = created_at()
    last_seen_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    revoked_at: datetime | None = timestamp()
    user_agent: str | None = Field(default=None, sa_column=Column(String(500)))
    ip_address: str | None = Field(default=None, sa_column=Column(INET))

    __table_args__ = (
        CheckConstraint("num_nonnulls(staff_user_id, contact_person_id) = 1", name="auth_session_one_subject"),
        Index("ix_auth_session_staff", "staff_user_id"),
        Index("ix_auth_session_contact_person", "contact_person_id"),
    )
