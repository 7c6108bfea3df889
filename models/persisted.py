from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Text
from sqlmodel import Field, SQLModel

from models.base import created_at


class PersistedQuery(SQLModel, table=True):
    """Documents registered at run time through Automatic Persisted Queries (outside allow-list mode)."""

    __tablename__ = "persisted_query"

    sha256: str = Field(sa_column=Column(String(64), primary_key=True))
    document: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = created_at()
