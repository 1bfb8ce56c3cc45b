"""Statistics for the report: confidence intervals, paired tests, effect sizes, corrections.

Pure functions over numbers and data frames; no database and no plotting.
Each test returns a frozen result whose ``note`` gives the reason when a value
is NaN because the test is undefined for the data (no pairs, all differences zero, fewer than
three levels, no discordant pairs). Invalid input, such as sequences of
different lengths or NaN values, raises ValueError instead::

    estimate, low, high = bootstrap_ci(f1_values)
    result = paired_wilcoxon(f1_o0, f1_o3)            # H1: O0 scores higher
    adjusted = holm_correction([r.p_value for r in results])

Library versions that define the behaviour described here: SciPy 1.18
(``wilcoxon``, ``friedmanchisquare``, ``bootstrap``) and statsmodels 0.15
(``mcnemar``, ``multipletests``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

Alternative = Literal["greater", "less", "two-sided"]

DEFAULT_BOOTSTRAP_SEED = 12345
MCNEMAR_EXACT_BELOW = 25
"""McNemar uses the exact binomial test when fewer discordant pairs than this exist."""

NAN = math.nan


@dataclass(frozen=True, slots=True)
class WilcoxonResult:
    """Wilcoxon signed-rank test on paired values, with its effect size."""

    n: int
    """Pairs supplied, zero differences included."""
    statistic: float
    """SciPy's statistic: R+ (rank sum of positive differences) for a one-sided
    test, min(R+, R-) for a two-sided one."""
    p_value: float
    rank_biserial: float
    """Matched-pairs rank-biserial correlation (R+ - R-) / (R+ + R-), in [-1, 1]."""
    median_diff: float
    """Median of x - y over all pairs, zero differences included."""
    n_zero: int = 0
    """Zero differences, which the test discards (``zero_method="wilcox"``)."""
    note: str | None = None
    """Reason the statistics are NaN; None when the test ran."""


@dataclass(frozen=True, slots=True)
class FriedmanResult:
    """Friedman test across k related levels, with Kendall's W."""

    n_subjects: int
    """Subjects (blocks) with a value at every level, the ones tested."""
    k: int
    """Number of levels (treatments)."""
    statistic: float
    """Friedman chi-square, corrected for ties by SciPy."""
    p_value: float
    kendalls_w: float
    """Kendall's coefficient of concordance, statistic / (n_subjects * (k - 1))."""
    n_dropped: int = 0
    """Subjects left out because they lack a value at one or more levels."""
    note: str | None = None
    """Reason the statistics are NaN; None when the test ran."""


@dataclass(frozen=True, slots=True)
class McNemarResult:
    """McNemar test on paired binary outcomes (for example exact match of two models)."""

    n: int
    """Pairs supplied."""
    b01: int
    """Pairs where A is wrong and B is right."""
    b10: int
    """Pairs where A is right and B is wrong."""
    statistic: float
    """min(b01, b10) for the exact test; the continuity-corrected chi-square otherwise."""
    p_value: float
    """Two-sided p-value."""
    exact: bool
    """True when the exact binomial test was used (b01 + b10 < 25)."""
    note: str | None = None
    """Reason the statistics are NaN; None when the test ran."""


