"""activity.actor_name: the actor's name as it was when the entry was written

Revision ID: 5d2f8a1c7e34
Revises: 3b7e51d0a9c4
Create Date: 2026-12-08 10:00:00+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "5d2f8a1c7e34"
down_revision: str | None = "3b7e51d0a9c4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("activity", sa.Column("actor_name", sa.Text(), nullable=True))
    # the entries written so far get the names they were read with until now (the join on the actor's row)
    op.execute(
        """
        UPDATE activity SET actor_name = coalesce(
            (SELECT name FROM staff_user WHERE staff_user.id = activity.actor_staff_id),
            (SELECT concat_ws(' ', first_name, last_name) FROM contact_person
              WHERE contact_person.id = activity.actor_contact_person_id)
        )
        WHERE actor_staff_id IS NOT NULL OR actor_contact_person_id IS NOT NULL
        """
    )


def downgrade() -> None:
    op.drop_column("activity", "actor_name")
