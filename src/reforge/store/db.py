"""Database engines, sessions and schema migrations.

`open_store(url)` returns a `Store` whose schema is migrated to the newest
Alembic revision; the same code runs on SQLite and PostgreSQL::

    store = open_store("sqlite:///reforge-data/reforge.sqlite")
    with store.session() as session:
        ...

SQLAlchemy errors raised while connecting or migrating are translated into
`reforge.errors.StoreError` here; errors inside a caller's session propagate
unchanged so the caller's transaction logic stays visible.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from reforge.errors import StoreError

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

_migrate_lock = threading.Lock()


@dataclass(slots=True)
class Store:
    """A migrated database: its engine and a session factory."""

    url: str
    engine: Engine
    session_factory: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        """The SQLAlchemy dialect name, ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Open a session that commits on success and rolls back on error."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API server read while a stage writes; foreign keys are off
    # by default in SQLite and the schema relies on ON DELETE CASCADE.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """Create an engine for `url`, creating the SQLite file's folder if needed."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(
            f"invalid database URL {url!r}: {exc}; "
            "use sqlite:///path/to/file.sqlite or postgresql+psycopg://user@host/db"
        ) from exc
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    return create_engine(parsed, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine) -> Config:
    """Return an Alembic configuration that migrates `engine` with the packaged scripts."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Upgrade the schema of `engine` to the newest revision."""
    with _migrate_lock:
        command.upgrade(alembic_config(engine), "head")


def open_store(url: str, *, migrate_schema: bool = True) -> Store:
    """Connect to `url`, migrate its schema and return the store."""
    engine = create_store_engine(url)
    try:
        if migrate_schema:
            migrate(engine)
    except OperationalError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the database {engine.url.render_as_string(hide_password=True)!r}: "
            f"{exc.orig}; check REFORGE_DATABASE_URL and that the server is running"
        ) from exc
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"migrating the database schema failed: {exc}") from exc
    factory = sessionmaker(engine, expire_on_commit=False)
    logger.debug("opened store %s", engine.url.render_as_string(hide_password=True))
    return Store(url=url, engine=engine, session_factory=factory)


def table_names(engine: Engine) -> list[str]:
    """Return the table names present in the database."""
    return sorted(inspect(engine).get_table_names())
