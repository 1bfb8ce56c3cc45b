"""Fixtures for the experiment tests: an empty global registry and small catalog files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from reforge.experiments import REGISTRY, ExperimentRegistry

SMALL_CATALOG = """
schema_version = 1
prices_checked = "2026-01-01"
default_reasoning_tokens = 500

[[models]]
label = "cheap"
slug = "vendor/cheap-model"
display_name = "Cheap model"
vendor = "vendor"
provider = "openrouter"
input_usd_per_mtok = 1.0
output_usd_per_mtok = 2.0
benchmark = true

[[models]]
label = "thinker"
slug = "vendor/thinker"
display_name = "Thinking model"
vendor = "vendor"
provider = "openrouter"
input_usd_per_mtok = 3.0
output_usd_per_mtok = 7.0
reasoning = true
reasoning_tokens = 300
benchmark = true

[[models]]
label = "thinker-default"
slug = "vendor/thinker-default"
display_name = "Thinking model without its own estimate"
vendor = "vendor"
provider = "openrouter"
input_usd_per_mtok = 0.5
output_usd_per_mtok = 4.0
reasoning = true
benchmark = false
"""


@pytest.fixture
def small_catalog(tmp_path: Path) -> Path:
    """A three-model catalog file with round prices for hand calculations."""
    path = tmp_path / "small_models.toml"
    path.write_text(SMALL_CATALOG, encoding="utf-8")
    return path


@pytest.fixture
def clean_registry() -> Iterator[ExperimentRegistry]:
    """The global REGISTRY, emptied and detached before and after the test."""
    REGISTRY.detach()
    REGISTRY.clear()
    yield REGISTRY
    REGISTRY.detach()
    REGISTRY.clear()
