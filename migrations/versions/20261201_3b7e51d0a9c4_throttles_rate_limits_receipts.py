"""single-use TOTP steps, rate-limit buckets, mutation receipts

Revision ID: 3b7e51d0a9c4
Revises: ffc015f94391
Create Date: 2026-12-01 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3b7e51d0a9c4"
down_revision: str | None = "ffc015f94391"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("staff_user", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    op.add_column("contact_person", sa.Column("totp_last_step", sa.BigInteger(), nullable=True))
    # UNLOGGED: a bucket is worthless after a crash, and skipping the WAL keeps one write per request cheap
    op.create_table(
        "rate_limit_bucket",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("tokens", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
        prefixes=["UNLOGGED"],
    )
    op.create_table(
        "mutation_receipt",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("operation", sa.String(length=60), nullable=False),
        sa.Column("client_key", sa.String(length=100), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("result_type", sa.String(length=40), nullable=True),
        sa.Column("result_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "subject", "operation", "client_key", name="uq_mutation_receipt_key"),
    )
    op.create_index("ix_mutation_receipt_created", "mutation_receipt", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_mutation_receipt_created", table_name="mutation_receipt")
    op.drop_table("mutation_receipt")
    op.drop_table("rate_limit_bucket")
    op.drop_column("contact_person", "totp_last_step")
    op.drop_column("staff_user", "totp_last_step")
