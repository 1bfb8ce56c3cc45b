"""Descriptive aggregates of scored results: per-model, per-opt and per-program summaries.

Every mean of a name metric is taken over answered results only. Provider
failures and unparseable replies are counted in their own columns and never
lower a mean. Intervals are percentile-bootstrap 95% intervals with a fixed
seed (`reforge.report.stats.bootstrap_ci`)::

    ranking = model_ranking(load_score_frame(session))
    ranking[["model_label", "mean_token_f1", "token_f1_ci_low", "token_f1_ci_high"]]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from reforge.report.frame import NO_TIER, OPT_LEVELS, TIERS, opt_sort_key
from reforge.report.stats import DEFAULT_BOOTSTRAP_SEED, bootstrap_ci

ABSENT = "absent"
"""Tier-transition label of a stable key that has no DWARF function at a level."""

SUMMARY_COLUMNS = (
    "n_results",
    "n_answered",
    "n_parse_failures",
    "n_provider_failures",
    "n_functions",
    "mean_token_f1",
    "token_f1_ci_low",
    "token_f1_ci_high",
    "exact_match_rate",
    "exact_match_ci_low",
    "exact_match_ci_high",
    "exact_match_norm_rate",
    "mean_relaxed_f1",
    "mean_synonym_f1",
    "trivial_rate",
    "leak_share",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "f1_per_dollar",
)
"""Columns of `summarise_outcomes` and of every table built from it.

