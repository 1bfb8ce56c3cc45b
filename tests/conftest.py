"""Shared fixtures: database back-ends, settings and a temporary data folder.

Store tests run on SQLite always and on PostgreSQL when a server answers at
127.0.0.1:5432 (database ``test``, trust auth); each PostgreSQL test gets a
schema of its own that is dropped afterwards. Set
``REFORGE_TEST_POSTGRES_URL`` to use another server, or to ``off`` to skip it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from reforge.config import Settings, reset_settings
from reforge.store.db import Store, open_store

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"


def _postgres_url() -> str | None:
    url = os.environ.get("REFORGE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    if url.lower() == "off":
        return None
    try:
        with psycopg.connect(url, connect_timeout=3):
            return url
    except psycopg.Error:
        return None


POSTGRES_URL = _postgres_url()
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def pytest_report_header(config: pytest.Config) -> str:
    """Say which database back-ends the store tests use."""
    if POSTGRES_URL:
        return "reforge store back-ends: sqlite and postgresql (127.0.0.1:5432)"
    return "reforge store back-ends: sqlite only (PostgreSQL not reachable)"


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """Create a fresh schema on the PostgreSQL server and yield a URL that uses it."""
    assert POSTGRES_URL is not None
    schema = f"reforge_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    url = POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL on each available back-end, migrated and empty."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    with postgres_schema_url() as url:
        yield url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated, empty store on each available back-end."""
    opened = open_store(store_url)
    try:
        yield opened
    finally:
        opened.dispose()


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings whose data folder and SQLite database live in `tmp_path`."""
    data_dir = tmp_path / "reforge-data"
    monkeypatch.setenv("REFORGE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("REFORGE_DATABASE_URL", raising=False)
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    monkeypatch.delenv("REFORGE_LLM_BASE_URL", raising=False)
    reset_settings()
    yield Settings(data_dir=data_dir)
    reset_settings()
