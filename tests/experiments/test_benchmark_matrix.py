"""Tests of build_benchmark_matrix: ids, order, templates, tags and registration."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from reforge import experiments
from reforge.errors import ConfigError
from reforge.experiments import (
    BENCHMARK_CONTEXT_LEVELS,
    BENCHMARK_MODELS,
    BENCHMARK_OPTS,
    BENCHMARK_TIERS,
    ExperimentRegistry,
    build_benchmark_matrix,
)


def test_package_exports_seed_names() -> None:
    seed_names = {
        "build_benchmark_matrix",
        "estimate_benchmark_cost",
        "BENCHMARK_MODELS",
        "BENCHMARK_TIERS",
        "BENCHMARK_OPTS",
        "BENCHMARK_CONTEXT_LEVELS",
        "REGISTRY",
    }
    assert seed_names <= set(experiments.__all__)
    for name in experiments.__all__:
        assert hasattr(experiments, name), name


def test_axis_constants() -> None:
    assert BENCHMARK_TIERS == ["GOLD", "SILVER", "BRONZE"]
    assert BENCHMARK_OPTS == ["O0", "O1", "O2", "O3"]
    assert BENCHMARK_CONTEXT_LEVELS == ["L0", "L1", "L2"]


def test_full_matrix_has_468_unique_ids() -> None:
    matrix = build_benchmark_matrix()

    assert len(matrix) == 468
    assert len({cfg.id for cfg in matrix}) == 468
    assert "bench_gpt4o-mini_gold_O3_L2" in {cfg.id for cfg in matrix}


def test_full_matrix_has_36_per_model() -> None:
    counts = Counter(cfg.model for cfg in build_benchmark_matrix())

    assert len(counts) == 13
    assert set(counts.values()) == {36}


def test_matrix_order_is_model_tier_opt_level() -> None:
    ids = [cfg.id for cfg in build_benchmark_matrix()]

    assert ids[:5] == [
        "bench_gpt4o-mini_gold_O0_L0",
        "bench_gpt4o-mini_gold_O0_L1",
        "bench_gpt4o-mini_gold_O0_L2",
        "bench_gpt4o-mini_gold_O1_L0",
        "bench_gpt4o-mini_gold_O1_L1",
    ]
    assert ids[12] == "bench_gpt4o-mini_silver_O0_L0"
    assert ids[36] == "bench_gpt4o_gold_O0_L0"
    assert ids[-1] == "bench_claude-opus46_bronze_O3_L2"


def test_seed_slice_gives_one_experiment() -> None:
    matrix = build_benchmark_matrix(
        models={"gpt4o-mini": BENCHMARK_MODELS["gpt4o-mini"]},
        tiers=["GOLD"],
        opts=["O3"],
        context_levels=["L2"],
    )

    assert [cfg.id for cfg in matrix] == ["bench_gpt4o-mini_gold_O3_L2"]
    cfg = matrix[0]
    assert cfg.model == "openai/gpt-4o-mini"
    assert cfg.tier == "GOLD"
    assert cfg.opt == "O3"
    assert cfg.context_level == "L2"
    assert cfg.prompt_template_id == "function_naming_v2_L2"
    assert cfg.response_format == "text"
    assert cfg.provider == "openrouter"
    assert cfg.status == "ready"
    assert cfg.tags == ["benchmark-v2", "GOLD", "O3", "L2", "gpt4o-mini"]
    assert "GPT-4o mini" in cfg.description


def test_labels_and_slugs_select_models() -> None:
    by_label = build_benchmark_matrix(models=["deepseek-r1"], tiers=["SILVER"], opts=["O0"])
    by_slug = build_benchmark_matrix(models=["deepseek/deepseek-r1"], tiers=["SILVER"], opts=["O0"])

    assert [cfg.id for cfg in by_label] == [
        "bench_deepseek-r1_silver_O0_L0",
        "bench_deepseek-r1_silver_O0_L1",
        "bench_deepseek-r1_silver_O0_L2",
    ]
    assert [cfg.id for cfg in by_slug] == [cfg.id for cfg in by_label]


def test_axis_values_accept_any_case() -> None:
    matrix = build_benchmark_matrix(
        models=["gpt4o"], tiers=["bronze"], opts=["o2"], context_levels=["l1"]
    )

    assert [cfg.id for cfg in matrix] == ["bench_gpt4o_bronze_O2_L1"]


def test_top_k_matrix_uses_json_template() -> None:
    matrix = build_benchmark_matrix(models=["gpt4o"], tiers=["GOLD"], opts=["O0"], top_k=5)

    assert [cfg.id for cfg in matrix] == ["bench_gpt4o_gold_O0_L2_top5"]
    cfg = matrix[0]
    assert cfg.prompt_template_id == "function_naming_topk_L2"
    assert cfg.response_format == "json"
    assert cfg.top_k == 5
    assert "top5" in cfg.tags


def test_top_k_rejects_lower_context_levels() -> None:
    with pytest.raises(ConfigError, match="renders context level L2 only"):
        build_benchmark_matrix(models=["gpt4o"], context_levels=["L0", "L2"], top_k=3)


def test_baselines_get_baseline_providers() -> None:
    matrix = build_benchmark_matrix(
        models=["baseline-nn", "baseline-trivial"],
        tiers=["GOLD"],
        opts=["O0"],
        context_levels=["L0"],
    )

    assert [(cfg.id, cfg.model, cfg.provider) for cfg in matrix] == [
        ("bench_baseline-nn_gold_O0_L0", "baseline-nn", "baseline-nn"),
        ("bench_baseline-trivial_gold_O0_L0", "baseline-trivial", "baseline-trivial"),
    ]


def test_reasoning_models_get_token_headroom() -> None:
    plain, reasoning = build_benchmark_matrix(
        models=["gpt4o", "deepseek-r1"], tiers=["GOLD"], opts=["O0"], context_levels=["L0"]
    )

    assert plain.max_tokens == 64
    assert reasoning.max_tokens == 64 + 4096


def test_explicit_settings_pass_through() -> None:
    (cfg,) = build_benchmark_matrix(
        models=["gpt4o"],
        tiers=["GOLD"],
        opts=["O0"],
        context_levels=["L1"],
        temperature=0.7,
        max_tokens=100,
        metadata_mode="ANALYST",
        provider="openai-compatible",
        tags=["pilot", "benchmark-v2"],
    )

    assert cfg.temperature == 0.7
    assert cfg.max_tokens == 100
    assert cfg.metadata_mode == "ANALYST"
    assert cfg.provider == "openai-compatible"
    assert cfg.tags == ["benchmark-v2", "GOLD", "O0", "L1", "gpt4o", "pilot"]


def test_dict_form_keeps_given_slug() -> None:
    (cfg,) = build_benchmark_matrix(
        models={"local-qwen": "qwen2.5-coder:7b"},
        tiers=["GOLD"],
        opts=["O0"],
        context_levels=["L0"],
        provider="openai-compatible",
    )

    assert cfg.id == "bench_local-qwen_gold_O0_L0"
    assert cfg.model == "qwen2.5-coder:7b"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"models": ["no-such-model"]}, "'no-such-model' is not in the model catalog"),
        ({"tiers": ["GOLD", "PLATINUM"]}, r"unknown tier \['PLATINUM'\]"),
        ({"opts": ["O4"]}, r"unknown opt \['O4'\]"),
        ({"context_levels": ["L9"]}, r"unknown context level \['L9'\]"),
        ({"tiers": ["GOLD", "gold"]}, "repeat"),
        ({"models": []}, "models is empty"),
        ({"models": ["gpt4o", "openai/gpt-4o"]}, "more than once"),
        ({"top_k": 0}, "top_k must be an integer from 1 to 10"),
        ({"tiers": []}, "no tier selected"),
    ],
)
def test_invalid_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_benchmark_matrix(**kwargs)  # type: ignore[arg-type]


def test_register_fills_global_registry(clean_registry: ExperimentRegistry) -> None:
    matrix = build_benchmark_matrix(models=["gpt4o-mini"], tiers=["GOLD"], register=True)

    assert len(clean_registry) == 12
    assert "bench_gpt4o-mini_gold_O3_L2" in clean_registry
    assert clean_registry["bench_gpt4o-mini_gold_O3_L2"].model == "openai/gpt-4o-mini"
    assert {cfg.id for cfg in matrix} == set(clean_registry)


def test_register_false_leaves_registry(clean_registry: ExperimentRegistry) -> None:
    build_benchmark_matrix(models=["gpt4o-mini"])

    assert len(clean_registry) == 0


def test_catalog_argument_changes_default_models(small_catalog: Path) -> None:
    matrix = build_benchmark_matrix(catalog=small_catalog, tiers=["GOLD"], opts=["O0"])

    assert len(matrix) == 2 * 1 * 1 * 3
    assert matrix[0].id == "bench_cheap_gold_O0_L0"
    assert matrix[-1].model == "vendor/thinker"
