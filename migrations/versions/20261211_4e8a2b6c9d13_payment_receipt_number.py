"""payment.receipt_number: a per-organization, gap-free receipt number for each online payment that succeeds

Revision ID: 4e8a2b6c9d13
Revises: 9b3c7d1e2f40
Create Date: 2026-12-11 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "4e8a2b6c9d13"
down_revision: str | None = "9b3c7d1e2f40"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("payment", sa.Column("receipt_number", sa.String(20), nullable=True))
    op.create_index(
        "uq_payment_receipt_number",
        "payment",
        ["organization_id", "receipt_number"],
        unique=True,
        postgresql_where=sa.text("receipt_number IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_payment_receipt_number", table_name="payment")
    op.drop_column("payment", "receipt_number")
