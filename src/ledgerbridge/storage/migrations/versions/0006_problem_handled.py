"""who marked a failed document as handled, and when

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 10:45:00

*Mark as handled* on the History screen: the failed outcome (`run_document`)
keeps who handled it and when, so it leaves the open problems and stays in
the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("run_document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handled_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("handled_by", sa.String(length=64), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("run_document", schema=None) as batch_op:
        batch_op.drop_column("handled_by")
        batch_op.drop_column("handled_at")
