"""Shared pieces of the CLI commands: settings, the store and option parsing."""

from __future__ import annotations

from reforge.config import Settings, get_settings
from reforge.stages.selection import select_opts
from reforge.store.db import Store, open_store


def load_settings() -> Settings:
    """Return the settings from the environment and ``.env``."""
    return get_settings()


def open_default_store(settings: Settings) -> Store:
    """Open (and migrate) the configured database."""
    return open_store(settings.effective_database_url)


def parse_opts(value: str | None) -> list[str] | None:
    """Parse ``--opt O0,O2`` (also ``0,2``) into validated levels; None means all."""
    if not value:
        return None
    return select_opts([part.strip() for part in value.split(",") if part.strip()])
