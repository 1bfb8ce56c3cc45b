"""Alembic environment: runs migrations on the engine handed over by `reforge.store.db`."""

from __future__ import annotations

from alembic import context

from reforge.store.models import Base

target_metadata = Base.metadata


def run_migrations() -> None:
    """Run the migrations on the engine stored in the Alembic config attributes."""
    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        context.run_migrations()


run_migrations()
