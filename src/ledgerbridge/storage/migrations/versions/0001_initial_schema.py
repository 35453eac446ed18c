"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-12-03 16:06:15.455638
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_key")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_key_prefix")),
    )
    op.create_table(
        "company",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("vat_number", sa.String(length=20), nullable=False),
        sa.Column("base_currency", sa.String(length=3), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_company")),
        sa.UniqueConstraint("ref", name=op.f("uq_company_ref")),
    )
    op.create_table(
        "accounting_settings",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("sales_enabled", sa.Boolean(), nullable=False),
        sa.Column("sales_daily", sa.Boolean(), nullable=False),
        sa.Column("sales_daily_at", sa.String(length=5), nullable=False),
        sa.Column("sales_journal", sa.String(length=20), nullable=True),
        sa.Column("sales_credit_note_journal", sa.String(length=20), nullable=True),
        sa.Column("sales_default_gl_account", sa.String(length=20), nullable=True),
        sa.Column("sales_create_missing", sa.Boolean(), nullable=False),
        sa.Column("sales_attach_pdf", sa.Boolean(), nullable=False),
        sa.Column("purchase_enabled", sa.Boolean(), nullable=False),
        sa.Column("purchase_daily", sa.Boolean(), nullable=False),
        sa.Column("purchase_daily_at", sa.String(length=5), nullable=False),
        sa.Column("purchase_journal", sa.String(length=20), nullable=True),
        sa.Column("purchase_credit_note_journal", sa.String(length=20), nullable=True),
        sa.Column("purchase_default_gl_account", sa.String(length=20), nullable=True),
        sa.Column("purchase_create_missing", sa.Boolean(), nullable=False),
        sa.Column("purchase_attach_pdf", sa.Boolean(), nullable=False),
        sa.Column("payments_enabled", sa.Boolean(), nullable=False),
        sa.Column("payments_daily", sa.Boolean(), nullable=False),
        sa.Column("payments_daily_at", sa.String(length=5), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_accounting_settings_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("company_id", name=op.f("pk_accounting_settings")),
    )
    op.create_table(
        "api_key_company",
        sa.Column("api_key_id", sa.Integer(), nullable=False),
        sa.Column("company_ref", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"],
            ["api_key.id"],
            name=op.f("fk_api_key_company_api_key_id_api_key"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "api_key_id", "company_ref", name=op.f("pk_api_key_company")
        ),
    )
    op.create_table(
        "party",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vat_number", sa.String(length=20), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("postal_code", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=100), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("exact_code", sa.String(length=18), nullable=True),
        sa.Column("gl_account", sa.String(length=20), nullable=True),
        sa.Column("vat_scenario", sa.String(length=32), nullable=True),
        sa.Column("cost_centre", sa.String(length=8), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_party_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party")),
        sa.UniqueConstraint(
            "company_id", "role", "ref", name=op.f("uq_party_company_id_role_ref")
        ),
    )
    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_party_company_id"), ["company_id"], unique=False
        )

    op.create_table(
        "vat_code_mapping",
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("scenario", sa.String(length=32), nullable=False),
        sa.Column("vat_code", sa.String(length=3), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_vat_code_mapping_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "company_id", "side", "scenario", name=op.f("pk_vat_code_mapping")
        ),
    )
    op.create_table(
        "document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("ref", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=12), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("party_id", sa.Integer(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exchange_rate", sa.BigInteger(), nullable=True),
        sa.Column("payment_reference", sa.String(length=64), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("validated", sa.Boolean(), nullable=False),
        sa.Column("expected_total", sa.BigInteger(), nullable=True),
        sa.Column("net_total", sa.BigInteger(), nullable=False),
        sa.Column("vat_total", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("booking_status", sa.String(length=24), nullable=False),
        sa.Column("booking_entry_number", sa.Integer(), nullable=True),
        sa.Column("booking_entry_id", sa.String(length=36), nullable=True),
        sa.Column("booking_reason", sa.Text(), nullable=True),
        sa.Column("payment_status", sa.String(length=12), nullable=False),
        sa.Column("paid_amount", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_document_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["party.id"], name=op.f("fk_document_party_id_party")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
        sa.UniqueConstraint(
            "company_id", "side", "ref", name=op.f("uq_document_company_id_side_ref")
        ),
        sa.UniqueConstraint(
            "party_id", "number", name=op.f("uq_document_party_id_number")
        ),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_document_issue_date"), ["issue_date"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_document_party_id"), ["party_id"], unique=False
        )

    op.create_table(
        "document_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("discount_percent", sa.BigInteger(), nullable=False),
        sa.Column("vat_scenario", sa.String(length=32), nullable=False),
        sa.Column("gl_account", sa.String(length=20), nullable=True),
        sa.Column("net", sa.BigInteger(), nullable=False),
        sa.Column("vat", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_document_line_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_line")),
    )
    with op.batch_alter_table("document_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_line_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "document_pdf",
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_document_pdf_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("document_id", name=op.f("pk_document_pdf")),
    )
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("exact_reference", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["company.id"],
            name=op.f("fk_payment_company_id_company"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["document.id"],
            name=op.f("fk_payment_document_id_document"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
    )
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_document_id"), ["document_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("payment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_document_id"))
        batch_op.drop_index(batch_op.f("ix_payment_company_id"))

    op.drop_table("payment")
    op.drop_table("document_pdf")
    with op.batch_alter_table("document_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_line_document_id"))

    op.drop_table("document_line")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_party_id"))
        batch_op.drop_index(batch_op.f("ix_document_issue_date"))
        batch_op.drop_index(batch_op.f("ix_document_company_id"))

    op.drop_table("document")
    op.drop_table("vat_code_mapping")
    with op.batch_alter_table("party", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_party_company_id"))

    op.drop_table("party")
    op.drop_table("api_key_company")
    op.drop_table("accounting_settings")
    op.drop_table("company")
    op.drop_table("api_key")
