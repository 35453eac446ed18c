"""Procrastinate's tables and functions, applied by our own migrations.

Procrastinate ships its schema as SQL inside the package: `schema.sql` (the
whole schema of the installed version) and `sql/migrations/*.sql` (one file
per change since its first release, named so that they sort in order:
`03.04.00_50_post_add_retry_failed_job_procedure.sql`). Alembic revision
0005 calls `bring_up_to_date`, so `ledgerbridge db upgrade` creates the
schema with ours; on SQLite it does nothing (Procrastinate is PostgreSQL
only).

Which of those files a database has is written on `procrastinate_jobs` as a
comment (`MARK`, then the newest file's name). A database without the table
gets `schema.sql` and the mark of the newest file; one with the mark gets
the files after it, in order. After raising the procrastinate pin, add a
revision whose `upgrade()` calls `bring_up_to_date(op.get_bind())` again
(`test_procrastinate_schema_is_the_installed_version` fails until one does).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sqlalchemy import Connection

MARK = "ledgerbridge: procrastinate schema at "
TABLE = "procrastinate_jobs"
PREFIX = "procrastinate_"


def shipped_migrations() -> list[str]:
    """The installed package's migration files, oldest first."""
    folder = Path(str(resources.files("procrastinate.sql") / "migrations"))
    return sorted(path.name for path in folder.glob("*.sql"))


def newest_migration() -> str:
    return shipped_migrations()[-1]


def applied_mark(connection: Connection) -> str | None:
    """The newest migration file the database has, None when it has no
    Procrastinate schema (or a schema applied by hand, without a mark)."""
    comment = connection.exec_driver_sql(
        "SELECT obj_description(to_regclass(%(table)s), 'pg_class')",
        {"table": TABLE},
    ).scalar()
    if not isinstance(comment, str) or not comment.startswith(MARK):
        return None
    return comment.removeprefix(MARK)


def has_schema(connection: Connection) -> bool:
    found = connection.exec_driver_sql(
        "SELECT to_regclass(%(table)s)", {"table": TABLE}
    ).scalar()
    return found is not None


def bring_up_to_date(connection: Connection) -> list[str]:
    """Apply Procrastinate's schema, or the migrations the database lacks;
    what was applied ("schema.sql" or file names). Nothing on SQLite."""
    if connection.dialect.name != "postgresql":
        return []

    newest = newest_migration()
    if not has_schema(connection):
        _run(connection, _sql("schema.sql"))
        _mark(connection, newest)
        return ["schema.sql"]

    mark = applied_mark(connection)
    if mark is None:
        # Applied by hand (`procrastinate schema --apply`) with this version.
        _mark(connection, newest)
        return []

    pending = [name for name in shipped_migrations() if name > mark]
    for name in pending:
        _run(connection, _sql(f"migrations/{name}"))
    if pending:
        _mark(connection, newest)
    return pending


def drop(connection: Connection) -> None:
    """Remove every Procrastinate object (the downgrade of revision 0005)."""
    if connection.dialect.name != "postgresql":
        return
    like = f"{PREFIX}%"
    tables = (
        connection.exec_driver_sql(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
            "AND tablename LIKE %(like)s",
            {"like": like},
        )
        .scalars()
        .all()
    )
    for table in tables:
        connection.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
    functions = (
        connection.exec_driver_sql(
            "SELECT p.oid::regprocedure::text FROM pg_proc p "
            "JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = current_schema() AND p.proname LIKE %(like)s",
            {"like": like},
        )
        .scalars()
        .all()
    )
    for function in functions:
        connection.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function} CASCADE")
    types = (
        connection.exec_driver_sql(
            "SELECT t.typname FROM pg_type t "
            "JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE n.nspname = current_schema() AND t.typname LIKE %(like)s "
            "AND t.typtype IN ('e', 'c')",
            {"like": like},
        )
        .scalars()
        .all()
    )
    for type_name in types:
        connection.exec_driver_sql(f'DROP TYPE IF EXISTS "{type_name}" CASCADE')


def _sql(name: str) -> str:
    return (resources.files("procrastinate.sql") / name).read_text(encoding="utf-8")


def _run(connection: Connection, sql: str) -> None:
    # Straight to psycopg, without parameters: the SQL holds `%` signs and
    # several statements, which only the simple query protocol takes as is.
    connection.connection.driver_connection.execute(sql)  # type: ignore[union-attr]


def _mark(connection: Connection, name: str) -> None:
    # COMMENT takes a literal only; the name comes from the package's files.
    literal = (MARK + name).replace("'", "''")
    connection.exec_driver_sql(f"COMMENT ON TABLE {TABLE} IS '{literal}'")
