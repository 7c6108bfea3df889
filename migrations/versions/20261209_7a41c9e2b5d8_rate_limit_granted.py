"""rate_limit_bucket.granted: the allowance the bucket's last take gave beyond the operation's cost

Revision ID: 7a41c9e2b5d8
Revises: 5d2f8a1c7e34
Create Date: 2026-12-09 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "7a41c9e2b5d8"
down_revision: str | None = "5d2f8a1c7e34"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("rate_limit_bucket", sa.Column("granted", sa.Float(), nullable=False, server_default="0"))


def downgrade() -> None:
    op.drop_column("rate_limit_bucket", "granted")
