"""Cost estimates for a set of experiments, before any model is called.

Each experiment makes one call per function. A call costs

    input_tokens  * input price  / 1e6
  + output_tokens * output price / 1e6

with prices in USD per million tokens from the model catalog. The inputs are
assumptions, and the result is an estimate:

- Functions per experiment: `functions_per_cell[(tier, opt)]` where given, else
  `functions_per_experiment`, capped by the experiment's `limit`.
- Prompt tokens per call: the measured mean for the experiment's
  (tier, opt, context level) where given, else `avg_prompt_tokens`. Measured
  keys may use None for tier or opt as a wildcard; the most specific key wins.
- Output tokens per call: `avg_completion_tokens` per requested name (so
  ``top_k`` times that for ranked candidates), plus, for reasoning models, the
  catalog's per-call estimate of hidden reasoning tokens, which providers bill
  as output tokens.
- Baselines (providers named ``baseline-*``) cost nothing.

`estimate_tokens` gives the rough prompt sizes to feed in as measurements::

    est = estimate_benchmark_cost(matrix, functions_per_experiment=197)
    est["estimated_cost_usd"], est["breakdown"][0]["est_cost_usd"]
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from reforge.errors import ConfigError
from reforge.experiments.catalog import (
    BASELINE_PROVIDER_PREFIX,
    ModelCatalog,
    load_catalog,
)
from reforge.experiments.config import ExperimentConfig

PriceTable = Mapping[str, tuple[float, float]]
"""Model slug or label -> (input, output) USD per million tokens."""
MeasuredPromptTokens = Mapping[tuple[str | None, str | None, str], float]
"""(tier, opt, context level) -> mean prompt tokens per call; None is a wildcard."""

CHARS_PER_TOKEN = 4
TOKENS_PER_MILLION = 1_000_000


def estimate_tokens(text: str) -> int:
    """Estimate the token count of `text` as its length in characters divided by 4.

    This is a rule of thumb, not a tokenizer: real counts depend on the
    model's tokenizer and on the text (code with many symbols and hex
    constants usually needs more tokens per character than English prose).
    """
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass(frozen=True, slots=True)
class _Pricing:
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    reasoning_tokens_per_call: int


def estimate_benchmark_cost(
    configs: Iterable[ExperimentConfig | Mapping[str, Any]],
    avg_prompt_tokens: float = 800,
    avg_completion_tokens: float = 20,
    functions_per_experiment: int = 50,
    *,
    prices: PriceTable | None = None,
    measured_prompt_tokens: MeasuredPromptTokens | None = None,
    functions_per_cell: Mapping[tuple[str, str], int] | None = None,
    reasoning_tokens_per_call: int | None = None,
    catalog: ModelCatalog | str | os.PathLike[str] | None = None,
) -> dict[str, Any]:
    """Estimate calls, tokens and USD cost of running `configs` once.

    `configs` may also be dicts such as ``GET /data/experiments`` returns.
    `prices` overrides the catalog price of the models it names (by slug or
    label); `reasoning_tokens_per_call` overrides the catalog's reasoning
    estimate for every reasoning model. Raises `ConfigError` for a model that
    neither `prices` nor the catalog lists.

    Returns a dict with ``total_experiments``, ``total_calls``,
    ``total_input_tokens``, ``total_output_tokens`` (reasoning included),
    ``total_reasoning_tokens``, ``estimated_cost_usd``, ``catalog_path``,
    ``prices_checked`` and ``breakdown``: one dict per experiment with
    ``experiment_id``, ``model``, ``provider``, ``calls``,
    ``prompt_tokens_per_call``, ``prompt_tokens_source`` ("measured" or
    "average"), ``input_tokens``, ``output_tokens``, ``reasoning_tokens`` and
    ``est_cost_usd``. Token totals are integers; costs are unrounded floats.
    """
    active_catalog = load_catalog(catalog)
    breakdown = [
        _estimate_one(
            _as_config(config),
            active_catalog,
            avg_prompt_tokens=avg_prompt_tokens,
            avg_completion_tokens=avg_completion_tokens,
            functions_per_experiment=functions_per_experiment,
            prices=prices,
            measured_prompt_tokens=measured_prompt_tokens,
            functions_per_cell=functions_per_cell,
            reasoning_tokens_per_call=reasoning_tokens_per_call,
        )
        for config in configs
    ]
    return {
        "total_experiments": len(breakdown),
        "total_calls": sum(item["calls"] for item in breakdown),
        "total_input_tokens": sum(item["input_tokens"] for item in breakdown),
        "total_output_tokens": sum(item["output_tokens"] for item in breakdown),
        "total_reasoning_tokens": sum(item["reasoning_tokens"] for item in breakdown),
        "estimated_cost_usd": sum(item["est_cost_usd"] for item in breakdown),
        "catalog_path": str(active_catalog.path),
        "prices_checked": active_catalog.prices_checked,
        "breakdown": breakdown,
    }


def _as_config(config: ExperimentConfig | Mapping[str, Any]) -> ExperimentConfig:
    if isinstance(config, ExperimentConfig):
        return config
    return ExperimentConfig.model_validate(dict(config))


def _estimate_one(
    config: ExperimentConfig,
    catalog: ModelCatalog,
    *,
    avg_prompt_tokens: float,
    avg_completion_tokens: float,
    functions_per_experiment: int,
    prices: PriceTable | None,
    measured_prompt_tokens: MeasuredPromptTokens | None,
    functions_per_cell: Mapping[tuple[str, str], int] | None,
    reasoning_tokens_per_call: int | None,
) -> dict[str, Any]:
    pricing = _pricing_for(config, catalog, prices, reasoning_tokens_per_call)
    calls = _calls_for(config, functions_per_experiment, functions_per_cell)
    prompt_tokens, source = _prompt_tokens_for(config, avg_prompt_tokens, measured_prompt_tokens)

    input_tokens = round(calls * prompt_tokens)
    reasoning_tokens = calls * pricing.reasoning_tokens_per_call
    output_tokens = round(calls * avg_completion_tokens * config.top_k) + reasoning_tokens
    cost = (
        input_tokens * pricing.input_usd_per_mtok + output_tokens * pricing.output_usd_per_mtok
    ) / TOKENS_PER_MILLION
    return {
        "experiment_id": config.id,
        "model": config.model,
        "provider": config.provider,
        "calls": calls,
        "prompt_tokens_per_call": prompt_tokens,
        "prompt_tokens_source": source,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "reasoning_tokens": reasoning_tokens,
        "est_cost_usd": cost,
    }


def _pricing_for(
    config: ExperimentConfig,
    catalog: ModelCatalog,
    prices: PriceTable | None,
    reasoning_tokens_per_call: int | None,
) -> _Pricing:
    if config.provider.startswith(BASELINE_PROVIDER_PREFIX):
        return _Pricing(0.0, 0.0, 0)

    entry = catalog.find(config.model)
    override = _price_override(config.model, entry.label if entry else None, prices)
    if entry is None and override is None:
        raise ConfigError(
            f"cannot price experiment {config.id!r}: model {config.model!r} is not in the "
            f"model catalog {str(catalog.path)!r} and not in prices; add it to the catalog "
            "or pass prices={slug: (input_usd_per_mtok, output_usd_per_mtok)}"
        )

    if override is not None:
        input_price, output_price = override
    else:
        assert entry is not None
        input_price, output_price = entry.input_usd_per_mtok, entry.output_usd_per_mtok
    reasoning = 0
    if entry is not None and entry.reasoning:
        reasoning = (
            reasoning_tokens_per_call
            if reasoning_tokens_per_call is not None
            else catalog.reasoning_tokens_for(entry)
        )
    return _Pricing(float(input_price), float(output_price), reasoning)


def _price_override(
    model: str, label: str | None, prices: PriceTable | None
) -> tuple[float, float] | None:
    if prices is None:
        return None
    for key in (model, label):
        if key is not None and key in prices:
            input_price, output_price = prices[key]
            if min(input_price, output_price) < 0:
                raise ConfigError(
                    f"prices[{key!r}] = {prices[key]!r} contains a negative price; "
                    "give (input, output) in USD per million tokens"
                )
            return input_price, output_price
    return None


def _calls_for(
    config: ExperimentConfig,
    functions_per_experiment: int,
    functions_per_cell: Mapping[tuple[str, str], int] | None,
) -> int:
    functions = functions_per_experiment
    if functions_per_cell is not None and (config.tier, config.opt) in functions_per_cell:
        functions = functions_per_cell[(config.tier, config.opt)]  # type: ignore[index]
    if functions < 0:
        raise ConfigError(f"function count for experiment {config.id!r} is negative ({functions})")
    if config.limit is not None:
        functions = min(functions, config.limit)
    return functions


def _prompt_tokens_for(
    config: ExperimentConfig,
    avg_prompt_tokens: float,
    measured: MeasuredPromptTokens | None,
) -> tuple[float, str]:
    if measured:
        level = config.context_level
        # Most specific first: exact cell, then tier wildcard, then opt wildcard, then both.
        for key in (
            (config.tier, config.opt, level),
            (None, config.opt, level),
            (config.tier, None, level),
            (None, None, level),
        ):
            if key in measured:
                return float(measured[key]), "measured"
    return float(avg_prompt_tokens), "average"