def bootstrap_ci(
    values: Sequence[float] | np.ndarray | pd.Series,
    statistic: Callable[..., float] = np.mean,
    *,
    n_resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = DEFAULT_BOOTSTRAP_SEED,
) -> tuple[float, float, float]:
    """Return ``(estimate, low, high)``: a statistic and its percentile bootstrap interval.

    Method: draw `n_resamples` samples of the same size with replacement from
    `values`, compute `statistic` on each, and take the ``(1 - confidence) / 2``
    and ``(1 + confidence) / 2`` percentiles of those values (the percentile
    method, via ``scipy.stats.bootstrap``). The estimate is `statistic` on
    the original values. The random generator is
    ``numpy.random.default_rng(seed)``, so equal inputs give equal intervals.

    With no values every element is NaN. With one value the estimate is
    that value and both bounds are NaN, because a single observation carries
    no information about sampling variability. `statistic` must accept a 1-D array;
    one with an ``axis`` parameter (``np.mean``, ``np.median``) runs vectorised.

    Raises ValueError for NaN or infinite values, `confidence` outside (0, 1)
    or `n_resamples` below 1.
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    if n_resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples!r}")
    data = _finite_array(values, "values")

    if data.size == 0:
        return NAN, NAN, NAN
    estimate = float(statistic(data))
    if data.size == 1:
        return estimate, NAN, NAN

    result = stats.bootstrap(
        (data,),
        statistic,
        n_resamples=n_resamples,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return estimate, float(interval.low), float(interval.high)


def paired_wilcoxon(
    x: Sequence[float] | np.ndarray | pd.Series,
    y: Sequence[float] | np.ndarray | pd.Series,
    *,
    alternative: Alternative = "greater",
) -> WilcoxonResult:
    """Test whether x tends to exceed y with the Wilcoxon signed-rank test on d = x - y.

    ``alternative="greater"`` (the default) is the one-sided hypothesis that
    d is stochastically greater than a distribution symmetric about zero.
    Zero differences are discarded before ranking (``zero_method="wilcox"``,
    Wilcoxon's original treatment) and counted in ``n_zero``. The p-value
    comes from ``scipy.stats.wilcoxon(method="auto")``: in SciPy 1.18 that is
    the exact null distribution for up to 50 differences without ties or
    zeros. With ties or zeros it is an exhaustive sign-flip permutation for
    up to 13 differences and the tie-corrected normal approximation above.

    Effect size: the matched-pairs rank-biserial correlation
    ``r = (R+ - R-) / (R+ + R-)``, where R+ and R- are the sums of the ranks
    of |d| (average ranks for ties, zeros dropped) over the positive and the
    negative differences. It is the share of rank mass favouring x minus the
    share favouring y: 1 when every nonzero difference is positive, -1 when
    every one is negative.

    With no pairs, or only zero differences, the statistic, p-value and r are
    NaN and ``note`` gives the reason. Raises ValueError when x and y differ in length
    or contain NaN or infinite values.
    """
    first = _finite_array(x, "x")
    second = _finite_array(y, "y")
    if first.size != second.size:
        raise ValueError(
            f"paired_wilcoxon needs pairs, got {first.size} x values and {second.size} "
            "y values; build the pairs with paired_cohort first"
        )
    differences = first - second
    n = int(differences.size)
    if n == 0:
        return WilcoxonResult(0, NAN, NAN, NAN, NAN, note="no pairs to test")

    median_diff = float(np.median(differences))
    nonzero = differences[differences != 0]
    n_zero = n - int(nonzero.size)
    if nonzero.size == 0:
        return WilcoxonResult(
            n,
            NAN,
            NAN,
            NAN,
            median_diff,
            n_zero=n_zero,
            note=f"all {n} differences are zero, so the signed-rank test is undefined",
        )

    result = stats.wilcoxon(
        first, second, zero_method="wilcox", alternative=alternative, method="auto"
    )
    return WilcoxonResult(
        n=n,
        statistic=float(result.statistic),
        p_value=float(result.pvalue),
        rank_biserial=_rank_biserial(nonzero),
        median_diff=median_diff,
        n_zero=n_zero,
    )


def holm_correction(p_values: Sequence[float] | np.ndarray | pd.Series) -> list[float]:
    """Adjust p-values for multiple comparisons with Holm's step-down method.

    Uses ``statsmodels.stats.multitest.multipletests(method="holm")``: sorted
    ascending, the i-th smallest of m p-values becomes
    ``max over j <= i of min(1, (m - j + 1) * p_(j))``, and the results come
    back in the input order. NaN p-values (tests that could not run) stay NaN
    and do not count towards m. Raises ValueError for a p-value outside [0, 1].
    """
    array = np.asarray(p_values, dtype=float)
    valid = ~np.isnan(array)
    if np.any((array[valid] < 0.0) | (array[valid] > 1.0)):
        raise ValueError(f"p-values must lie in [0, 1], got {array.tolist()!r}")

    adjusted = np.full(array.shape, NAN)
    if valid.any():
        adjusted[valid] = multipletests(array[valid], method="holm")[1]
    return [float(value) for value in adjusted]


def friedman_test(
    frame: pd.DataFrame,
    *,
    subject_col: str,
    treatment_col: str,
    value_col: str,
) -> FriedmanResult:
    """Test whether k related levels differ with the Friedman test, on complete blocks only.

    `frame` is long: one row per (subject, treatment) with its value, for
    example one row per (function, opt level) with the token F1. Subjects
    that lack a value (a missing row or NaN) at one or more of the levels
    seen in `frame` are dropped and counted in ``n_dropped``. The statistic
    and p-value come from ``scipy.stats.friedmanchisquare``, with chi-square
    on k - 1 degrees of freedom and SciPy's correction for ties within blocks.

    Kendall's W = statistic / (n_subjects * (k - 1)) measures agreement of
    the rankings across subjects: 0 for none, 1 when every subject ranks
    the levels the same way.

    The statistics are NaN, with a ``note``, when there are fewer than three
    levels or fewer than two complete subjects, or when every subject has the
    same value at every level. Raises ValueError when a column is missing or
    a (subject, treatment) pair occurs twice.
    """
    _require_columns(frame, [subject_col, treatment_col, value_col])
    levels = sorted(frame[treatment_col].dropna().unique().tolist())
    k = len(levels)
    if k == 0:
        return FriedmanResult(0, 0, NAN, NAN, NAN, note="no treatment levels in the data")

    blocks = paired_cohort(frame, subject_col, treatment_col, value_col, levels)
    n_subjects = len(blocks)
    n_dropped = int(frame[subject_col].nunique()) - n_subjects
    undefined = _friedman_undefined_reason(blocks, k)
    if undefined is not None:
        return FriedmanResult(n_subjects, k, NAN, NAN, NAN, n_dropped=n_dropped, note=undefined)

    columns = [blocks[level].to_numpy(dtype=float) for level in levels]
    result = stats.friedmanchisquare(*columns)
    statistic = float(result.statistic)
    return FriedmanResult(
        n_subjects=n_subjects,
        k=k,
        statistic=statistic,
        p_value=float(result.pvalue),
        kendalls_w=statistic / (n_subjects * (k - 1)),
        n_dropped=n_dropped,
    )


def mcnemar_test(a_correct: Sequence[bool], b_correct: Sequence[bool]) -> McNemarResult:
    """Test whether two systems differ in accuracy on the same items with McNemar's test.

    Only discordant pairs carry information: b01 (A wrong, B right) and b10
    (A right, B wrong). With fewer than 25 discordant pairs the p-value is the
    exact two-sided binomial test of b01 against Binomial(b01 + b10, 1/2);
    otherwise it is the chi-square test with continuity correction,
    ``(|b01 - b10| - 1)**2 / (b01 + b10)`` on one degree of freedom
    (``statsmodels.stats.contingency_tables.mcnemar``).

    With no discordant pairs the statistic and p-value are NaN and ``note``
    gives the reason. Raises ValueError when the sequences differ in length or hold
    anything other than booleans (None and missing values included).
    """
    first = _bool_array(a_correct, "a_correct")
    second = _bool_array(b_correct, "b_correct")
    if first.size != second.size:
        raise ValueError(
            f"mcnemar_test needs pairs, got {first.size} values for A and {second.size} for B"
        )

    n = int(first.size)
    b01 = int(np.sum(~first & second))
    b10 = int(np.sum(first & ~second))
    discordant = b01 + b10
    exact = discordant < MCNEMAR_EXACT_BELOW
    if discordant == 0:
        return McNemarResult(
            n, b01, b10, NAN, NAN, exact, note="no discordant pairs, so the test is undefined"
        )

    both_right = int(np.sum(first & second))
    both_wrong = n - both_right - discordant
    table = [[both_right, b10], [b01, both_wrong]]
    result = mcnemar(table, exact=exact, correction=True)
    return McNemarResult(n, b01, b10, float(result.statistic), float(result.pvalue), exact)


def paired_cohort(
    frame: pd.DataFrame,
    key_col: str | Sequence[str],
    level_col: str,
    value_col: str,
    levels: Sequence[object],
) -> pd.DataFrame:
    """Pivot a long frame into a wide table of the keys that have a value at every level.

    The result has one row per key (a MultiIndex when `key_col` names several
    columns), one column per level in the order of `levels`, and only keys
    whose value is present and not NaN at every level. Rows at other levels
    are ignored. ``result.attrs["n_dropped"]`` counts the keys that occur at
    some of `levels` but not at all of them. Use it to build the stable-key
    cohort for paired O0 -> O3 deltas: ``paired_cohort(scores, "function_key",
    "opt", "token_f1", ["O0", "O3"])``.

    Raises ValueError when `levels` is empty, a column is missing, or a
    (key, level) pair occurs more than once (aggregate such rows first).
    """
    keys = [key_col] if isinstance(key_col, str) else list(key_col)
    wanted = list(levels)
    if not wanted:
        raise ValueError("paired_cohort needs at least one level, got an empty list")
    _require_columns(frame, [*keys, level_col, value_col])

    subset = frame.loc[frame[level_col].isin(wanted), [*keys, level_col, value_col]]
    duplicated = subset.duplicated(subset=[*keys, level_col], keep=False)
    if duplicated.any():
        example = subset.loc[duplicated, [*keys, level_col]].iloc[0].tolist()
        raise ValueError(
            f"paired_cohort found {int(duplicated.sum())} rows sharing a ({', '.join(keys)}, "
            f"{level_col}) pair, for example {example!r}; aggregate them to one value first"
        )

    wide = subset.pivot(index=keys, columns=level_col, values=value_col).reindex(columns=wanted)
    complete = wide.dropna(how="any").sort_index()
    complete.columns.name = level_col
    complete.attrs["n_dropped"] = len(wide) - len(complete)
    return complete


def _rank_biserial(nonzero_differences: np.ndarray) -> float:
    ranks = stats.rankdata(np.abs(nonzero_differences))
    rank_sum_positive = float(ranks[nonzero_differences > 0].sum())
    rank_sum_negative = float(ranks[nonzero_differences < 0].sum())
    return (rank_sum_positive - rank_sum_negative) / (rank_sum_positive + rank_sum_negative)


def _friedman_undefined_reason(blocks: pd.DataFrame, k: int) -> str | None:
    if k < 3:
        return f"the Friedman test needs at least 3 levels, got {k}"
    if len(blocks) < 2:
        return f"the Friedman test needs at least 2 complete subjects, got {len(blocks)}"
    values = blocks.to_numpy(dtype=float)
    if np.all(values == values[:, :1]):
        return "every subject has the same value at every level, so no ranking exists"
    return None


def _finite_array(values: Sequence[float] | np.ndarray | pd.Series, name: str) -> np.ndarray:
    array = np.asarray(values, dtype=float).ravel()
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite values; drop unscored rows (outcomes other "
            "than 'answered') or build complete pairs with paired_cohort first"
        )
    return array


def _bool_array(values: Sequence[bool], name: str) -> np.ndarray:
    items = list(values)
    for position, item in enumerate(items):
        if not isinstance(item, bool | np.bool_):
            raise ValueError(
                f"{name}[{position}] is {item!r}, not a bool; drop unscored rows or convert "
                "the column to plain booleans first"
            )
    return np.array(items, dtype=bool)


def _require_columns(frame: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(
            f"data frame has no column(s) {missing!r}; available: {list(frame.columns)!r}"
        )
