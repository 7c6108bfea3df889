"""organization.payment_instructions: how to pay other than online, shown on every invoice in the portal

Revision ID: 9b3c7d1e2f40
Revises: 7a41c9e2b5d8
Create Date: 2026-12-10 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9b3c7d1e2f40"
down_revision: str | None = "7a41c9e2b5d8"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("organization", sa.Column("payment_instructions", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("organization", "payment_instructions")
