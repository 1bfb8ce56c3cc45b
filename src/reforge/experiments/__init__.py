"""Benchmark experiments: configs, the model catalog, the matrix, cost estimates, the registry.

Usage::

    matrix = build_benchmark_matrix(register=True)  # 468 experiments, also in REGISTRY
    estimate_benchmark_cost(matrix, functions_per_experiment=197)["estimated_cost_usd"]
"""

from reforge.experiments.catalog import (
    CATALOG_ENV_VAR,
    PACKAGED_CATALOG_PATH,
    ModelCatalog,
    ModelEntry,
    catalog_path,
    load_catalog,
)
from reforge.experiments.config import (
    ExperimentConfig,
    ExperimentStatus,
    Opt,
    ResponseFormat,
    Tier,
    default_max_tokens,
    default_template_id,
)
from reforge.experiments.cost import estimate_benchmark_cost, estimate_tokens
from reforge.experiments.matrix import (
    BENCHMARK_CONTEXT_LEVELS,
    BENCHMARK_MODELS,
    BENCHMARK_OPTS,
    BENCHMARK_TAG,
    BENCHMARK_TIERS,
    REASONING_MAX_TOKENS_HEADROOM,
    build_benchmark_matrix,
)
from reforge.experiments.registry import REGISTRY, ExperimentPersistence, ExperimentRegistry

__all__ = [
    "BENCHMARK_CONTEXT_LEVELS",
    "BENCHMARK_MODELS",
    "BENCHMARK_OPTS",
    "BENCHMARK_TAG",
    "BENCHMARK_TIERS",
    "CATALOG_ENV_VAR",
    "PACKAGED_CATALOG_PATH",
    "REASONING_MAX_TOKENS_HEADROOM",
    "REGISTRY",
    "ExperimentConfig",
    "ExperimentPersistence",
    "ExperimentRegistry",
    "ExperimentStatus",
    "ModelCatalog",
    "ModelEntry",
    "Opt",
    "ResponseFormat",
    "Tier",
    "build_benchmark_matrix",
    "catalog_path",
    "default_max_tokens",
    "default_template_id",
    "estimate_benchmark_cost",
    "estimate_tokens",
    "load_catalog",
]
