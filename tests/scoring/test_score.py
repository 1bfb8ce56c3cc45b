"""Tests for score_prediction: every metric of one model reply, by hand-checked cases."""

from __future__ import annotations

import json
from dataclasses import fields
from typing import Any

import pytest

import reforge.scoring
from reforge.scoring import SCORER_VERSION, Score, score_prediction

METRIC_FIELDS = [
    "exact_match",
    "exact_match_norm",
    "token_precision",
    "token_recall",
    "token_f1",
    "relaxed_precision",
    "relaxed_recall",
    "relaxed_f1",
    "synonym_precision",
    "synonym_recall",
    "synonym_f1",
    "is_trivial",
    "topk_best_f1",
    "topk_exact_any",
    "topk_uplift",
]


@pytest.mark.parametrize(
    ("pred", "truth", "expected"),
    [
        pytest.param(
            "parseHeader",
            "parse_header",
            {"exact_match": False, "exact_match_norm": True, "token_f1": 1.0, "is_trivial": False},
            id="camel-vs-snake",
        ),
        pytest.param(
            "parse_header",
            "parse_header",
            {"exact_match": True, "exact_match_norm": True, "token_f1": 1.0},
            id="identical",
        ),
        pytest.param(
            "init_buf",
            "buffer_init",
            {
                "exact_match_norm": False,
                "token_precision": 0.5,
                "token_recall": 0.5,
                "token_f1": 0.5,
                "relaxed_f1": 1.0,
                "synonym_f1": 1.0,
            },
            id="abbreviation",
        ),
        pytest.param(
            "get_get_value",
            "get_value",
            {"token_precision": 2 / 3, "token_recall": 1.0, "token_f1": 0.8},
            id="multiset",
        ),
        pytest.param(
            "",
            "get_value",
            {
                "exact_match": False,
                "exact_match_norm": False,
                "token_f1": 0.0,
                "relaxed_f1": 0.0,
                "synonym_f1": 0.0,
                "is_trivial": True,
            },
            id="empty-prediction",
        ),
        pytest.param(
            None,
            "get_value",
            {"exact_match": False, "token_f1": 0.0, "is_trivial": True},
            id="none-prediction-answered",
        ),
        pytest.param(
            "FUN_00401000",
            "inflate_fast",
            {"token_f1": 0.0, "is_trivial": True},
            id="placeholder",
        ),
        pytest.param("main", "main", {"exact_match": True, "is_trivial": False}, id="main-is-main"),
        pytest.param(
            "main", "parse_args", {"token_f1": 0.0, "is_trivial": False}, id="main-not-main"
        ),
        pytest.param(
            "helper",
            "helper",
            {"exact_match_norm": True, "is_trivial": False},
            id="generic-but-correct",
        ),
    ],
)
def test_score_prediction(pred: str | None, truth: str, expected: dict[str, Any]) -> None:
    score = score_prediction(pred, truth)
    for name, value in expected.items():
        assert getattr(score, name) == pytest.approx(value), name


def test_score_prediction_tokens() -> None:
    score = score_prediction("XMLHttpRequest", "get_utf8_len")
    assert score.pred_tokens == ("xml", "http", "request")
    assert score.truth_tokens == ("get", "utf", "8", "len")
    assert score.scorer_version == SCORER_VERSION


@pytest.mark.parametrize("outcome", ["parse_failure", "provider_failure"])
def test_score_prediction_failure_all_none(outcome: str) -> None:
    score = score_prediction("parse_header", "parse_header", outcome=outcome, leak=True)  # type: ignore[arg-type]
    assert score.outcome == outcome
    for name in METRIC_FIELDS:
        assert getattr(score, name) is None, name
    assert score.pred_tokens is None
    assert score.truth_tokens == ("parse", "header")
    assert score.leak is True
    assert score.scorer_version == SCORER_VERSION


def test_score_prediction_unknown_outcome() -> None:
    with pytest.raises(ValueError, match="unknown outcome 'timeout'"):
        score_prediction("a", "b", outcome="timeout")  # type: ignore[arg-type]


def test_score_prediction_rejects_string_candidates() -> None:
    with pytest.raises(TypeError, match="sequence of names"):
        score_prediction("read_file", "read_file", candidates="read_file")


def test_score_prediction_without_candidates() -> None:
    score = score_prediction("read_file", "read_file")
    assert score.topk_best_f1 is None
    assert score.topk_exact_any is None
    assert score.topk_uplift is None


def test_score_prediction_topk_uplift() -> None:
    # rank 1 "read_data": 1 of 2 tokens right -> F1 0.5.
    # "read_file_header": matched 2 of 3 predicted, 2 of 2 true -> F1 0.8.
    # "readFile": exact after normalisation -> F1 1.0.
    score = score_prediction(
        "read_data",
        "read_file",
        candidates=["read_data", "read_file_header", "readFile"],
    )
    assert score.token_f1 == pytest.approx(0.5)
    assert score.topk_best_f1 == pytest.approx(1.0)
    assert score.topk_exact_any is True
    assert score.topk_uplift == pytest.approx(0.5)
    assert score.exact_match_norm is False


def test_score_prediction_topk_rank1_best() -> None:
    score = score_prediction("read_file", "read_file", candidates=["write_file", "open"])
    assert score.topk_best_f1 == pytest.approx(1.0)
    assert score.topk_exact_any is True
    assert score.topk_uplift == pytest.approx(0.0)


def test_score_prediction_topk_no_exact() -> None:
    score = score_prediction("open", "read_file", candidates=["write_file", "", "close"])
    assert score.topk_best_f1 == pytest.approx(0.5)
    assert score.topk_exact_any is False
    assert score.topk_uplift == pytest.approx(0.5)


def test_score_to_dict_is_json_ready() -> None:
    score = score_prediction("init_buf", "buffer_init", candidates=["buffer_init"], leak=True)
    as_dict = score.to_dict()

    assert list(as_dict) == [field.name for field in fields(Score)]
    assert as_dict["pred_tokens"] == ["init", "buf"]
    assert as_dict["truth_tokens"] == ["buffer", "init"]
    assert as_dict["leak"] is True
    assert json.loads(json.dumps(as_dict)) == as_dict


def test_score_is_frozen() -> None:
    score = score_prediction("a", "b")
    with pytest.raises(AttributeError):
        score.token_f1 = 1.0  # type: ignore[misc]


def test_scoring_public_names() -> None:
    assert set(reforge.scoring.__all__) == {
        "GENERIC_NAME_TOKENS",
        "OUTCOMES",
        "RELAXED_MIN_LENGTH",
        "SCORER_VERSION",
        "Outcome",
        "Score",
        "SynonymTable",
        "SynonymTableError",
        "TokenScores",
        "is_trivial_prediction",
        "load_synonym_table",
        "normalise_name",
        "parse_synonym_table",
        "relaxed_token_scores",
        "score_prediction",
        "split_name_tokens",
        "synonym_token_scores",
        "token_scores",
    }
    for name in reforge.scoring.__all__:
        assert hasattr(reforge.scoring, name), name
