"""Experiments in the store: upserts, status changes and the registry's persistence."""

from __future__ import annotations

import pytest

from reforge.errors import NotFoundError
from reforge.experiments import ExperimentConfig, ExperimentRegistry, build_benchmark_matrix
from reforge.store.db import Store
from reforge.store.experiments import (
    ExperimentStore,
    get_experiment,
    list_experiments,
    set_status,
    upsert_experiments,
)
from reforge.store.models import Experiment


def _matrix() -> list[ExperimentConfig]:
    return build_benchmark_matrix(
        models=["gpt4o-mini", "claude35sonnet"], tiers=["GOLD"], opts=["O0"], context_levels=["L0"]
    )


def test_upsert_counts(store: Store) -> None:
    matrix = _matrix()
    with store.session() as session:
        assert upsert_experiments(session, matrix) == (2, 0)
    with store.session() as session:
        assert upsert_experiments(session, matrix) == (0, 0)
        changed = [matrix[0].replace(description="changed"), matrix[1]]
        assert upsert_experiments(session, changed) == (0, 1)


def test_row_columns_follow_config(store: Store) -> None:
    config = _matrix()[1]
    with store.session() as session:
        upsert_experiments(session, [config])
    with store.session() as session:
        row = session.get(Experiment, config.id)
        assert row.model == "anthropic/claude-3.5-sonnet"
        assert row.provider == config.provider
        assert row.tags == config.tags
        assert row.config == config.model_dump(mode="json")


def test_get_and_list(store: Store) -> None:
    matrix = _matrix()
    with store.session() as session:
        upsert_experiments(session, matrix)
    with store.session() as session:
        assert get_experiment(session, matrix[0].id) == matrix[0]
        assert [c.id for c in list_experiments(session)] == sorted(c.id for c in matrix)
        with pytest.raises(NotFoundError, match="bench_nobody"):
            get_experiment(session, "bench_nobody")


def test_set_status(store: Store) -> None:
    config = _matrix()[0]
    with store.session() as session:
        upsert_experiments(session, [config])
        set_status(session, config.id, "completed")
    with store.session() as session:
        assert session.get(Experiment, config.id).status == "completed"
        assert get_experiment(session, config.id).status == "completed"
        with pytest.raises(NotFoundError):
            set_status(session, "bench_nobody", "running")


def test_registry_persists(store: Store) -> None:
    registry = ExperimentRegistry()
    registry.attach(ExperimentStore(store))
    registry.register_many(_matrix())
    loaded = ExperimentStore(store).load_experiments()
    assert sorted(c.id for c in loaded) == sorted(c.id for c in _matrix())


def test_registering_again_keeps_run_status(store: Store) -> None:
    done, running = _matrix()
    with store.session() as session:
        upsert_experiments(session, [done, running])
        set_status(session, done.id, "completed")
        set_status(session, running.id, "running")
    with store.session() as session:
        # The matrix sends "ready". The stored run states win, so nothing counts as changed.
        assert upsert_experiments(session, [done, running]) == (0, 0)
        assert get_experiment(session, done.id).status == "completed"
        assert session.get(Experiment, running.id).status == "running"
        # An explicit retirement still applies.
        assert upsert_experiments(session, [done.replace(status="legacy")]) == (0, 1)
        assert get_experiment(session, done.id).status == "legacy"
