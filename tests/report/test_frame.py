"""Loading the report frames from a real store, on every available database back-end."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from reforge.report.frame import (
    SCORE_FRAME_COLUMNS,
    load_funnel_frame,
    load_score_frame,
    load_tier_frame,
)
from reforge.scoring import SCORER_VERSION
from reforge.store.db import Store
from reforge.store.models import Score
from reforge.store.scores import score_rows

from .conftest import BASELINE, MODEL_A, MODEL_B, FilledStore, fill_store

# Counted by hand from CORPUS in conftest.py. with_range excludes inlined_twice.
# Each gate column drops the functions whose first failed gate is that gate or
# an earlier one. unjoined_fn (O3) has a range but no joined row.
EXPECTED_FUNNEL = {
    "O0": {
        "dwarf_functions": 11,
        "with_range": 10,
        "not_joined": 0,
        "dwarf_verdict": 10,
        "source_alignment": 9,
        "join_strength": 8,
        "decompiled": 8,
        "noise": 7,
        "cfg_completeness": 6,
        "fatal_warning": 6,
        "gold": 6,
        "silver": 3,
        "bronze": 1,
        "no_tier": 1,
    },
    "O1": {
        "dwarf_functions": 9,
        "with_range": 8,
        "not_joined": 0,
        "dwarf_verdict": 8,
        "source_alignment": 8,
        "join_strength": 7,
        "decompiled": 7,
        "noise": 6,
        "cfg_completeness": 5,
        "fatal_warning": 5,
        "gold": 5,
        "silver": 2,
        "bronze": 1,
        "no_tier": 1,
    },
    "O3": {
        "dwarf_functions": 11,
        "with_range": 10,
        "not_joined": 1,
        "dwarf_verdict": 9,
        "source_alignment": 8,
        "join_strength": 7,
        "decompiled": 6,
        "noise": 5,
        "cfg_completeness": 5,
        "fatal_warning": 4,
        "gold": 4,
        "silver": 4,
        "bronze": 1,
        "no_tier": 2,
    },
}


@pytest.fixture
def filled(store: Store) -> FilledStore:
    return fill_store(store)


def test_score_frame_one_row_per_score(filled: FilledStore) -> None:
    with filled.store.session() as session:
        frame = load_score_frame(session)
        stored = session.query(Score).filter(Score.scorer_version == SCORER_VERSION).count()

    assert list(frame.columns) == list(SCORE_FRAME_COLUMNS)
    assert len(frame) == stored
    assert frame["result_id"].is_unique


def test_score_frame_joins_function_and_config(filled: FilledStore) -> None:
    with filled.store.session() as session:
        frame = load_score_frame(session)

    for row in frame.itertuples():
        assert row.stable_key == filled.uid_to_key[row.function_uid]
        assert row.opt == filled.uid_to_opt[row.function_uid]
    topk = frame[frame["experiment_id"] == "a_O0_topk"]
    assert set(topk["top_k"]) == {3}
    assert set(topk["context_level"]) == {"L2"}
    assert set(topk["template_id"]) == {"function_naming_topk_L2"}
    assert set(frame.loc[frame["experiment_id"] == "a_O0_L1", "context_level"]) == {"L1"}
    dummy = frame[frame["truth_name"] == "frame_dummy"]
    assert dummy["leak"].all()
    assert set(dummy["tier"]) == {"SILVER"}


def test_score_frame_marks_baseline(filled: FilledStore) -> None:
    with filled.store.session() as session:
        frame = load_score_frame(session)

    baseline = frame.groupby("model")["is_baseline"].agg(set).to_dict()
    assert baseline == {MODEL_A: {False}, MODEL_B: {False}, BASELINE: {True}}
    labels = frame.groupby("model")["model_label"].first().to_dict()
    assert labels[MODEL_A] == "gpt4o-mini"


def test_score_frame_matches_score_rows(filled: FilledStore) -> None:
    with filled.store.session() as session:
        frame = load_score_frame(session, ["b_O0_L0"])
        rows = score_rows(session, "b_O0_L0")["rows"]

    assert set(frame["experiment_id"]) == {"b_O0_L0"}
    by_id = frame.set_index("result_id")
    for row in rows:
        loaded = by_id.loc[row["result_id"]]
        assert loaded["outcome"] == row["outcome"]
        if row["token_f1"] is None:
            assert math.isnan(loaded["token_f1"])
        else:
            assert loaded["token_f1"] == row["token_f1"]


def test_score_frame_empty_store(store: Store) -> None:
    with store.session() as session:
        frame = load_score_frame(session)

    assert frame.empty
    assert list(frame.columns) == list(SCORE_FRAME_COLUMNS)


def test_funnel_counts_by_hand(filled: FilledStore) -> None:
    with filled.store.session() as session:
        funnel = load_funnel_frame(session)

    assert funnel["opt"].tolist() == ["O0", "O1", "O2", "O3"]
    indexed = funnel.set_index("opt")
    for opt, expected in EXPECTED_FUNNEL.items():
        assert indexed.loc[opt].to_dict() == expected, opt
    assert indexed.loc["O2"].to_dict() == EXPECTED_FUNNEL["O1"]


def test_funnel_variant_filter(filled: FilledStore) -> None:
    with filled.store.session() as session:
        pie = load_funnel_frame(session, variant="pie")
        every = load_funnel_frame(session, variant=None)

    assert pie.to_dict("records") == [
        {
            "opt": "O0",
            "dwarf_functions": 1,
            "with_range": 1,
            "not_joined": 0,
            "dwarf_verdict": 1,
            "source_alignment": 1,
            "join_strength": 1,
            "decompiled": 1,
            "noise": 1,
            "cfg_completeness": 1,
            "fatal_warning": 1,
            "gold": 1,
            "silver": 0,
            "bronze": 0,
            "no_tier": 0,
        }
    ]
    assert every.set_index("opt").loc["O0", "with_range"] == 11


def test_tier_frame(filled: FilledStore) -> None:
    with filled.store.session() as session:
        tiers = load_tier_frame(session)

    lookup = {(row.stable_key.split(":")[-1], row.opt): row.tier for row in tiers.itertuples()}
    assert lookup["init_table", "O0"] == "GOLD"
    assert lookup["init_table", "O3"] == "SILVER"
    assert lookup["unjoined_fn", "O3"] == "none"
    assert ("free_buffer", "O3") not in lookup
    assert len(tiers) == 9 * 3 + 9 + 2 * 2
    assert not tiers.duplicated(["stable_key", "opt"]).any()


def test_funnel_empty_store(store: Store) -> None:
    with store.session() as session:
        funnel = load_funnel_frame(session)
        tiers = load_tier_frame(session)

    assert funnel.empty
    assert "fatal_warning" in funnel.columns
    assert tiers.empty
    assert isinstance(tiers, pd.DataFrame)
