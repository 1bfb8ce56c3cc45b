"""The in-process experiment registry, optionally written through to a store.

`REGISTRY` maps experiment id to `ExperimentConfig` and behaves like a
read-only dict; `register` and `register_many` add or replace configs::

    created = REGISTRY.register(cfg)                  # True when the id was new
    created, updated = REGISTRY.register_many(configs)

Persistence is a hook: `attach(store)` takes any object with
``save_experiments(configs) -> (created, updated)`` and
``load_experiments() -> configs`` (see `ExperimentPersistence`), loads what the store
holds, and from then on every registration is saved to the store first and
mirrored in memory only after the save succeeded.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from reforge.experiments.config import ExperimentConfig, kept_status

logger = logging.getLogger(__name__)


@runtime_checkable
class ExperimentPersistence(Protocol):
    """Interface of the persistent experiment store that the registry writes through to."""

    def save_experiments(self, configs: list[ExperimentConfig]) -> tuple[int, int]:
        """Insert or update `configs`; return (created, updated) counts."""
        ...

    def load_experiments(self) -> list[ExperimentConfig]:
        """Return every stored experiment."""
        ...


class ExperimentRegistry(Mapping[str, ExperimentConfig]):
    """Experiment id -> config, safe to use from several threads."""

    def __init__(self) -> None:
        self._configs: dict[str, ExperimentConfig] = {}
        self._store: ExperimentPersistence | None = None
        self._lock = threading.RLock()

    def __getitem__(self, experiment_id: str) -> ExperimentConfig:
        with self._lock:
            return self._configs[experiment_id]

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._configs))

    def __len__(self) -> int:
        with self._lock:
            return len(self._configs)

    def __repr__(self) -> str:
        store = type(self._store).__name__ if self._store is not None else "none"
        return f"<ExperimentRegistry experiments={len(self)} store={store}>"

    @property
    def store(self) -> ExperimentPersistence | None:
        """The attached store, or None."""
        return self._store

    def register(self, config: ExperimentConfig | Mapping[str, Any]) -> bool:
        """Add or replace one config; return True when its id was new."""
        created, _ = self.register_many([config])
        return created == 1

    def register_many(
        self, configs: Iterable[ExperimentConfig | Mapping[str, Any]]
    ) -> tuple[int, int]:
        """Add or replace configs; return (created, updated) counts.

        Mappings are validated into `ExperimentConfig` first. Registering an
        id that is already present counts as an update even when nothing
        changed, like an SQL upsert. With a store attached the counts are the
        store's, and nothing changes in memory if the store raises.
        """
        validated = [_as_config(config) for config in configs]
        with self._lock:
            stamped = _deduplicate([self._stamp(config) for config in validated])
            if self._store is not None:
                created, updated = self._store.save_experiments(stamped)
            else:
                created = sum(1 for config in stamped if config.id not in self._configs)
                updated = len(stamped) - created
            for config in stamped:
                self._configs[config.id] = config
        logger.debug(
            "registered %d experiments (%d new, %d updated)", len(stamped), created, updated
        )
        return created, updated

    def attach(self, store: ExperimentPersistence, *, load: bool = True) -> int:
        """Write registrations through to `store`; return how many experiments it loaded.

        With `load` the store's experiments replace same-id entries in memory,
        because the store is the source of truth. Entries registered before
        attaching and absent from the store are not saved automatically; call
        `sync()` for that.
        """
        if not isinstance(store, ExperimentPersistence):
            raise TypeError(
                f"{type(store).__name__} cannot back the experiment registry: it needs "
                "save_experiments(configs) and load_experiments() methods"
            )
        with self._lock:
            loaded = store.load_experiments() if load else []
            for config in loaded:
                self._configs[config.id] = config
            self._store = store
        logger.info(
            "experiment registry attached to %s (%d loaded)", type(store).__name__, len(loaded)
        )
        return len(loaded)

    def detach(self) -> None:
        """Stop writing through; the configs in memory stay."""
        with self._lock:
            self._store = None

    def sync(self) -> tuple[int, int]:
        """Save every config held in memory to the attached store; return its counts."""
        with self._lock:
            if self._store is None:
                raise RuntimeError("no store is attached to the experiment registry; call attach()")
            return self._store.save_experiments(list(self._configs.values()))

    def remove(self, experiment_id: str) -> ExperimentConfig | None:
        """Forget one config in memory (not in the store); return it, or None if absent."""
        with self._lock:
            return self._configs.pop(experiment_id, None)

    def clear(self) -> None:
        """Forget every config in memory; the store, if any, is untouched."""
        with self._lock:
            self._configs.clear()

    def _stamp(self, config: ExperimentConfig) -> ExperimentConfig:
        # Keep the first registration time and mark every registration as an update.
        now = datetime.now(UTC)
        previous = self._configs.get(config.id)
        created_at = config.created_at or (previous.created_at if previous else None) or now
        status = kept_status(previous.status, config.status) if previous else config.status
        return config.model_copy(
            update={"created_at": created_at, "updated_at": now, "status": status}
        )


def _as_config(config: ExperimentConfig | Mapping[str, Any]) -> ExperimentConfig:
    if isinstance(config, ExperimentConfig):
        return config
    return ExperimentConfig.model_validate(dict(config))


def _deduplicate(configs: list[ExperimentConfig]) -> list[ExperimentConfig]:
    # The last config of a repeated id wins, as it would in a loop of single upserts.
    by_id = {config.id: config for config in configs}
    return list(by_id.values())


REGISTRY = ExperimentRegistry()
"""The process-wide registry that `build_benchmark_matrix(register=True)` fills."""
