"""Tests of the model catalog file and its loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from reforge.errors import ConfigError
from reforge.experiments import (
    BENCHMARK_MODELS,
    CATALOG_ENV_VAR,
    PACKAGED_CATALOG_PATH,
    load_catalog,
)

# The seed notebook's 13 labels in its order, with the OpenRouter slugs.
SEED_MODELS = [
    ("gpt4o-mini", "openai/gpt-4o-mini"),
    ("gpt4o", "openai/gpt-4o"),
    ("claude35sonnet", "anthropic/claude-3.5-sonnet"),
    ("llama31-70b", "meta-llama/llama-3.1-70b-instruct"),
    ("deepseek-coder2", "deepseek/deepseek-coder"),
    ("deepseek-v32", "deepseek/deepseek-v3.2"),
    ("deepseek-r1", "deepseek/deepseek-r1"),
    ("qwen3-coder", "qwen/qwen3-coder"),
    ("claude-sonnet45", "anthropic/claude-sonnet-4.5"),
    ("gemini3-pro", "google/gemini-3-pro-preview"),
    ("gpt51", "openai/gpt-5.1"),
    ("gpt51-codex-max", "openai/gpt-5.1-codex-max"),
    ("claude-opus46", "anthropic/claude-opus-4.6"),
]


def test_benchmark_models_match_seed() -> None:
    assert list(BENCHMARK_MODELS.items()) == SEED_MODELS


def test_packaged_catalog_has_baselines_outside_benchmark() -> None:
    catalog = load_catalog(PACKAGED_CATALOG_PATH)

    assert len(catalog) == 15
    for label in ("baseline-nn", "baseline-trivial"):
        entry = catalog.get(label)
        assert entry.provider == label
        assert entry.is_baseline
        assert not entry.benchmark
        assert entry.input_usd_per_mtok == 0.0
        assert entry.output_usd_per_mtok == 0.0
        assert label not in BENCHMARK_MODELS


def test_gpt4o_mini_list_price() -> None:
    # openrouter.ai/openai/gpt-4o-mini lists $0.15 input and $0.60 output per million tokens.
    entry = load_catalog(PACKAGED_CATALOG_PATH).get("openai/gpt-4o-mini")

    assert entry.input_usd_per_mtok == 0.15
    assert entry.output_usd_per_mtok == 0.60
    assert entry.label == "gpt4o-mini"


def test_catalog_records_price_date() -> None:
    assert load_catalog(PACKAGED_CATALOG_PATH).prices_checked == "2026-12-04"


def test_find_by_label_or_slug(small_catalog: Path) -> None:
    catalog = load_catalog(small_catalog)

    assert catalog.find("cheap") is catalog.find("vendor/cheap-model")
    assert catalog.find("unknown/model") is None


def test_unknown_model_names_catalog_file(small_catalog: Path) -> None:
    catalog = load_catalog(small_catalog)

    with pytest.raises(ConfigError, match="'unknown/model' is not in the model catalog") as error:
        catalog.get("unknown/model")
    assert str(small_catalog) in str(error.value)


def test_env_var_selects_catalog(small_catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CATALOG_ENV_VAR, str(small_catalog))

    catalog = load_catalog()

    assert catalog.benchmark_models() == {
        "cheap": "vendor/cheap-model",
        "thinker": "vendor/thinker",
    }


def test_reasoning_token_estimates(small_catalog: Path) -> None:
    catalog = load_catalog(small_catalog)

    assert catalog.reasoning_tokens_for(catalog.get("cheap")) == 0
    assert catalog.reasoning_tokens_for(catalog.get("thinker")) == 300
    assert catalog.reasoning_tokens_for(catalog.get("thinker-default")) == 500


def test_edited_catalog_is_read_again(small_catalog: Path) -> None:
    assert load_catalog(small_catalog).get("cheap").input_usd_per_mtok == 1.0

    text = small_catalog.read_text(encoding="utf-8")
    small_catalog.write_text(
        text.replace("input_usd_per_mtok = 1.0", "input_usd_per_mtok = 1.25"), encoding="utf-8"
    )

    assert load_catalog(small_catalog).get("cheap").input_usd_per_mtok == 1.25


def test_missing_catalog_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"

    with pytest.raises(ConfigError, match=r"absent\.toml' not found"):
        load_catalog(missing)


ENTRY = """
[[models]]
label = "{label}"
slug = "{slug}"
display_name = "Model"
vendor = "v"
provider = "openrouter"
input_usd_per_mtok = {price}
output_usd_per_mtok = 1.0
{extra}
"""


def _write(tmp_path: Path, *entries: str, header: str = "") -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(header + "".join(entries), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [ENTRY.format(label="a", slug="v/a", price=1.0, extra="colour = 'red'")],
            r"unknown keys \['colour'\]",
        ),
        (
            [
                ENTRY.format(label="a", slug="v/same", price=1.0, extra=""),
                ENTRY.format(label="b", slug="v/same", price=1.0, extra=""),
            ],
            "'v/same' appears in two entries",
        ),
        (
            [
                ENTRY.format(label="a", slug="v/a", price=1.0, extra=""),
                ENTRY.format(label="a", slug="v/b", price=1.0, extra=""),
            ],
            "'a' appears in two entries",
        ),
        ([ENTRY.format(label="a", slug="v/a", price=-1.0, extra="")], "non-negative numbers"),
        ([ENTRY.format(label="a b", slug="v/a", price=1.0, extra="")], "label 'a b' must be"),
        (
            [ENTRY.format(label="a", slug="v/a", price=1.0, extra="reasoning_tokens = -5")],
            "reasoning_tokens must be a non-negative integer",
        ),
        (
            [ENTRY.format(label="a", slug="v/a", price=1.0, extra='benchmark = "yes"')],
            "benchmark must be true or false",
        ),
        ([], "needs at least one"),
    ],
    ids=[
        "unknown-key",
        "duplicate-slug",
        "duplicate-label",
        "negative-price",
        "bad-label",
        "negative-reasoning",
        "string-flag",
        "no-models",
    ],
)
def test_invalid_catalog_rejected(tmp_path: Path, entries: list[str], message: str) -> None:
    path = _write(tmp_path, *entries, header="schema_version = 1\n")

    with pytest.raises(ConfigError, match=message):
        load_catalog(path)


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[[models]\nlabel = ", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"broken\.toml' is not valid TOML"):
        load_catalog(path)
