"""Paired comparisons on the same functions: opt levels, context levels and two models.

A paired comparison only uses functions scored under every condition being
compared, so a difference cannot come from a different function mix:

- opt levels: one model, the same source function (`stable_key`) at O0..O3.
  Results are matched on the prompt condition (context level, metadata mode,
  top-k, template) before averaging per stable key, so a level is never
  compared with another level under a different prompt. The cohort is the
  set of stable keys with a value at every level the model was run at.
- context levels: one model, the same DWARF function (`function_uid`, so the
  same opt level) at L0 and L1, or L1 and L2, with the same metadata mode
  and top-k.
- two models: exact match on the same function and prompt condition (McNemar).

Only answered results take part. The tests come from `reforge.report.stats`;
when one is undefined its statistics are NaN and ``note`` gives the reason::

    analysis = analyse_pairs(scores, ranking)
    analysis.tests[["test", "model_label", "p_value", "p_holm", "effect_size"]]
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from reforge.report.frame import CONTEXT_LEVELS, OPT_LEVELS
from reforge.report.stats import (
    friedman_test,
    holm_correction,
    mcnemar_test,
    paired_cohort,
    paired_wilcoxon,
)

logger = logging.getLogger(__name__)

PROMPT_CONDITION = ("context_level", "metadata_mode", "top_k", "template_id")
"""Columns that must be equal for two results to be compared across opt levels or models."""

LADDER_CONDITION = ("metadata_mode", "top_k")
"""Columns that must be equal for two results to be compared across context levels."""

LADDER_STEPS = (("L0", "L1"), ("L1", "L2"))

TEST_COLUMNS = (
    "test",
    "model",
    "model_label",
    "is_baseline",
    "comparison",
    "alternative",
    "n",
    "n_zero",
    "statistic",
    "p_value",
    "p_holm",
    "effect_size",
    "effect_measure",
    "mean_a",
    "mean_b",
    "mean_diff",
    "detail",
    "note",
)
"""Columns of the statistical tests table.

``mean_a`` and ``mean_b`` are the means of the two sides named in
``comparison`` ("a > b" or "a vs b") on the paired rows, ``mean_diff`` the
mean of a - b. ``p_holm`` is Holm-adjusted over the models within one test
and comparison. ``n`` counts pairs (subjects for Friedman).
"""


@dataclass(frozen=True, slots=True)
class PairedAnalysis:
    """Paired cohorts and the statistical tests run on them."""

    opt_cohorts: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Model -> stable keys x opt levels of mean token F1 (complete rows only)."""
    ladder_cohorts: dict[tuple[str, str, str], pd.DataFrame] = field(default_factory=dict)
    """(model, lower level, higher level) -> function uids x the two levels of mean token F1."""
    tests: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(TEST_COLUMNS)))
    """One row per test, with `TEST_COLUMNS`."""
    mcnemar_models: tuple[str, str] | None = None
    """The two models compared by McNemar's test, None when no pair had common results."""


def paired_values(
    rows: pd.DataFrame,
    *,
    subject: str,
    level_col: str,
    levels: Sequence[str],
    condition: Sequence[str],
    value: str = "token_f1",
) -> pd.DataFrame:
    """Return subjects x `levels` of mean `value`, for subjects with a value at every level.

    Rows are first averaged per (subject, condition, level), so several runs
    of one prompt on one function count once. A (subject, condition) pair
    takes part only with a value at every level. The values of the pairs
    that take part are then averaged per subject, giving one row per subject.
    ``result.attrs["n_dropped"]`` counts the (subject, condition) pairs left
    out because a level was missing.
    """
    keys = [subject, *condition]
    usable = rows[rows[subject].notna() & rows[value].notna()]
    usable = usable[[*keys, level_col, value]].copy()
    for column in condition:
        usable[column] = usable[column].fillna("").astype(str)
    if usable.empty or not levels:
        empty = pd.DataFrame(columns=list(levels), dtype=float)
        empty.attrs["n_dropped"] = 0
        return empty

    means = usable.groupby([*keys, level_col], as_index=False)[value].mean()
    complete = paired_cohort(means, keys, level_col, value, list(levels))
    n_dropped = int(complete.attrs.get("n_dropped", 0))
    if complete.empty:
        wide = pd.DataFrame(columns=list(levels), dtype=float)
    else:
        wide = complete.groupby(level=subject).mean()
        wide.columns.name = level_col
    wide.attrs["n_dropped"] = n_dropped
    return wide


def _test_row(
    test: str, identity: dict[str, Any], comparison: str, alternative: str
) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(TEST_COLUMNS, math.nan)
    row.update(test=test, comparison=comparison, alternative=alternative, detail="", note=None)
    row.update(identity)
    return row


