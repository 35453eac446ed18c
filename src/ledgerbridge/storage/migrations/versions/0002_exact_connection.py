"""exact connection: a company's Exact Online tokens and last rate limits

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 16:56:20.560762
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "exact_connection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("base_url", sa.String(length=200), nullable=False),
        sa.Column("division", sa.Integer(), nullable=True),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("refresh_token", sa.Text(), nullable=True),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("needs_sign_in", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("daily_limit", sa.Integer(), nullable=True),
        sa.Column("daily_remaining", sa.Integer(), nullable=True),
        sa.Column("daily_reset", sa.DateTime(), nullable=True),
        sa.Column("minutely_limit", sa.Integer(), nullable=True),
        sa.Column("minutely_remaining", sa.Integer(), nullable=True),
        sa.Column("minutely_reset", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_exact_connection_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exact_connection")),
        sa.UniqueConstraint("company_id", name=op.f("uq_exact_connection_company_id")),
    )


def downgrade() -> None:
    op.drop_table("exact_connection")
