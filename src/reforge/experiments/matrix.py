"""The benchmark matrix: one experiment per model, tier, opt level and context level.

The default matrix is every benchmark model of the catalog x 3 tiers x 4
optimisation levels x 3 context levels (13 x 3 x 4 x 3 = 468 with the packaged
catalog). Ids read ``bench_{label}_{tier}_{opt}_{ctx}`` with the tier in lower
case, plus ``_top{k}`` for ranked-candidate experiments::

    matrix = build_benchmark_matrix(models={"gpt4o-mini": BENCHMARK_MODELS["gpt4o-mini"]},
                                    tiers=["GOLD"], opts=["O3"], context_levels=["L2"])
    matrix[0].id   # "bench_gpt4o-mini_gold_O3_L2"
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, get_args

from reforge.errors import ConfigError
from reforge.experiments.catalog import (
    PACKAGED_CATALOG_PATH,
    ModelCatalog,
    ModelEntry,
    load_catalog,
)
from reforge.experiments.config import (
    ExperimentConfig,
    Opt,
    Tier,
    default_max_tokens,
    default_template_id,
)
from reforge.experiments.registry import REGISTRY
from reforge.llm.prompt import CONTEXT_LEVELS, MAX_TOP_K, MetadataMode

BENCHMARK_TAG: Final = "benchmark-v2"
BENCHMARK_TIERS: Final[list[str]] = list(get_args(Tier))
BENCHMARK_OPTS: Final[list[str]] = list(get_args(Opt))
BENCHMARK_CONTEXT_LEVELS: Final[list[str]] = list(CONTEXT_LEVELS)

# The seed's 13 models, read from the packaged catalog (not REFORGE_MODEL_CATALOG)
# so that this constant means the same thing on every machine.
BENCHMARK_MODELS: Final[dict[str, str]] = load_catalog(PACKAGED_CATALOG_PATH).benchmark_models()

# Extra completion budget for models that reason before replying: providers
# count hidden reasoning tokens against max_tokens, and a budget of 64 would
# cut the reasoning off before any name appears.
REASONING_MAX_TOKENS_HEADROOM: Final = 4096

_CONTEXT_DESCRIPTIONS: Final[Mapping[str, str]] = {
    "L0": "decompiled code only",
    "L1": "code and callees",
    "L2": "code, callees, control-flow summary and variables",
}


@dataclass(frozen=True, slots=True)
class _MatrixModel:
    label: str
    slug: str
    provider: str
    display_name: str
    reasoning: bool


def build_benchmark_matrix(
    models: Mapping[str, str] | Sequence[str] | None = None,
    tiers: Sequence[str] | None = None,
    opts: Sequence[str] | None = None,
    context_levels: Sequence[str] | None = None,
    top_k: int = 1,
    register: bool = False,
    *,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    metadata_mode: MetadataMode = "STRICT",
    provider: str | None = None,
    tags: Iterable[str] | None = None,
    catalog: ModelCatalog | str | os.PathLike[str] | None = None,
) -> list[ExperimentConfig]:
    """Build one `ExperimentConfig` per model x tier x opt x context level, in that order.

    `models` is a ``{label: slug}`` dict (as in ``BENCHMARK_MODELS``) or a list of
    catalog labels or slugs; None means the catalog's benchmark models. Tiers,
    opts and levels default to all of them and are accepted in any letter case.
    `top_k` above 1 builds ranked-candidate experiments with the top-k template,
    which exists for L2 only, so the levels then default to ``["L2"]``.
    `max_tokens` None picks the completion budget from `top_k`, plus
    `REASONING_MAX_TOKENS_HEADROOM` for reasoning models. `provider` overrides
    the catalog's provider of every model. With `register` every config is
    added to `REGISTRY` (and so to its store, if one is attached).
    """
    active_catalog = load_catalog(catalog)
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= MAX_TOP_K:
        raise ConfigError(f"top_k must be an integer from 1 to {MAX_TOP_K}, got {top_k!r}")

    matrix_models = _resolve_models(models, active_catalog, provider)
    tier_values = _normalise("tier", tiers, BENCHMARK_TIERS)
    opt_values = _normalise("opt", opts, BENCHMARK_OPTS)
    default_levels = ["L2"] if top_k > 1 else BENCHMARK_CONTEXT_LEVELS
    level_values = _normalise(
        "context level", context_levels, BENCHMARK_CONTEXT_LEVELS, default=default_levels
    )
    if top_k > 1 and level_values != ["L2"]:
        raise ConfigError(
            f"top_k={top_k} uses the ranked-candidate template, which renders context level "
            f"L2 only; got context_levels={level_values}"
        )
    extra_tags = list(tags or [])

    configs = [
        _build_config(
            model,
            tier,
            opt,
            level,
            top_k=top_k,
            temperature=temperature,
            max_tokens=max_tokens,
            metadata_mode=metadata_mode,
            extra_tags=extra_tags,
        )
        for model in matrix_models
        for tier in tier_values
        for opt in opt_values
        for level in level_values
    ]
    if register:
        REGISTRY.register_many(configs)
    return configs


def _build_config(
    model: _MatrixModel,
    tier: str,
    opt: str,
    level: str,
    *,
    top_k: int,
    temperature: float,
    max_tokens: int | None,
    metadata_mode: MetadataMode,
    extra_tags: list[str],
) -> ExperimentConfig:
    suffix = f"_top{top_k}" if top_k > 1 else ""
    experiment_id = f"bench_{model.label}_{tier.lower()}_{opt}_{level}{suffix}"
    tags = [BENCHMARK_TAG, tier, opt, level, model.label]
    if top_k > 1:
        tags.append(f"top{top_k}")
    tags.extend(tag for tag in extra_tags if tag not in tags)

    if max_tokens is None:
        max_tokens = default_max_tokens(top_k)
        if model.reasoning:
            max_tokens += REASONING_MAX_TOKENS_HEADROOM

    answer = f"{top_k} ranked names" if top_k > 1 else "one name"
    description = (
        f"{model.display_name} ({model.slug}) suggests {answer} per {tier} function "
        f"compiled at -{opt}, shown {_CONTEXT_DESCRIPTIONS[level]} "
        f"(context {level}, metadata {metadata_mode})."
    )
    return ExperimentConfig(
        id=experiment_id,
        name=f"{model.label} {tier} {opt} {level}" + (f" top-{top_k}" if top_k > 1 else ""),
        description=description,
        status="ready",
        tags=tags,
        model=model.slug,
        temperature=temperature,
        max_tokens=max_tokens,
        prompt_template_id=default_template_id(level, top_k),  # type: ignore[arg-type]
        tier=tier,  # type: ignore[arg-type]
        opt=opt,  # type: ignore[arg-type]
        metadata_mode=metadata_mode,
        context_level=level,  # type: ignore[arg-type]
        top_k=top_k,
        provider=model.provider,
    )


def _resolve_models(
    models: Mapping[str, str] | Sequence[str] | None,
    catalog: ModelCatalog,
    provider: str | None,
) -> list[_MatrixModel]:
    if models is None:
        models = catalog.benchmark_models()
    if isinstance(models, str):
        models = [models]

    resolved: list[_MatrixModel] = []
    if isinstance(models, Mapping):
        # The dict form names the slug explicitly; the catalog only adds details.
        for label, slug in models.items():
            entry = catalog.find(label) or catalog.find(slug)
            resolved.append(_matrix_model(label, slug, entry, provider))
    else:
        for name in models:
            entry = catalog.get(name)
            resolved.append(_matrix_model(entry.label, entry.slug, entry, provider))

    if not resolved:
        raise ConfigError("models is empty; name at least one model label or slug")
    labels = [model.label for model in resolved]
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        raise ConfigError(f"models lists {duplicates} more than once; experiment ids would clash")
    return resolved


def _matrix_model(
    label: str, slug: str, entry: ModelEntry | None, provider: str | None
) -> _MatrixModel:
    return _MatrixModel(
        label=label,
        slug=slug,
        provider=provider or (entry.provider if entry else "openrouter"),
        display_name=entry.display_name if entry else slug,
        reasoning=entry.reasoning if entry else False,
    )


def _normalise(
    kind: str, values: Sequence[str] | None, allowed: list[str], default: list[str] | None = None
) -> list[str]:
    if values is None:
        return list(default if default is not None else allowed)
    if isinstance(values, str):
        values = [values]
    normalised = [str(value).upper() for value in values]
    unknown = [
        value for value, upper in zip(values, normalised, strict=True) if upper not in allowed
    ]
    if unknown:
        raise ConfigError(f"unknown {kind} {unknown}; use values from {allowed}")
    if not normalised:
        raise ConfigError(f"no {kind} selected; pass at least one of {allowed}")
    if len(set(normalised)) != len(normalised):
        raise ConfigError(f"{kind} values {list(values)} repeat; experiment ids would clash")
    return normalised