def _wilcoxon_row(
    test: str,
    identity: dict[str, Any],
    first: pd.Series,
    second: pd.Series,
    comparison: str,
) -> dict[str, Any]:
    """Test H1 "first tends to exceed second" and describe the result as one table row."""
    row = _test_row(test, identity, comparison, "greater")
    result = paired_wilcoxon(first.to_numpy(float), second.to_numpy(float), alternative="greater")
    row.update(
        n=result.n,
        n_zero=result.n_zero,
        statistic=result.statistic,
        p_value=result.p_value,
        effect_size=result.rank_biserial,
        effect_measure="rank-biserial r",
        mean_a=float(first.mean()) if len(first) else math.nan,
        mean_b=float(second.mean()) if len(second) else math.nan,
        mean_diff=float((first - second).mean()) if len(first) else math.nan,
        detail=f"median difference {result.median_diff:.3f}" if result.n else "",
        note=result.note,
    )
    return row


def _identity(rows: pd.DataFrame, model: str) -> dict[str, Any]:
    first = rows.iloc[0]
    return {
        "model": model,
        "model_label": first["model_label"],
        "is_baseline": bool(first["is_baseline"]),
    }


def opt_level_tests(
    answered: pd.DataFrame,
) -> tuple[dict[str, pd.DataFrame], list[dict[str, Any]]]:
    """Run Wilcoxon O0 > O3 and Friedman across opt levels for every model.

    Returns the stable-key cohort of each model and the test rows.
    """
    cohorts: dict[str, pd.DataFrame] = {}
    rows: list[dict[str, Any]] = []
    for model, group in answered.groupby("model", sort=True):
        identity = _identity(group, str(model))
        levels = [level for level in OPT_LEVELS if level in set(group["opt"])]
        cohort = paired_values(
            group, subject="stable_key", level_col="opt", levels=levels, condition=PROMPT_CONDITION
        )
        cohorts[str(model)] = cohort
        rows.append(_opt_wilcoxon_row(identity, cohort, levels))
        rows.append(_friedman_row(identity, cohort, levels))
    return cohorts, rows


def _opt_wilcoxon_row(
    identity: dict[str, Any], cohort: pd.DataFrame, levels: list[str]
) -> dict[str, Any]:
    low, high = OPT_LEVELS[0], OPT_LEVELS[-1]
    if low not in levels or high not in levels:
        row = _test_row("wilcoxon_opt", identity, f"{low} > {high}", "greater")
        row.update(n=0, note=f"no results at both {low} and {high} (levels run: {levels})")
        return row
    return _wilcoxon_row("wilcoxon_opt", identity, cohort[low], cohort[high], f"{low} > {high}")


def _friedman_row(
    identity: dict[str, Any], cohort: pd.DataFrame, levels: list[str]
) -> dict[str, Any]:
    row = _test_row("friedman_opt", identity, " / ".join(levels), "levels differ")
    long = cohort.rename_axis(index="stable_key", columns="opt").reset_index()
    long = long.melt(id_vars="stable_key", var_name="opt", value_name="token_f1")
    result = friedman_test(
        long, subject_col="stable_key", treatment_col="opt", value_col="token_f1"
    )
    row.update(
        n=result.n_subjects,
        statistic=result.statistic,
        p_value=result.p_value,
        effect_size=result.kendalls_w,
        effect_measure="Kendall's W",
        detail=f"k = {result.k} levels",
        note=result.note,
    )
    return row


def context_ladder_tests(
    answered: pd.DataFrame,
) -> tuple[dict[tuple[str, str, str], pd.DataFrame], list[dict[str, Any]]]:
    """Run Wilcoxon L1 > L0 and L2 > L1 for every model on functions scored at both levels."""
    cohorts: dict[tuple[str, str, str], pd.DataFrame] = {}
    rows: list[dict[str, Any]] = []
    for model, group in answered.groupby("model", sort=True):
        identity = _identity(group, str(model))
        present = set(group["context_level"])
        if len(present & set(CONTEXT_LEVELS)) < 2:
            continue
        for low, high in LADDER_STEPS:
            cohort = paired_values(
                group,
                subject="function_uid",
                level_col="context_level",
                levels=[low, high],
                condition=LADDER_CONDITION,
            )
            cohorts[str(model), low, high] = cohort
            comparison = f"{high} > {low}"
            if cohort.empty:
                row = _test_row("wilcoxon_context", identity, comparison, "greater")
                row.update(n=0, note=f"no function answered at both {low} and {high}")
                rows.append(row)
                continue
            rows.append(
                _wilcoxon_row("wilcoxon_context", identity, cohort[high], cohort[low], comparison)
            )
    return cohorts, rows


def exact_match_pairs(answered: pd.DataFrame, model_a: str, model_b: str) -> pd.DataFrame:
    """Return the exact-match outcomes of two models on the same function and prompt condition.

    Columns ``a`` and ``b`` (booleans), one row per (function, condition)
    answered by both. Of several runs on one pair the earliest result counts.
    """
    keys = ["function_uid", *PROMPT_CONDITION]
    sides = []
    for model, name in ((model_a, "a"), (model_b, "b")):
        rows = answered[answered["model"] == model].sort_values("result_id")
        rows = rows.drop_duplicates(keys, keep="first")
        sides.append(rows[keys].assign(**{name: rows["exact_match"].astype(bool).to_numpy()}))
    return sides[0].merge(sides[1], on=keys, how="inner")


