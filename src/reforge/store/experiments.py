"""Experiments in the store: `ExperimentConfig` rows and the registry's persistence.

`ExperimentStore` implements what `reforge.experiments.REGISTRY.attach()`
expects (`save_experiments`, `load_experiments`), so a registry attached to a
store writes every registered config to the database::

    REGISTRY.attach(ExperimentStore(store))
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reforge.errors import NotFoundError
from reforge.experiments import ExperimentConfig
from reforge.experiments.config import kept_status
from reforge.store.db import Store
from reforge.store.models import Experiment


def config_from_row(row: Experiment) -> ExperimentConfig:
    """Rebuild the config stored in one row."""
    return ExperimentConfig.model_validate(row.config)


def upsert_experiments(session: Session, configs: Sequence[ExperimentConfig]) -> tuple[int, int]:
    """Insert new configs and update changed ones; return (created, updated).

    An existing row keeps a run status as `kept_status` decides.
    """
    created = updated = 0
    for incoming in configs:
        row = session.get(Experiment, incoming.id)
        if row is None:
            session.add(_new_row(incoming, incoming.model_dump(mode="json")))
            created += 1
            continue
        status = kept_status(row.status, incoming.status)
        config = incoming.model_copy(update={"status": status})
        data: dict[str, Any] = config.model_dump(mode="json")
        if row.config != data:
            _update_row(row, config, data)
            updated += 1
    session.flush()
    return created, updated


def _new_row(config: ExperimentConfig, data: dict[str, Any]) -> Experiment:
    row = Experiment(id=config.id)
    _update_row(row, config, data)
    return row


def _update_row(row: Experiment, config: ExperimentConfig, data: dict[str, Any]) -> None:
    row.name = config.name
    row.description = config.description
    row.task = config.task
    row.status = config.status
    row.tags = list(config.tags)
    row.model = config.model
    row.provider = config.provider
    row.config = data


def get_experiment(session: Session, experiment_id: str) -> ExperimentConfig:
    """Return one stored config; raise NotFoundError naming the id."""
    row = session.get(Experiment, experiment_id)
    if row is None:
        raise NotFoundError(
            f"experiment {experiment_id!r} not found; register it with POST /data/experiments "
            "or build_benchmark_matrix(register=True)"
        )
    return config_from_row(row)


def list_experiments(session: Session) -> list[ExperimentConfig]:
    """Return every stored config ordered by id."""
    rows = session.scalars(select(Experiment).order_by(Experiment.id))
    return [config_from_row(row) for row in rows]


def set_status(session: Session, experiment_id: str, status: str) -> None:
    """Set the status of one stored experiment (and inside its stored config)."""
    row = session.get(Experiment, experiment_id)
    if row is None:
        raise NotFoundError(f"experiment {experiment_id!r} not found")
    row.status = status
    row.config = {**row.config, "status": status}


class ExperimentStore:
    """Persistence of the experiment registry in a reforge store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def save_experiments(self, configs: list[ExperimentConfig]) -> tuple[int, int]:
        """Write configs; return (created, updated)."""
        with self._store.session() as session:
            return upsert_experiments(session, configs)

    def load_experiments(self) -> list[ExperimentConfig]:
        """Read every stored config."""
        with self._store.session() as session:
            return list_experiments(session)
