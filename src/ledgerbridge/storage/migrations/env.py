"""Alembic environment: always run through `ledgerbridge.storage.migrate`."""

from __future__ import annotations

from alembic import context

from ledgerbridge.storage.tables import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite rebuilds tables for ALTERs it lacks
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
