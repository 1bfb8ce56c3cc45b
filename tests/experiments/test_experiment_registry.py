"""Tests of the experiment registry and its write-through store hook."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from reforge.experiments import ExperimentConfig, ExperimentRegistry


def _cfg(experiment_id: str, **changes: object) -> ExperimentConfig:
    return ExperimentConfig(id=experiment_id, model="openai/gpt-4o-mini", **changes)


class FakeStore:
    """An in-memory stand-in for the database side, recording every save."""

    def __init__(self, existing: list[ExperimentConfig] | None = None) -> None:
        self.rows = {cfg.id: cfg for cfg in existing or []}
        self.saves: list[list[str]] = []

    def save_experiments(self, configs: list[ExperimentConfig]) -> tuple[int, int]:
        self.saves.append([cfg.id for cfg in configs])
        created = sum(1 for cfg in configs if cfg.id not in self.rows)
        self.rows.update({cfg.id: cfg for cfg in configs})
        return created, len(configs) - created

    def load_experiments(self) -> list[ExperimentConfig]:
        return list(self.rows.values())


class FailingStore(FakeStore):
    def save_experiments(self, configs: list[ExperimentConfig]) -> tuple[int, int]:
        raise RuntimeError("database is down")


def test_register_reports_created_then_updated() -> None:
    registry = ExperimentRegistry()

    assert registry.register(_cfg("a")) is True
    assert registry.register(_cfg("a", temperature=0.5)) is False
    assert len(registry) == 1
    assert registry["a"].temperature == 0.5


def test_mapping_interface() -> None:
    registry = ExperimentRegistry()
    registry.register_many([_cfg("a"), _cfg("b")])

    assert "a" in registry
    assert "zzz" not in registry
    assert registry.get("zzz") is None
    assert registry.get("b").id == "b"
    assert list(registry) == ["a", "b"]
    assert [cfg.id for cfg in registry.values()] == ["a", "b"]
    with pytest.raises(KeyError):
        registry["zzz"]


def test_register_many_counts() -> None:
    registry = ExperimentRegistry()

    assert registry.register_many([_cfg("a"), _cfg("b")]) == (2, 0)
    assert registry.register_many([_cfg("a"), _cfg("b"), _cfg("c")]) == (1, 2)
    assert len(registry) == 3


def test_repeated_id_in_one_batch_counts_once() -> None:
    registry = ExperimentRegistry()

    assert registry.register_many([_cfg("a"), _cfg("a", temperature=1.0)]) == (1, 0)
    assert registry["a"].temperature == 1.0


def test_register_accepts_dicts() -> None:
    registry = ExperimentRegistry()

    assert registry.register({"id": "d", "model": "openai/gpt-4o", "context_level": "L1"})
    assert registry["d"].prompt_template_id == "function_naming_v2_L1"
    with pytest.raises(ValidationError, match="temperature"):
        registry.register({"id": "e", "model": "m", "temperature": 9})
    assert "e" not in registry


def test_timestamps_keep_first_registration() -> None:
    registry = ExperimentRegistry()
    registry.register(_cfg("a"))
    first = registry["a"]

    registry.register(_cfg("a", temperature=0.3))
    second = registry["a"]

    assert first.created_at is not None
    assert second.created_at == first.created_at
    assert second.updated_at is not None
    assert second.updated_at >= first.updated_at  # type: ignore[operator]


def test_attach_loads_store_contents() -> None:
    store = FakeStore(existing=[_cfg("stored")])
    registry = ExperimentRegistry()

    assert registry.attach(store) == 1
    assert "stored" in registry
    assert registry.store is store


def test_write_through_uses_store_counts() -> None:
    store = FakeStore(existing=[_cfg("old")])
    registry = ExperimentRegistry()
    registry.attach(store, load=False)

    counts = registry.register_many([_cfg("old"), _cfg("new")])

    assert counts == (1, 1)
    assert store.saves == [["old", "new"]]
    assert set(store.rows) == {"old", "new"}
    assert registry.register(_cfg("newer")) is True
    assert store.saves[-1] == ["newer"]


def test_failed_store_leaves_memory_unchanged() -> None:
    registry = ExperimentRegistry()
    registry.attach(FailingStore(), load=False)

    with pytest.raises(RuntimeError, match="database is down"):
        registry.register(_cfg("a"))
    assert "a" not in registry


def test_detach_stops_write_through() -> None:
    store = FakeStore()
    registry = ExperimentRegistry()
    registry.attach(store)
    registry.detach()

    registry.register(_cfg("a"))

    assert store.saves == []
    assert "a" in registry


def test_sync_saves_memory_contents() -> None:
    registry = ExperimentRegistry()
    registry.register_many([_cfg("a"), _cfg("b")])
    store = FakeStore()
    registry.attach(store)

    assert registry.sync() == (2, 0)
    assert set(store.rows) == {"a", "b"}


def test_attach_rejects_object_without_store_methods() -> None:
    with pytest.raises(TypeError, match="needs save_experiments"):
        ExperimentRegistry().attach(object())  # type: ignore[arg-type]


def test_registering_again_keeps_a_run_status() -> None:
    registry = ExperimentRegistry()
    registry.register(_cfg("done", status="completed"))
    registry.register(_cfg("done"))  # a matrix rebuilt in a notebook sends "ready"
    assert registry["done"].status == "completed"
    registry.register(_cfg("done", status="legacy"))
    assert registry["done"].status == "legacy"
    registry.register(_cfg("done"))
    assert registry["done"].status == "ready"
