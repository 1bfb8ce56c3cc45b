"""The model catalog: the benchmark's models with their slugs and list prices.

The catalog is an editable TOML file (``models.toml`` next to this module; the
file's header documents every key). `load_catalog()` reads the file named by
its argument, else by the ``REFORGE_MODEL_CATALOG`` environment variable, else
the packaged one::

    catalog = load_catalog()
    catalog.get("openai/gpt-4o-mini").input_usd_per_mtok  # USD per million tokens
    catalog.benchmark_models()  # {"gpt4o-mini": "openai/gpt-4o-mini", ...}

Prices in the packaged file are list-price estimates with the date they were
looked up (`ModelCatalog.prices_checked`).
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from reforge.errors import ConfigError

CATALOG_ENV_VAR = "REFORGE_MODEL_CATALOG"
PACKAGED_CATALOG_PATH = Path(__file__).with_name("models.toml")
BASELINE_PROVIDER_PREFIX = "baseline-"

_LABEL_PATTERN = re.compile(r"^[A-Za-z0-9_.-]{1,60}$")
_REQUIRED_KEYS = frozenset(
    {
        "label",
        "slug",
        "display_name",
        "vendor",
        "provider",
        "input_usd_per_mtok",
        "output_usd_per_mtok",
    }
)
_OPTIONAL_KEYS = frozenset({"family", "reasoning", "reasoning_tokens", "benchmark"})
_TOP_LEVEL_KEYS = frozenset(
    {"schema_version", "prices_checked", "default_reasoning_tokens", "models"}
)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    """One catalog model with its list prices in USD per million tokens."""

    label: str
    slug: str
    display_name: str
    vendor: str
    family: str
    provider: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    reasoning: bool
    reasoning_tokens: int | None
    """Per-call estimate of hidden reasoning tokens; None means the catalog default."""
    benchmark: bool

    @property
    def is_baseline(self) -> bool:
        """True for the offline baselines, which need no network and cost nothing."""
        return self.provider.startswith(BASELINE_PROVIDER_PREFIX)


@dataclass(frozen=True, slots=True)
class ModelCatalog:
    """The models of one catalog file, in file order."""

    path: Path
    entries: tuple[ModelEntry, ...]
    prices_checked: str
    """Date (ISO 8601) on which the prices were looked up."""
    default_reasoning_tokens: int
    """Per-call reasoning-token estimate for reasoning models without their own figure."""

    def __iter__(self) -> Iterator[ModelEntry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def find(self, model: str) -> ModelEntry | None:
        """Return the entry whose slug or label is `model`, or None."""
        for entry in self.entries:
            if model in (entry.slug, entry.label):
                return entry
        return None

    def get(self, model: str) -> ModelEntry:
        """Return the entry whose slug or label is `model`; raise `ConfigError` if absent."""
        entry = self.find(model)
        if entry is None:
            raise ConfigError(
                f"model {model!r} is not in the model catalog {str(self.path)!r}; add an entry "
                f"there (or point {CATALOG_ENV_VAR} at a catalog that has it). "
                f"Known labels: {', '.join(entry.label for entry in self.entries)}"
            )
        return entry

    def benchmark_models(self) -> dict[str, str]:
        """Return label -> slug of the default benchmark models, in file order."""
        return {entry.label: entry.slug for entry in self.entries if entry.benchmark}

    def reasoning_tokens_for(self, entry: ModelEntry) -> int:
        """Return the per-call reasoning-token estimate of a model (0 for non-reasoning ones)."""
        if not entry.reasoning:
            return 0
        if entry.reasoning_tokens is not None:
            return entry.reasoning_tokens
        return self.default_reasoning_tokens


def catalog_path(path: str | os.PathLike[str] | None = None) -> Path:
    """Return the catalog file to use: the argument, the env var, or the packaged file."""
    if path is not None:
        return Path(path)
    if os.environ.get(CATALOG_ENV_VAR):
        return Path(os.environ[CATALOG_ENV_VAR])
    return PACKAGED_CATALOG_PATH


def load_catalog(path: str | os.PathLike[str] | ModelCatalog | None = None) -> ModelCatalog:
    """Read and check a model catalog; a `ModelCatalog` argument is returned as is.

    Results are cached by file path, modification time and size, so an edited
    file is read again.
    """
    if isinstance(path, ModelCatalog):
        return path
    resolved = catalog_path(path)
    try:
        stat = resolved.stat()
    except FileNotFoundError:
        raise ConfigError(
            f"model catalog {str(resolved)!r} not found; fix {CATALOG_ENV_VAR} or the path "
            "argument, or unset it to use the packaged catalog"
        ) from None
    return _read_catalog(str(resolved.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _read_catalog(path: str, mtime_ns: int, size: int) -> ModelCatalog:
    # mtime_ns and size only key the cache: an edited file gets a new entry.
    del mtime_ns, size
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"model catalog {path!r} is not valid TOML: {error}") from error

    unknown = sorted(set(document) - _TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(
            f"model catalog {path!r} has unknown top-level keys {unknown}; "
            f"allowed: {sorted(_TOP_LEVEL_KEYS)}"
        )
    rows = document.get("models")
    if not isinstance(rows, list) or not rows:
        raise ConfigError(f"model catalog {path!r} needs at least one [[models]] entry")

    entries = tuple(_parse_entry(path, index, row) for index, row in enumerate(rows))
    _check_unique(path, entries)
    default_reasoning_tokens = document.get("default_reasoning_tokens", 0)
    if not _is_count(default_reasoning_tokens):
        raise ConfigError(
            f"model catalog {path!r}: default_reasoning_tokens must be a non-negative "
            f"integer, got {default_reasoning_tokens!r}"
        )
    return ModelCatalog(
        path=Path(path),
        entries=entries,
        prices_checked=str(document.get("prices_checked", "unknown")),
        default_reasoning_tokens=default_reasoning_tokens,
    )


def _parse_entry(path: str, index: int, row: Any) -> ModelEntry:
    where = f"model catalog {path!r}, [[models]] entry {index + 1}"
    if not isinstance(row, Mapping):
        raise ConfigError(f"{where} is not a table")
    missing = sorted(_REQUIRED_KEYS - set(row))
    unknown = sorted(set(row) - _REQUIRED_KEYS - _OPTIONAL_KEYS)
    if missing or unknown:
        raise ConfigError(
            f"{where} ({row.get('label')!r}): missing keys {missing}, unknown keys {unknown}"
        )

    label = row["label"]
    if not isinstance(label, str) or not _LABEL_PATTERN.match(label):
        raise ConfigError(
            f"{where}: label {label!r} must be 1-60 letters, digits, '-', '_' or '.' "
            "because it becomes part of experiment ids"
        )
    where = f"{where} ({label!r})"
    for key in ("slug", "display_name", "vendor", "provider"):
        if not isinstance(row[key], str) or not row[key]:
            raise ConfigError(f"{where}: {key} must be a non-empty string")
    for key in ("reasoning", "benchmark"):
        if not isinstance(row.get(key, False), bool):
            raise ConfigError(f"{where}: {key} must be true or false, got {row[key]!r}")

    prices = (row["input_usd_per_mtok"], row["output_usd_per_mtok"])
    if not all(_is_price(price) for price in prices):
        raise ConfigError(f"{where}: prices must be non-negative numbers, got {prices!r}")
    reasoning_tokens = row.get("reasoning_tokens")
    if reasoning_tokens is not None and not _is_count(reasoning_tokens):
        raise ConfigError(
            f"{where}: reasoning_tokens must be a non-negative integer, got {reasoning_tokens!r}"
        )

    return ModelEntry(
        label=label,
        slug=row["slug"],
        display_name=row["display_name"],
        vendor=row["vendor"],
        family=str(row.get("family", "")),
        provider=row["provider"],
        input_usd_per_mtok=float(prices[0]),
        output_usd_per_mtok=float(prices[1]),
        reasoning=row.get("reasoning", False),
        reasoning_tokens=reasoning_tokens,
        benchmark=row.get("benchmark", False),
    )


def _check_unique(path: str, entries: tuple[ModelEntry, ...]) -> None:
    # find() matches labels and slugs alike, so no name may belong to two entries.
    owners: dict[str, str] = {}
    for entry in entries:
        names = {entry.label, entry.slug}
        for name in names:
            if name in owners:
                raise ConfigError(
                    f"model catalog {path!r}: {name!r} appears in two entries "
                    f"({owners[name]!r} and {entry.label!r}); labels and slugs must be unique"
                )
        owners.update(dict.fromkeys(names, entry.label))


def _is_price(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
