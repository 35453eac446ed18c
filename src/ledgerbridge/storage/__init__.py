"""Persistence: SQLAlchemy tables, repositories and Alembic migrations.

SQLite in a data folder by default, PostgreSQL when configured; the same
migrations and the same tests run on both.
"""
