"""runs and payments import

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 18:15:29.415006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "payment_import_state",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("division", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_payment_import_state_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_payment_import_state")),
    )
    op.create_table(
        "payment_term",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("exact_id", sa.String(length=36), nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("line_type", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("last_payment_on", sa.Date(), nullable=True),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_payment_term_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_term")),
        sa.UniqueConstraint(
            "company_id", "exact_id", name=op.f("uq_payment_term_company_id_exact_id")
        ),
    )
    with op.batch_alter_table("payment_term", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_term_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_term_entry_id"), ["entry_id"], unique=False
        )

    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=20), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("trigger", sa.String(length=10), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("documents", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("linked", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("payments", sa.Integer(), nullable=False),
        sa.Column("already_done", sa.Integer(), nullable=False),
        sa.Column("exact_calls", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_run_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run")),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(
            "ix_run_active_company",
            ["company_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )
        batch_op.create_index(
            batch_op.f("ix_run_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "terms_acceptance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("accepted_by", sa.String(length=200), nullable=False),
        sa.Column("accepted_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_terms_acceptance_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_terms_acceptance")),
    )
    with op.batch_alter_table("terms_acceptance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_terms_acceptance_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "daily_run_claim",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("flow", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_daily_run_claim_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
            name=op.f("fk_daily_run_claim_run_id_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "flow", "day", name=op.f("pk_daily_run_claim")
        ),
    )
    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("emailed_at", sa.DateTime(), nullable=True),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_notice_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
            name=op.f("fk_notice_run_id_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notice_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "run_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("entry_number", sa.Integer(), nullable=True),
        sa.Column("entry_id", sa.String(length=36), nullable=True),
        sa.Column("reason_code", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("exact_message", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_run_document_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["run.id"],
            name=op.f("fk_run_document_run_id_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_document")),
        sa.UniqueConstraint(
            "run_id", "document_id", name=op.f("uq_run_document_run_id_document_id")
        ),
    )
    with op.batch_alter_table("run_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_run_document_document_id"), ["document_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_run_document_run_id"), ["run_id"], unique=False
        )

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("booking_code", sa.String(length=40), nullable=True)
        )
        batch_op.add_column(
            sa.Column("booking_exact_message", sa.Text(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("booking_fingerprint", sa.String(length=64), nullable=True)
        )
        batch_op.add_column(
            sa.Column("booking_pending_since", sa.DateTime(), nullable=True)
        )
        batch_op.add_column(
            sa.Column("booking_journal", sa.String(length=20), nullable=True)
        )
        batch_op.add_column(sa.Column("booked_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("exact_document_id", sa.String(length=36), nullable=True)
        )

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_payment_company_id_exact_reference"),
            ["company_id", "exact_reference"],
        )


def downgrade() -> None:

    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_payment_company_id_exact_reference"), type_="unique"
        )

    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_column("exact_document_id")
        batch_op.drop_column("booked_at")
        batch_op.drop_column("booking_journal")
        batch_op.drop_column("booking_pending_since")
        batch_op.drop_column("booking_fingerprint")
        batch_op.drop_column("booking_exact_message")
        batch_op.drop_column("booking_code")

    with op.batch_alter_table("run_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_document_run_id"))
        batch_op.drop_index(batch_op.f("ix_run_document_document_id"))

    op.drop_table("run_document")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_company_id"))

    op.drop_table("notice")
    op.drop_table("daily_run_claim")
    with op.batch_alter_table("terms_acceptance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_terms_acceptance_company_id"))

    op.drop_table("terms_acceptance")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_company_id"))
        batch_op.drop_index(
            "ix_run_active_company",
            sqlite_where=sa.text("status IN ('queued', 'running')"),
            postgresql_where=sa.text("status IN ('queued', 'running')"),
        )

    op.drop_table("run")
    with op.batch_alter_table("payment_term", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_term_entry_id"))
        batch_op.drop_index(batch_op.f("ix_payment_term_company_id"))

    op.drop_table("payment_term")
    op.drop_table("payment_import_state")
