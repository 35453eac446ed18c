"""The migrations build exactly the schema the models describe.

`compare_type` is on: Alembic compares a `TypeDecorator` column through its
`impl`, so the models' `ScaledDecimal` and `UTCDateTime` are checked against
the migration's `BigInteger` and `DateTime` as such. The drift test below
shows the comparison is not vacuous: it does catch a changed type.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, Integer, MetaData, String, func, select, table

from ledgerbridge.storage.migrate import current_revision, head_revision, upgrade
from ledgerbridge.storage.tables import Base
from ledgerbridge.wiring import Database


def _ours(name: str | None, type_: str, parent_names: Any) -> bool:
    """Procrastinate's tables (revision 0005) are not in our models."""
    return not (type_ == "table" and (name or "").startswith("procrastinate_"))


COMPARE_OPTIONS = {
    "compare_type": True,
    "compare_server_default": True,
    "include_name": _ours,
}


def _differences(engine: Engine, metadata: MetaData) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts=COMPARE_OPTIONS)
        return list(compare_metadata(context, metadata))


def _models_with(table_name: str, column: str, type_: Any) -> MetaData:
    """A copy of the models' metadata with one column's type changed."""
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for model_table in Base.metadata.sorted_tables:
        model_table.to_metadata(metadata)
    metadata.tables[table_name].c[column].type = type_
    return metadata


def test_upgrade_matches_models(database: Database) -> None:
    assert _differences(database.engine, Base.metadata) == []


def test_upgrade_comparison_catches_type_drift(database: Database) -> None:
    # `document.total` is `Cents()` (BigInteger at rest), `company.ref` a String.
    drifted = [
        _models_with("document", "total", Integer()),
        _models_with("company", "ref", String(65)),
    ]

    for metadata in drifted:
        differences = _differences(database.engine, metadata)
        assert [d[0][0] for d in differences] == ["modify_type"]


def test_upgrade_reaches_head(database: Database) -> None:
    head = head_revision(database.engine)

    assert head is not None
    assert current_revision(database.engine) == head
    assert database.is_current()


def test_upgrade_twice_is_a_no_op(database: Database) -> None:
    before = current_revision(database.engine)

    upgrade(database.engine)
    database.upgrade()

    assert current_revision(database.engine) == before
    assert _differences(database.engine, Base.metadata) == []
    with database.engine.connect() as connection:
        versions = connection.scalar(
            select(func.count()).select_from(table("alembic_version"))
        )
    assert versions == 1
