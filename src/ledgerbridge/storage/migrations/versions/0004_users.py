"""users, their companies and their sign-in sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 18:40:11.717132
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "app_user_company",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("company_ref", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_app_user_company_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "user_id", "company_ref", name=op.f("pk_app_user_company")
        ),
    )
    op.create_table(
        "app_session",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_app_session_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_session")),
    )
    with op.batch_alter_table("app_session", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_app_session_user_id"), ["user_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("app_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_app_session_user_id"))

    op.drop_table("app_session")
    op.drop_table("app_user_company")
    op.drop_table("app_user")