def choose_mcnemar_models(
    answered: pd.DataFrame,
    ranking: pd.DataFrame,
    requested: tuple[str | None, str | None] = (None, None),
) -> tuple[str, str] | None:
    """Pick the two models for McNemar's test.

    Requested models are kept. Missing ones are filled in ranking order
    (best mean token F1 first) with models that share at least one paired
    result with the other, preferring models that are not baselines. Returns
    None when no two models share a result.
    """
    answered_models = set(answered["model"])
    ranked = [model for model in ranking["model"] if model in answered_models]
    baseline = dict(zip(ranking["model"], ranking["is_baseline"], strict=True))
    first, second = requested
    if first is not None and second is not None:
        return first, second

    fixed = first if first is not None else second
    for pool in ([model for model in ranked if not baseline[model]], ranked):
        if fixed is None:
            pairs = itertools.combinations(pool, 2)
        else:
            pairs = ((fixed, other) for other in pool if other != fixed)
        for model_a, model_b in pairs:
            if exact_match_pairs(answered, model_a, model_b).empty:
                continue
            # A requested second model keeps its place as model B.
            return (model_b, model_a) if second is not None else (model_a, model_b)
    return None


def mcnemar_row(
    answered: pd.DataFrame, ranking: pd.DataFrame, model_a: str, model_b: str
) -> dict[str, Any]:
    """Compare the exact-match rates of two models on shared results with McNemar's test."""
    labels = dict(zip(ranking["model"], ranking["model_label"], strict=True))
    label_a, label_b = labels.get(model_a, model_a), labels.get(model_b, model_b)
    identity = {"model": f"{model_a} vs {model_b}", "model_label": f"{label_a} vs {label_b}"}
    row = _test_row("mcnemar_exact", identity, f"{label_a} vs {label_b}", "two-sided")
    row["is_baseline"] = False
    pairs = exact_match_pairs(answered, model_a, model_b)
    if pairs.empty:
        row.update(n=0, note=f"{model_a!r} and {model_b!r} have no answered result in common")
        return row
    result = mcnemar_test(pairs["a"].tolist(), pairs["b"].tolist())
    row.update(
        n=result.n,
        statistic=result.statistic,
        p_value=result.p_value,
        effect_measure="",
        mean_a=float(pairs["a"].mean()),
        mean_b=float(pairs["b"].mean()),
        mean_diff=float(pairs["a"].mean() - pairs["b"].mean()),
        detail=(
            f"b01 = {result.b01} (only B right), b10 = {result.b10} (only A right), "
            f"{'exact binomial' if result.exact else 'chi-square with continuity correction'}"
        ),
        note=result.note,
    )
    return row


def _holm_within(tests: pd.DataFrame) -> pd.DataFrame:
    tests = tests.copy()
    tests["p_holm"] = math.nan
    for _, group in tests.groupby(["test", "comparison"], sort=False):
        if group["test"].iloc[0] == "mcnemar_exact":
            tests.loc[group.index, "p_holm"] = group["p_value"]
            continue
        adjusted = holm_correction(group["p_value"].astype(float).to_numpy())
        tests.loc[group.index, "p_holm"] = adjusted
    return tests


def analyse_pairs(
    scores: pd.DataFrame,
    ranking: pd.DataFrame,
    *,
    mcnemar_models: tuple[str | None, str | None] = (None, None),
) -> PairedAnalysis:
    """Build every paired cohort and run the report's tests on it.

    Tests: Wilcoxon O0 > O3 and Friedman across opt levels per model,
    Wilcoxon L1 > L0 and L2 > L1 per model, and McNemar on exact match
    between two models (`choose_mcnemar_models`). Holm's correction runs over
    the models of each test and comparison. The F1 comparisons across
    context levels group Wilcoxon rows by step, so L1 > L0 and L2 > L1 are
    corrected separately.
    """
    answered = scores[scores["answered"]]
    if answered.empty:
        return PairedAnalysis()

    opt_cohorts, rows = opt_level_tests(answered)
    ladder_cohorts, ladder_rows = context_ladder_tests(answered)
    rows.extend(ladder_rows)

    chosen = choose_mcnemar_models(answered, ranking, mcnemar_models)
    if chosen is not None:
        rows.append(mcnemar_row(answered, ranking, *chosen))
    elif any(model is not None for model in mcnemar_models):
        logger.warning(
            "McNemar's test skipped: requested models %r share no answered result with "
            "another model; pick models that ran on the same functions",
            mcnemar_models,
        )
    else:
        logger.info("McNemar's test skipped: no two models have an answered result in common")

    tests = _holm_within(pd.DataFrame(rows, columns=list(TEST_COLUMNS)))
    return PairedAnalysis(opt_cohorts, ladder_cohorts, tests, chosen)
