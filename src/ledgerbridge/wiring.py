"""The one place that builds concrete adapters from settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from ledgerbridge.settings import Settings
from ledgerbridge.storage import migrate
from ledgerbridge.storage.database import make_engine, make_session_factory


@dataclass(frozen=True, slots=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    def is_current(self) -> bool:
        return migrate.current_revision(self.engine) == migrate.head_revision(
            self.engine
        )

    def upgrade(self) -> None:
        migrate.upgrade(self.engine)


def open_database(settings: Settings) -> Database:
    engine = make_engine(settings.effective_database_url)
    return Database(engine, make_session_factory(engine))
