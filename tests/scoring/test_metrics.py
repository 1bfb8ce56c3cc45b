"""Tests for token precision, recall and F1 in the exact, relaxed and synonym variants.

Expected values are counted by hand from the token lists in each case.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reforge.scoring.metrics import (
    TokenScores,
    relaxed_token_scores,
    synonym_token_scores,
    token_scores,
)
from reforge.scoring.synonyms import load_synonym_table


def assert_scores(actual: TokenScores, precision: float, recall: float, f1: float) -> None:
    assert actual.precision == pytest.approx(precision)
    assert actual.recall == pytest.approx(recall)
    assert actual.f1 == pytest.approx(f1)


@pytest.mark.parametrize(
    ("pred", "truth", "precision", "recall", "f1"),
    [
        pytest.param("parse_header", "parseHeader", 1.0, 1.0, 1.0, id="camel-vs-snake"),
        pytest.param("parse_http_header", "parseHTTPHeader", 1.0, 1.0, 1.0, id="acronym"),
        # {init, buf} vs {buffer, init}: only init matches, 1/2 each.
        pytest.param("init_buf", "buffer_init", 0.5, 0.5, 0.5, id="abbreviation-misses"),
        # multiset: pred has get twice, truth once -> matched 2 of 3 predicted.
        pytest.param("get_get_value", "get_value", 2 / 3, 1.0, 0.8, id="multiset-pred-repeat"),
        pytest.param("get_value", "get_get_value", 1.0, 2 / 3, 0.8, id="multiset-truth-repeat"),
        # 2 of 3 predicted tokens are true; both true tokens are found.
        pytest.param("open_file_descriptor", "file_open", 2 / 3, 1.0, 0.8, id="order-ignored"),
        pytest.param("read_file", "write_file", 0.5, 0.5, 0.5, id="half"),
        pytest.param("compress_block", "parse_header", 0.0, 0.0, 0.0, id="disjoint"),
        pytest.param("", "get_value", 0.0, 0.0, 0.0, id="empty-prediction"),
        pytest.param("get_value", "", 0.0, 0.0, 0.0, id="empty-truth"),
        pytest.param("", "", 1.0, 1.0, 1.0, id="both-empty"),
    ],
)
def test_token_scores(pred: str, truth: str, precision: float, recall: float, f1: float) -> None:
    assert_scores(token_scores(pred, truth), precision, recall, f1)


def test_token_scores_accepts_token_lists() -> None:
    assert_scores(token_scores(["get", "get", "value"], ["get", "value"]), 2 / 3, 1.0, 0.8)


def test_token_scores_string_is_not_character_list() -> None:
    # "ab" as a name is one token; as characters it would be two.
    assert_scores(token_scores("ab", ["a", "b"]), 0.0, 0.0, 0.0)


@pytest.mark.parametrize(
    ("pred", "truth", "precision", "recall", "f1"),
    [
        # buf is a prefix of buffer (length 3 >= 2).
        pytest.param("init_buf", "buffer_init", 1.0, 1.0, 1.0, id="prefix"),
        pytest.param("str_len", "string_length", 1.0, 1.0, 1.0, id="two-prefixes"),
        # set is a suffix of reset: accepted by design.
        pytest.param("set_value", "reset_value", 1.0, 1.0, 1.0, id="suffix"),
        # s is a prefix of str but only one character long; len matches length.
        pytest.param("s_len", "str_length", 0.5, 0.5, 0.5, id="too-short"),
        # one-to-one: only one buf can use the single buffer.
        pytest.param("buf_buf", "buffer", 0.5, 1.0, 2 / 3, id="one-to-one"),
        # greedy left-to-right would pair in->initialize and leave init unmatched;
        # the maximum matching pairs in->int and init->initialize.
        pytest.param("in_init", "initialize_int", 1.0, 1.0, 1.0, id="maximum-matching"),
        pytest.param("compress_block", "parse_header", 0.0, 0.0, 0.0, id="disjoint"),
        pytest.param("", "get_value", 0.0, 0.0, 0.0, id="empty-prediction"),
        pytest.param("", "", 1.0, 1.0, 1.0, id="both-empty"),
    ],
)
def test_relaxed_token_scores(
    pred: str, truth: str, precision: float, recall: float, f1: float
) -> None:
    assert_scores(relaxed_token_scores(pred, truth), precision, recall, f1)


def test_relaxed_token_scores_min_length() -> None:
    assert_scores(relaxed_token_scores("buf", "buffer", min_length=4), 0.0, 0.0, 0.0)
    assert_scores(relaxed_token_scores("buff", "buffer", min_length=4), 1.0, 1.0, 1.0)


@pytest.mark.parametrize(
    ("pred", "truth", "precision", "recall", "f1"),
    [
        pytest.param("init_buf", "buffer_init", 1.0, 1.0, 1.0, id="buf-init"),
        pytest.param("cnt_msgs", "count_messages", 1.0, 1.0, 1.0, id="cnt-msgs"),
        pytest.param("calc_checksum", "compute_checksum", 1.0, 1.0, 1.0, id="calc-compute"),
        pytest.param("get_len", "get_size", 0.5, 0.5, 0.5, id="different-groups"),
        # buf and buffer both map to buffer: two predicted copies, one true.
        pytest.param("buf_buffer", "buffer", 0.5, 1.0, 2 / 3, id="multiset"),
        pytest.param("", "buffer_init", 0.0, 0.0, 0.0, id="empty-prediction"),
    ],
)
def test_synonym_token_scores(
    pred: str, truth: str, precision: float, recall: float, f1: float
) -> None:
    assert_scores(synonym_token_scores(pred, truth), precision, recall, f1)


def test_synonym_token_scores_custom_table(tmp_path: Path) -> None:
    table_path = tmp_path / "fetch.toml"
    table_path.write_text('[groups]\nfetch = ["get", "retrieve"]\n', encoding="utf-8")
    table = load_synonym_table(table_path)

    assert_scores(synonym_token_scores("get_value", "fetch_value", table=table), 1.0, 1.0, 1.0)
    assert_scores(synonym_token_scores("get_value", "fetch_value"), 0.5, 0.5, 0.5)
    # The custom table replaces the built-in one, so buf no longer matches buffer.
    assert_scores(synonym_token_scores("buf", "buffer", table=table), 0.0, 0.0, 0.0)
