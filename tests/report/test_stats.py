"""Tests for the report statistics, against values computed by hand or by brute force."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from reforge.report.stats import (
    bootstrap_ci,
    friedman_test,
    holm_correction,
    mcnemar_test,
    paired_cohort,
    paired_wilcoxon,
)


def brute_force_signed_rank_p(differences: list[float], alternative: str) -> float:
    """Exact p-value of the signed-rank statistic R+ over all 2**n sign flips (no ties)."""
    nonzero = [d for d in differences if d != 0]
    magnitudes = sorted(abs(d) for d in nonzero)
    ranks = {value: position + 1 for position, value in enumerate(magnitudes)}
    observed = sum(ranks[abs(d)] for d in nonzero if d > 0)
    total = sum(ranks.values())
    mean = total / 2

    hits = 0
    flips = list(itertools.product([False, True], repeat=len(nonzero)))
    for signs in flips:
        r_plus = sum(rank for rank, positive in zip(ranks.values(), signs, strict=True) if positive)
        if alternative == "greater":
            hits += r_plus >= observed
        else:
            hits += abs(r_plus - mean) >= abs(observed - mean)
    return hits / len(flips)


# bootstrap_ci


def test_bootstrap_two_points_hand() -> None:
    # Resampled means of [0, 1] are 0, 0.5 or 1 with probabilities 1/4, 1/2, 1/4,
    # so the 2.5th and 97.5th percentiles are 0 and 1.
    assert bootstrap_ci([0.0, 1.0]) == (0.5, 0.0, 1.0)


def test_bootstrap_constant_values() -> None:
    assert bootstrap_ci([3.0, 3.0, 3.0]) == (3.0, 3.0, 3.0)


def test_bootstrap_empty_is_nan() -> None:
    estimate, low, high = bootstrap_ci([])
    assert math.isnan(estimate)
    assert math.isnan(low)
    assert math.isnan(high)


def test_bootstrap_single_value() -> None:
    estimate, low, high = bootstrap_ci([0.7])
    assert estimate == 0.7
    assert math.isnan(low)
    assert math.isnan(high)


def test_bootstrap_deterministic() -> None:
    values = np.random.default_rng(1).uniform(size=50)
    first = bootstrap_ci(values)
    second = bootstrap_ci(values.tolist())
    other_seed = bootstrap_ci(values, seed=99)

    assert first == second
    assert first[1:] != other_seed[1:]
    assert first[0] == other_seed[0]


def test_bootstrap_matches_normal_theory() -> None:
    # For the mean of 400 draws the percentile interval is close to
    # mean +- 1.96 * s / sqrt(n).
    values = np.random.default_rng(7).normal(loc=0.4, scale=0.2, size=400)
    estimate, low, high = bootstrap_ci(values)
    half_width = 1.96 * values.std(ddof=1) / math.sqrt(values.size)

    assert estimate == pytest.approx(values.mean())
    assert low == pytest.approx(estimate - half_width, abs=0.004)
    assert high == pytest.approx(estimate + half_width, abs=0.004)


def test_bootstrap_median_statistic() -> None:
    estimate, low, high = bootstrap_ci([1.0, 2.0, 3.0, 4.0, 100.0], np.median)
    assert estimate == 3.0
    assert low >= 1.0
    assert high <= 100.0


def test_bootstrap_confidence_widens_interval() -> None:
    values = np.random.default_rng(3).uniform(size=80)
    _, low_90, high_90 = bootstrap_ci(values, confidence=0.90)
    _, low_99, high_99 = bootstrap_ci(values, confidence=0.99)
    assert low_99 < low_90
    assert high_99 > high_90


@pytest.mark.parametrize(
    ("values", "kwargs"),
    [
        pytest.param([0.1, math.nan], {}, id="nan"),
        pytest.param([0.1, 0.2], {"confidence": 1.0}, id="confidence"),
        pytest.param([0.1, 0.2], {"n_resamples": 0}, id="resamples"),
    ],
)
def test_bootstrap_rejects(values: list[float], kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        bootstrap_ci(values, **kwargs)  # type: ignore[arg-type]


# paired_wilcoxon


def test_wilcoxon_hand_example() -> None:
    # d = [3, -1, 2, 5, -4, 0]: the zero is dropped; |d| ranks 1..5 are
    # 1->1, 2->2, 3->3, 4->4, 5->5, so R+ = 3 + 2 + 5 = 10 and R- = 1 + 4 = 5.
    x = [3.0, 0.0, 2.0, 5.0, 0.0, 1.0]
    y = [0.0, 1.0, 0.0, 0.0, 4.0, 1.0]
    result = paired_wilcoxon(x, y)

    assert result.n == 6
    assert result.n_zero == 1
    assert result.statistic == 10.0
    assert result.rank_biserial == pytest.approx((10 - 5) / 15)
    assert result.median_diff == 1.0  # median of -4, -1, 0, 2, 3, 5
    # 10 of the 32 sign patterns reach R+ >= 10.
    assert result.p_value == pytest.approx(10 / 32)
    assert result.p_value == pytest.approx(
        brute_force_signed_rank_p([3, -1, 2, 5, -4, 0], "greater")
    )
    assert result.note is None


def test_wilcoxon_two_sided_hand_example() -> None:
    x = [3.0, 0.0, 2.0, 5.0, 0.0]
    y = [0.0, 1.0, 0.0, 0.0, 4.0]
    result = paired_wilcoxon(x, y, alternative="two-sided")

    assert result.statistic == 5.0  # min(R+, R-)
    assert result.p_value == pytest.approx(20 / 32)
    assert result.p_value == pytest.approx(brute_force_signed_rank_p([3, -1, 2, 5, -4], "two"))


def test_wilcoxon_all_positive() -> None:
    result = paired_wilcoxon([1.0, 2.0, 3.0, 4.0, 5.0], [0.0] * 5)
    assert result.statistic == 15.0
    assert result.p_value == pytest.approx(1 / 32)
    assert result.rank_biserial == 1.0


def test_wilcoxon_rank_biserial_ties() -> None:
    # d = [1, 1, -2, 3]: |d| ranks 1.5, 1.5, 3, 4; R+ = 7, R- = 3, r = 4 / 10.
    result = paired_wilcoxon([1.0, 1.0, 0.0, 3.0], [0.0, 0.0, 2.0, 0.0])
    assert result.rank_biserial == pytest.approx(0.4)


def test_wilcoxon_single_pair() -> None:
    result = paired_wilcoxon([1.0], [0.0])
    assert result.n == 1
    assert result.p_value == pytest.approx(0.5)
    assert result.rank_biserial == 1.0


def test_wilcoxon_all_zero_differences() -> None:
    result = paired_wilcoxon([0.5, 1.0, 0.0], [0.5, 1.0, 0.0])
    assert result.n == 3
    assert result.n_zero == 3
    assert math.isnan(result.statistic)
    assert math.isnan(result.p_value)
    assert math.isnan(result.rank_biserial)
    assert result.median_diff == 0.0
    assert result.note is not None
    assert "zero" in result.note


def test_wilcoxon_no_pairs() -> None:
    result = paired_wilcoxon([], [])
    assert result.n == 0
    assert math.isnan(result.p_value)
    assert result.note == "no pairs to test"


@pytest.mark.parametrize(
    ("x", "y"),
    [
        pytest.param([1.0, 2.0], [1.0], id="length"),
        pytest.param([1.0, math.nan], [0.0, 0.0], id="nan"),
    ],
)
def test_wilcoxon_rejects(x: list[float], y: list[float]) -> None:
    with pytest.raises(ValueError):
        paired_wilcoxon(x, y)


# holm_correction


def test_holm_hand_example() -> None:
    # Sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> 0.06
    # (running maximum), returned in input order.
    adjusted = holm_correction([0.01, 0.04, 0.03, 0.005])
    assert adjusted == pytest.approx([0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one() -> None:
    assert holm_correction([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_holm_nan_passes_through() -> None:
    adjusted = holm_correction([0.01, math.nan, 0.02])
    assert adjusted[0] == pytest.approx(0.02)
    assert math.isnan(adjusted[1])
    assert adjusted[2] == pytest.approx(0.02)


def test_holm_empty() -> None:
    assert holm_correction([]) == []


def test_holm_rejects_out_of_range() -> None:
    with pytest.raises(ValueError, match="p-values must lie in"):
        holm_correction([0.2, 1.5])


# friedman_test


def long_frame(rows: dict[str, list[float]], levels: list[str]) -> pd.DataFrame:
    records = [
        {"function": subject, "opt": level, "f1": value}
        for subject, values in rows.items()
        for level, value in zip(levels, values, strict=False)
    ]
    return pd.DataFrame.from_records(records)


def test_friedman_perfect_agreement() -> None:
    # Every subject ranks O0 < O1 < O2: rank sums 4, 8, 12 with n = 4, k = 3;
    # Q = 12 / (4 * 3 * 4) * (16 + 64 + 144) - 3 * 4 * 4 = 56 - 48 = 8.
    frame = long_frame(
        {"a": [0.1, 0.2, 0.3], "b": [0.0, 0.5, 1.0], "c": [0.2, 0.4, 0.9], "d": [0.3, 0.6, 0.7]},
        ["O0", "O1", "O2"],
    )
    result = friedman_test(frame, subject_col="function", treatment_col="opt", value_col="f1")

    assert result.n_subjects == 4
    assert result.k == 3
    assert result.statistic == pytest.approx(8.0)
    assert result.p_value == pytest.approx(math.exp(-4.0))  # chi2(2) survival is exp(-x/2)
    assert result.kendalls_w == pytest.approx(1.0)
    assert result.n_dropped == 0
    assert result.note is None


def test_friedman_partial_agreement() -> None:
    # Ranks (1,2,3), (1,3,2), (2,1,3): sums 4, 6, 8 with n = 3, k = 3;
    # Q = 12 / 36 * (16 + 36 + 64) - 36 = 8/3, W = Q / (3 * 2) = 4/9.
    frame = long_frame(
        {"a": [1.0, 2.0, 3.0], "b": [10.0, 30.0, 20.0], "c": [5.0, 4.0, 6.0]},
        ["O0", "O1", "O2"],
    )
    result = friedman_test(frame, subject_col="function", treatment_col="opt", value_col="f1")

    assert result.statistic == pytest.approx(8 / 3)
    assert result.p_value == pytest.approx(math.exp(-4 / 3))
    assert result.kendalls_w == pytest.approx(4 / 9)


def test_friedman_drops_incomplete_subjects() -> None:
    frame = long_frame(
        {
            "a": [0.1, 0.2, 0.3],
            "b": [0.0, 0.5, 1.0],
            "c": [0.2, 0.4, 0.9],
            "d": [0.3, 0.6, 0.7],
            "missing-level": [0.9, 0.1],
            "nan-value": [0.9, math.nan, 0.1],
        },
        ["O0", "O1", "O2"],
    )
    result = friedman_test(frame, subject_col="function", treatment_col="opt", value_col="f1")

    assert result.n_subjects == 4
    assert result.n_dropped == 2
    assert result.statistic == pytest.approx(8.0)


def test_friedman_two_levels_undefined() -> None:
    frame = long_frame({"a": [0.1, 0.2], "b": [0.3, 0.1]}, ["O0", "O3"])
    result = friedman_test(frame, subject_col="function", treatment_col="opt", value_col="f1")
    assert result.k == 2
    assert math.isnan(result.statistic)
    assert math.isnan(result.kendalls_w)
    assert result.note is not None
    assert "at least 3 levels" in result.note


def test_friedman_all_ties_undefined() -> None:
    frame = long_frame({"a": [0.5, 0.5, 0.5], "b": [1.0, 1.0, 1.0]}, ["O0", "O1", "O2"])
    result = friedman_test(frame, subject_col="function", treatment_col="opt", value_col="f1")
    assert result.n_subjects == 2
    assert math.isnan(result.p_value)
    assert result.note is not None
    assert "same value" in result.note


def test_friedman_one_subject_undefined() -> None:
    frame = long_frame({"a": [0.1, 0.2, 0.3]}, ["O0", "O1", "O2"])
    result = friedman_test(frame, subject_col="function", treatment_col="opt", value_col="f1")
    assert math.isnan(result.statistic)
    assert result.note is not None
    assert "2 complete subjects" in result.note


def test_friedman_rejects_missing_column() -> None:
    frame = long_frame({"a": [0.1, 0.2, 0.3]}, ["O0", "O1", "O2"])
    with pytest.raises(ValueError, match="no column"):
        friedman_test(frame, subject_col="function", treatment_col="level", value_col="f1")


# mcnemar_test


def paired_outcomes(
    both: int, only_a: int, only_b: int, neither: int
) -> tuple[list[bool], list[bool]]:
    a = [True] * both + [True] * only_a + [False] * only_b + [False] * neither
    b = [True] * both + [False] * only_a + [True] * only_b + [False] * neither
    return a, b


def test_mcnemar_exact_hand() -> None:
    # b01 = 8 (A wrong, B right), b10 = 2: exact two-sided binomial
    # p = 2 * P(X <= 2 | n = 10, 1/2) = 2 * (1 + 10 + 45) / 1024.
    a, b = paired_outcomes(both=5, only_a=2, only_b=8, neither=5)
    result = mcnemar_test(a, b)

    assert result.n == 20
    assert result.b01 == 8
    assert result.b10 == 2
    assert result.exact is True
    assert result.statistic == 2.0
    assert result.p_value == pytest.approx(112 / 1024)


def test_mcnemar_chi_square_hand() -> None:
    # b01 = 30, b10 = 10: chi2 = (|30 - 10| - 1)**2 / 40 = 9.025 on 1 df,
    # whose survival function is erfc(sqrt(x / 2)).
    a, b = paired_outcomes(both=5, only_a=10, only_b=30, neither=5)
    result = mcnemar_test(a, b)

    assert result.exact is False
    assert result.statistic == pytest.approx(9.025)
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(9.025 / 2)))


@pytest.mark.parametrize(
    ("only_a", "only_b", "exact"),
    [pytest.param(12, 12, True, id="24-discordant"), pytest.param(12, 13, False, id="25")],
)
def test_mcnemar_exact_threshold(only_a: int, only_b: int, exact: bool) -> None:
    a, b = paired_outcomes(both=3, only_a=only_a, only_b=only_b, neither=3)
    assert mcnemar_test(a, b).exact is exact


def test_mcnemar_no_discordant_pairs() -> None:
    a, b = paired_outcomes(both=4, only_a=0, only_b=0, neither=3)
    result = mcnemar_test(a, b)
    assert result.b01 == 0
    assert result.b10 == 0
    assert math.isnan(result.p_value)
    assert result.note is not None


def test_mcnemar_accepts_numpy_and_pandas() -> None:
    a, b = paired_outcomes(both=5, only_a=2, only_b=8, neither=5)
    result = mcnemar_test(np.array(a), pd.Series(b))  # type: ignore[arg-type]
    assert result.p_value == pytest.approx(112 / 1024)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        pytest.param([True, False], [True], id="length"),
        pytest.param([True, None], [True, False], id="none"),
        pytest.param([1, 0], [0, 1], id="int"),
    ],
)
def test_mcnemar_rejects(a: list[object], b: list[object]) -> None:
    with pytest.raises(ValueError):
        mcnemar_test(a, b)  # type: ignore[arg-type]


# paired_cohort


def cohort_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "function": ["f1", "f1", "f1", "f2", "f3", "f3", "f4", "f4", "f5"],
            "opt": ["O0", "O3", "O1", "O0", "O0", "O3", "O0", "O3", "O1"],
            "f1": [1.0, 0.5, 0.7, 0.9, 0.4, math.nan, 0.2, 0.3, 0.6],
        }
    )


def test_paired_cohort_keeps_complete_keys() -> None:
    wide = paired_cohort(cohort_frame(), "function", "opt", "f1", ["O0", "O3"])

    assert wide.index.tolist() == ["f1", "f4"]
    assert wide.columns.tolist() == ["O0", "O3"]
    assert wide.loc["f1"].tolist() == [1.0, 0.5]
    assert wide.loc["f4"].tolist() == [0.2, 0.3]
    # f2 lacks O3 and f3 has NaN at O3; f5 has neither level and is not counted.
    assert wide.attrs["n_dropped"] == 2


def test_paired_cohort_level_order() -> None:
    wide = paired_cohort(cohort_frame(), "function", "opt", "f1", ["O3", "O0"])
    assert wide.columns.tolist() == ["O3", "O0"]
    assert wide.loc["f1"].tolist() == [0.5, 1.0]


def test_paired_cohort_composite_key() -> None:
    frame = pd.DataFrame(
        {
            "model": ["m1", "m1", "m2", "m2", "m2"],
            "function": ["f1", "f1", "f1", "f1", "f2"],
            "opt": ["O0", "O3", "O0", "O3", "O0"],
            "f1": [1.0, 0.5, 0.8, 0.4, 0.3],
        }
    )
    wide = paired_cohort(frame, ["model", "function"], "opt", "f1", ["O0", "O3"])
    assert wide.index.tolist() == [("m1", "f1"), ("m2", "f1")]
    assert wide.attrs["n_dropped"] == 1


def test_paired_cohort_rejects_duplicates() -> None:
    frame = pd.concat([cohort_frame(), cohort_frame().iloc[:1]])
    with pytest.raises(ValueError, match="aggregate them"):
        paired_cohort(frame, "function", "opt", "f1", ["O0", "O3"])


def test_paired_cohort_rejects_empty_levels() -> None:
    with pytest.raises(ValueError, match="at least one level"):
        paired_cohort(cohort_frame(), "function", "opt", "f1", [])
