"""Procrastinate's job queue schema (PostgreSQL only)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 19:40:00

The schema SQL shipped in the installed procrastinate package (3.10), or the
package's migration files the database lacks; nothing on SQLite. See
`ledgerbridge.jobs.schema`. Its objects (`procrastinate_*`) are not in our
models.
"""

from __future__ import annotations

from alembic import op

from ledgerbridge.jobs import schema

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    schema.bring_up_to_date(op.get_bind())


def downgrade() -> None:
    schema.drop(op.get_bind())