``n_functions`` counts distinct DWARF functions among all results.
``leak_share`` is the share of all results whose function leaks its name,
failures included, as in `reforge.store.scores.summarise_scores`.
``cost_usd`` and the token sums include failed calls. ``f1_per_dollar`` is
the sum of token F1 over answered results divided by ``cost_usd`` (NaN when
nothing was spent).
"""

MODEL_COLUMNS = ("model", "model_label", "is_baseline")

TOPK_COLUMNS = (
    "model",
    "model_label",
    "is_baseline",
    "top_k",
    "n_answered",
    "mean_token_f1",
    "mean_topk_best_f1",
    "mean_topk_uplift",
    "exact_match_rate",
    "topk_exact_any_rate",
)


def _mean(values: pd.Series) -> float:
    return float(values.mean()) if len(values) else math.nan


def summarise_outcomes(
    rows: pd.DataFrame, *, seed: int = DEFAULT_BOOTSTRAP_SEED, with_ci: bool = True
) -> dict[str, Any]:
    """Summarise score rows: outcome counts, metric means over answered rows, cost and tokens.

    Returns the fields of `SUMMARY_COLUMNS`. Interval bounds are NaN with
    fewer than two answered rows, or when `with_ci` is False.
    """
    answered = rows[rows["answered"]]
    f1 = answered["token_f1"].to_numpy(dtype=float)
    exact = answered["exact_match"].astype(bool).to_numpy(dtype=float)
    f1_low = f1_high = exact_low = exact_high = math.nan
    if with_ci:
        _, f1_low, f1_high = bootstrap_ci(f1, seed=seed)
        _, exact_low, exact_high = bootstrap_ci(exact, seed=seed)
    cost = math.fsum(rows["cost_usd"].fillna(0.0))
    return {
        "n_results": len(rows),
        "n_answered": len(answered),
        "n_parse_failures": int((rows["outcome"] == "parse_failure").sum()),
        "n_provider_failures": int((rows["outcome"] == "provider_failure").sum()),
        "n_functions": int(rows["function_uid"].nunique()),
        "mean_token_f1": math.fsum(f1) / len(f1) if len(f1) else math.nan,
        "token_f1_ci_low": f1_low,
        "token_f1_ci_high": f1_high,
        "exact_match_rate": math.fsum(exact) / len(exact) if len(exact) else math.nan,
        "exact_match_ci_low": exact_low,
        "exact_match_ci_high": exact_high,
        "exact_match_norm_rate": _mean(answered["exact_match_norm"].astype(bool).astype(float)),
        "mean_relaxed_f1": _mean(answered["relaxed_f1"]),
        "mean_synonym_f1": _mean(answered["synonym_f1"]),
        "trivial_rate": _mean(answered["is_trivial"].astype(bool).astype(float)),
        "leak_share": _mean(rows["leak"].astype(float)),
        "cost_usd": cost,
        "input_tokens": float(rows["input_tokens"].fillna(0.0).sum()),
        "output_tokens": float(rows["output_tokens"].fillna(0.0).sum()),
        "f1_per_dollar": math.fsum(f1) / cost if cost > 0 else math.nan,
    }


def summary_table(
    scores: pd.DataFrame,
    by: Sequence[str],
    *,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
    with_ci: bool = True,
) -> pd.DataFrame:
    """Return one `summarise_outcomes` row per group of `by`, groups in sorted order."""
    keys = list(by)
    rows = []
    if len(scores):
        for values, group in scores.groupby(keys, sort=True, dropna=False):
            key_values = values if isinstance(values, tuple) else (values,)
            summary = summarise_outcomes(group, seed=seed, with_ci=with_ci)
            rows.append({**dict(zip(keys, key_values, strict=True)), **summary})
    return pd.DataFrame(rows, columns=[*keys, *SUMMARY_COLUMNS])


def _with_model_identity(table: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
    identity = scores[list(MODEL_COLUMNS)].drop_duplicates("model")
    merged = identity.merge(table, on="model", how="right")
    return merged[[*MODEL_COLUMNS, *[c for c in table.columns if c != "model"]]]


def model_ranking(scores: pd.DataFrame, *, seed: int = DEFAULT_BOOTSTRAP_SEED) -> pd.DataFrame:
    """Rank models by mean token F1 over answered results, with bootstrap 95% intervals.

    One row per model: `MODEL_COLUMNS` then `SUMMARY_COLUMNS`, ordered by
    mean token F1 (descending; models without an answer last), then label.
    """
    table = _with_model_identity(summary_table(scores, ["model"], seed=seed), scores)
    table = table.sort_values(
        ["mean_token_f1", "model_label"], ascending=[False, True], na_position="last"
    )
    return table.reset_index(drop=True)


def opt_table(scores: pd.DataFrame, *, seed: int = DEFAULT_BOOTSTRAP_SEED) -> pd.DataFrame:
    """Summarise every model at every opt level of its functions' builds.

    One row per (model, opt): `MODEL_COLUMNS`, ``opt``, then `SUMMARY_COLUMNS`,
    ordered by model label and O0..O3.
    """
    table = _with_model_identity(summary_table(scores, ["model", "opt"], seed=seed), scores)
    return _sort_by_opt(table, ["model_label"])


def _sort_by_opt(table: pd.DataFrame, first: list[str]) -> pd.DataFrame:
    order = table["opt"].map(opt_sort_key)
    table = table.assign(_opt_order=order).sort_values([*first, "_opt_order"])
    return table.drop(columns="_opt_order").reset_index(drop=True)


def model_opt_matrix(opt_summary: pd.DataFrame, order: Sequence[str] | None = None) -> pd.DataFrame:
    """Pivot an `opt_table` into model labels x opt levels of mean token F1.

    Rows follow `order` (model labels, for example the ranking's) when given.
    """
    if opt_summary.empty:
        return pd.DataFrame()
    matrix = opt_summary.pivot_table(
        index="model_label", columns="opt", values="mean_token_f1", aggfunc="first", dropna=False
    )
    columns = sorted(matrix.columns, key=opt_sort_key)
    rows = [label for label in order if label in matrix.index] if order is not None else None
    return matrix.reindex(index=rows, columns=columns)


def program_table(scores: pd.DataFrame, *, seed: int = DEFAULT_BOOTSTRAP_SEED) -> pd.DataFrame:
    """Summarise the results of each program (test case): ``program`` then `SUMMARY_COLUMNS`."""
    return summary_table(scores, ["program"], seed=seed)


def topk_table(scores: pd.DataFrame) -> pd.DataFrame:
    """Compare rank-1 and best-of-k scores of answered results that returned candidates.

    One row per (model, top_k) with `TOPK_COLUMNS`. ``mean_token_f1`` and
    ``exact_match_rate`` are the rank-1 values on the same rows, so
    ``mean_topk_uplift`` equals ``mean_topk_best_f1 - mean_token_f1``.
    """
    rows = scores[scores["answered"] & scores["topk_best_f1"].notna()]
    records = []
    for (model, top_k), group in rows.groupby(["model", "top_k"], sort=True):
        first = group.iloc[0]
        records.append(
            {
                "model": model,
                "model_label": first["model_label"],
                "is_baseline": bool(first["is_baseline"]),
                "top_k": int(top_k),
                "n_answered": len(group),
                "mean_token_f1": _mean(group["token_f1"]),
                "mean_topk_best_f1": _mean(group["topk_best_f1"]),
                "mean_topk_uplift": _mean(group["topk_uplift"]),
                "exact_match_rate": _mean(group["exact_match"].astype(bool).astype(float)),
                "topk_exact_any_rate": _mean(group["topk_exact_any"].astype(bool).astype(float)),
            }
        )
    return pd.DataFrame(records, columns=list(TOPK_COLUMNS))


def tier_transitions(tiers: pd.DataFrame, from_opt: str, to_opt: str) -> pd.DataFrame:
    """Count stable keys by their tier at `from_opt` and at `to_opt`.

    Only programs with functions at both levels take part. A key missing at
    one of the two levels (inlined everywhere, or removed as dead code) has
    the tier ``absent`` there. Returns one row per (from_tier, to_tier) pair
    seen, with columns ``from_opt``, ``to_opt``, ``from_tier``, ``to_tier``,
    ``stable_keys``.
    """
    columns = ["from_opt", "to_opt", "from_tier", "to_tier", "stable_keys"]
    programs = set(tiers.loc[tiers["opt"] == from_opt, "program"]) & set(
        tiers.loc[tiers["opt"] == to_opt, "program"]
    )
    subset = tiers[tiers["program"].isin(programs) & tiers["opt"].isin([from_opt, to_opt])]
    if subset.empty:
        return pd.DataFrame(columns=columns)

    wide = subset.pivot(index="stable_key", columns="opt", values="tier")
    wide = wide.reindex(columns=[from_opt, to_opt]).fillna(ABSENT)
    counts = wide.groupby([from_opt, to_opt]).size()
    order = {tier: position for position, tier in enumerate((*TIERS, NO_TIER, ABSENT))}
    records = [
        {
            "from_opt": from_opt,
            "to_opt": to_opt,
            "from_tier": from_tier,
            "to_tier": to_tier,
            "stable_keys": int(count),
        }
        for (from_tier, to_tier), count in counts.items()
    ]
    records.sort(key=lambda row: (order[row["from_tier"]], order[row["to_tier"]]))
    return pd.DataFrame(records, columns=columns)


def tier_transition_table(tiers: pd.DataFrame) -> pd.DataFrame:
    """Return `tier_transitions` from O0 to every higher opt level present, stacked."""
    present = set(tiers["opt"])
    frames = [
        tier_transitions(tiers, OPT_LEVELS[0], level)
        for level in OPT_LEVELS[1:]
        if OPT_LEVELS[0] in present and level in present
    ]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return pd.DataFrame(columns=["from_opt", "to_opt", "from_tier", "to_tier", "stable_keys"])
    return pd.concat(frames, ignore_index=True)


def transition_matrix(transitions: pd.DataFrame) -> pd.DataFrame:
    """Pivot one pair of levels of `tier_transitions` into a from-tier x to-tier count matrix."""
    labels = [*TIERS, NO_TIER, ABSENT]
    if transitions.empty:
        return pd.DataFrame(0, index=labels, columns=labels)
    matrix = transitions.pivot_table(
        index="from_tier", columns="to_tier", values="stable_keys", aggfunc="sum", fill_value=0
    )
    return matrix.reindex(index=labels, columns=labels, fill_value=0).astype(int)


def best_and_worst(scores: pd.DataFrame, count: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the `count` answered results with the highest and with the lowest token F1.

    Ties are broken by truth name and result id, so the selection is stable.
    """
    columns = ["program", "opt", "truth_name", "predicted_name", "token_f1", "exact_match"]
    answered = scores[scores["answered"]]
    best = answered.sort_values(
        ["token_f1", "truth_name", "result_id"], ascending=[False, True, True]
    )
    worst = answered.sort_values(["token_f1", "truth_name", "result_id"])
    return (
        best.head(count)[columns].reset_index(drop=True),
        worst.head(count)[columns].reset_index(drop=True),
    )
