"""Tests of estimate_benchmark_cost and estimate_tokens against hand calculations."""

from __future__ import annotations

from pathlib import Path

import pytest

from reforge.errors import ConfigError
from reforge.experiments import (
    ExperimentConfig,
    build_benchmark_matrix,
    estimate_benchmark_cost,
    estimate_tokens,
)


def _seed_slice() -> list[ExperimentConfig]:
    return build_benchmark_matrix(
        models=["gpt4o-mini"], tiers=["GOLD"], opts=["O3"], context_levels=["L2"]
    )


def test_single_experiment_by_hand() -> None:
    est = estimate_benchmark_cost(
        _seed_slice(), avg_prompt_tokens=800, avg_completion_tokens=20, functions_per_experiment=197
    )

    # gpt-4o-mini list price: 0.15 USD per million input tokens, 0.60 per million output tokens.
    expected = 197 * 800 / 1e6 * 0.15 + 197 * 20 / 1e6 * 0.60
    assert est["total_experiments"] == 1
    assert est["total_calls"] == 197
    assert est["total_input_tokens"] == 157_600
    assert est["total_output_tokens"] == 3_940
    assert est["total_reasoning_tokens"] == 0
    assert est["estimated_cost_usd"] == pytest.approx(expected)
    (item,) = est["breakdown"]
    assert item["experiment_id"] == "bench_gpt4o-mini_gold_O3_L2"
    assert item["model"] == "openai/gpt-4o-mini"
    assert item["calls"] == 197
    assert item["input_tokens"] == 157_600
    assert item["output_tokens"] == 3_940
    assert item["est_cost_usd"] == pytest.approx(expected)
    assert item["prompt_tokens_source"] == "average"


def test_seed_defaults() -> None:
    est = estimate_benchmark_cost(_seed_slice())

    assert est["total_calls"] == 50
    assert est["total_input_tokens"] == 50 * 800


def test_measured_sizes_override_average() -> None:
    est = estimate_benchmark_cost(
        _seed_slice(),
        functions_per_experiment=10,
        measured_prompt_tokens={("GOLD", "O3", "L2"): 1234.5, ("GOLD", "O3", "L0"): 99.0},
    )

    (item,) = est["breakdown"]
    assert item["prompt_tokens_source"] == "measured"
    assert item["prompt_tokens_per_call"] == 1234.5
    assert item["input_tokens"] == 12_345


def test_measured_wildcard_used_when_cell_absent() -> None:
    measured = {(None, "O3", "L2"): 500.0, (None, None, "L2"): 700.0}

    est = estimate_benchmark_cost(
        _seed_slice(), functions_per_experiment=2, measured_prompt_tokens=measured
    )

    assert est["total_input_tokens"] == 1_000


def test_measured_other_level_falls_back_to_average() -> None:
    est = estimate_benchmark_cost(
        _seed_slice(),
        functions_per_experiment=3,
        measured_prompt_tokens={("GOLD", "O3", "L0"): 10.0},
    )

    assert est["total_input_tokens"] == 3 * 800
    assert est["breakdown"][0]["prompt_tokens_source"] == "average"


def test_functions_per_cell_and_limit() -> None:
    configs = build_benchmark_matrix(
        models=["gpt4o-mini"], tiers=["GOLD"], opts=["O0", "O3"], context_levels=["L0"]
    )
    limited = configs[1].replace(limit=40)

    est = estimate_benchmark_cost(
        [configs[0], limited],
        functions_per_experiment=50,
        functions_per_cell={("GOLD", "O0"): 197, ("GOLD", "O3"): 85},
    )

    assert [item["calls"] for item in est["breakdown"]] == [197, 40]
    assert est["total_calls"] == 237


def test_unknown_model_names_model_and_catalog() -> None:
    cfg = ExperimentConfig(id="x", model="vendor/mystery-model")

    with pytest.raises(
        ConfigError, match="'vendor/mystery-model' is not in the model catalog"
    ) as error:
        estimate_benchmark_cost([cfg])
    assert "models.toml" in str(error.value)


def test_prices_argument_covers_unknown_model() -> None:
    cfg = ExperimentConfig(id="x", model="vendor/mystery-model")

    est = estimate_benchmark_cost(
        [cfg],
        avg_prompt_tokens=1000,
        avg_completion_tokens=10,
        functions_per_experiment=100,
        prices={"vendor/mystery-model": (2.0, 8.0)},
    )

    assert est["estimated_cost_usd"] == pytest.approx(100 * 1000 / 1e6 * 2.0 + 100 * 10 / 1e6 * 8.0)


def test_baselines_cost_nothing() -> None:
    configs = build_benchmark_matrix(models=["baseline-nn", "baseline-trivial"], tiers=["GOLD"])

    est = estimate_benchmark_cost(configs, functions_per_experiment=197)

    assert est["total_calls"] == 2 * 4 * 3 * 197
    assert est["estimated_cost_usd"] == 0.0


def test_reasoning_tokens_billed_as_output(small_catalog: Path) -> None:
    configs = build_benchmark_matrix(
        models=["thinker", "thinker-default"],
        tiers=["GOLD"],
        opts=["O0"],
        context_levels=["L0"],
        catalog=small_catalog,
    )

    est = estimate_benchmark_cost(
        configs,
        avg_prompt_tokens=800,
        avg_completion_tokens=20,
        functions_per_experiment=10,
        catalog=small_catalog,
    )

    thinker, thinker_default = est["breakdown"]
    # thinker: 300 reasoning tokens per call, 3 / 7 USD per million tokens.
    assert thinker["reasoning_tokens"] == 3_000
    assert thinker["output_tokens"] == 10 * (20 + 300)
    assert thinker["est_cost_usd"] == pytest.approx(8_000 * 3.0 / 1e6 + 3_200 * 7.0 / 1e6)
    # thinker-default falls back to the catalog default of 500 per call.
    assert thinker_default["output_tokens"] == 10 * (20 + 500)
    assert est["total_reasoning_tokens"] == 3_000 + 5_000


def test_reasoning_override(small_catalog: Path) -> None:
    configs = build_benchmark_matrix(
        models=["thinker"],
        tiers=["GOLD"],
        opts=["O0"],
        context_levels=["L0"],
        catalog=small_catalog,
    )

    est = estimate_benchmark_cost(
        configs, functions_per_experiment=1, reasoning_tokens_per_call=50, catalog=small_catalog
    )

    assert est["total_output_tokens"] == 20 + 50


def test_top_k_scales_completion_tokens() -> None:
    configs = build_benchmark_matrix(models=["gpt4o-mini"], tiers=["GOLD"], opts=["O0"], top_k=5)

    est = estimate_benchmark_cost(configs, avg_completion_tokens=20, functions_per_experiment=10)

    assert est["total_output_tokens"] == 10 * 20 * 5


def test_cost_result_names_catalog() -> None:
    est = estimate_benchmark_cost(_seed_slice())

    assert est["catalog_path"].endswith("models.toml")
    assert est["prices_checked"] == "2026-12-04"


@pytest.mark.parametrize(
    ("text", "tokens"), [("", 0), ("abcd", 1), ("abcde", 2), ("x" * 4000, 1000)]
)
def test_estimate_tokens(text: str, tokens: int) -> None:
    assert estimate_tokens(text) == tokens


def test_accepts_dumped_configs() -> None:
    dumped = [cfg.model_dump() for cfg in _seed_slice()]

    est = estimate_benchmark_cost(dumped, functions_per_experiment=197)

    assert est["total_input_tokens"] == 157_600
