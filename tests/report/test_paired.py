"""Pairing results across levels: matching prompt conditions, averaging runs, dropping gaps."""

from __future__ import annotations

import pandas as pd
import pytest

from reforge.report.paired import paired_values


def _rows(records: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=["stable_key", "context_level", "opt", "token_f1"])


def test_paired_values_matches_conditions() -> None:
    rows = _rows(
        [
            ("a", "L0", "O0", 1.0),
            ("a", "L0", "O3", 0.5),
            ("a", "L1", "O0", 0.8),  # no L1 result at O3, so this one is dropped
            ("b", "L0", "O0", 0.6),
            ("b", "L0", "O3", 0.2),
            ("b", "L1", "O0", 0.4),
            ("b", "L1", "O3", 0.4),
            ("c", "L0", "O0", 0.9),  # never run at O3
        ]
    )
    wide = paired_values(
        rows,
        subject="stable_key",
        level_col="opt",
        levels=["O0", "O3"],
        condition=["context_level"],
    )

    assert wide.index.tolist() == ["a", "b"]
    assert wide.loc["a"].tolist() == [1.0, 0.5]
    # b averages its two complete conditions: O0 (0.6 + 0.4) / 2, O3 (0.2 + 0.4) / 2.
    assert wide.loc["b", "O0"] == pytest.approx(0.5)
    assert wide.loc["b", "O3"] == pytest.approx(0.3)
    assert wide.attrs["n_dropped"] == 2


def test_paired_values_averages_runs() -> None:
    rows = _rows(
        [
            ("a", "L0", "O0", 1.0),
            ("a", "L0", "O0", 0.0),
            ("a", "L0", "O3", 0.25),
        ]
    )
    wide = paired_values(
        rows,
        subject="stable_key",
        level_col="opt",
        levels=["O0", "O3"],
        condition=["context_level"],
    )

    assert wide.loc["a", "O0"] == 0.5
    assert wide.loc["a", "O3"] == 0.25


def test_paired_values_skips_missing_values() -> None:
    rows = _rows([("a", "L0", "O0", 1.0), ("a", "L0", "O3", float("nan"))])
    rows.loc[len(rows)] = [None, "L0", "O0", 0.5]
    wide = paired_values(
        rows,
        subject="stable_key",
        level_col="opt",
        levels=["O0", "O3"],
        condition=["context_level"],
    )

    assert wide.empty
    assert list(wide.columns) == ["O0", "O3"]


def test_paired_values_no_levels() -> None:
    rows = _rows([("a", "L0", "O0", 1.0)])
    wide = paired_values(
        rows, subject="stable_key", level_col="opt", levels=[], condition=["context_level"]
    )

    assert wide.empty
