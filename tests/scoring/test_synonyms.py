"""Tests for loading and validating synonym tables."""

from __future__ import annotations

from pathlib import Path

import pytest

from reforge.errors import ConfigError
from reforge.scoring.synonyms import (
    SynonymTableError,
    load_synonym_table,
    parse_synonym_table,
)
from reforge.scoring.tokens import split_name_tokens


def test_builtin_table_pairs() -> None:
    table = load_synonym_table()
    pairs = {
        "buf": "buffer",
        "str": "string",
        "init": "initialize",
        "initialise": "initialize",
        "len": "length",
        "cnt": "count",
        "ptr": "pointer",
        "msg": "message",
        "err": "error",
        "dst": "destination",
        "dest": "destination",
        "idx": "index",
        "ctx": "context",
        "cfg": "configuration",
        "dealloc": "free",
    }
    for short, canonical in pairs.items():
        assert table.canonical_token(short) == canonical, short


def test_builtin_table_keeps_unknown_tokens() -> None:
    table = load_synonym_table()
    assert table.canonical_token("zlib") == "zlib"
    assert table.canonicalise(["init", "zlib", "buf", "buf"]) == [
        "initialize",
        "zlib",
        "buffer",
        "buffer",
    ]


def test_builtin_table_words_are_single_tokens() -> None:
    table = load_synonym_table()
    assert len(table.groups) >= 60
    for key, words in table.groups.items():
        assert key in words
        for word in words:
            assert split_name_tokens(word) == [word], word


def test_builtin_table_loaded_once() -> None:
    assert load_synonym_table() is load_synonym_table()


def test_table_records_source_and_digest(tmp_path: Path) -> None:
    path = tmp_path / "small.toml"
    path.write_text('[groups]\nbuffer = ["buf"]\n', encoding="utf-8")
    table = load_synonym_table(path)

    assert table.source == str(path)
    assert len(table.sha256) == 64
    assert table.sha256 != load_synonym_table().sha256


@pytest.mark.parametrize(
    ("text", "message_part"),
    [
        pytest.param("[groups\n", "not valid TOML", id="syntax"),
        pytest.param('buffer = ["buf"]\n', "no [groups] table", id="no-groups"),
        pytest.param('[groups]\nbuffer = "buf"\n', "must be a list of strings", id="not-list"),
        pytest.param('[groups]\nbuffer = ["Buf"]\n', "single lower-case", id="upper-case"),
        pytest.param('[groups]\nlength = ["str_len"]\n', "single lower-case", id="two-tokens"),
        pytest.param('[groups]\nutf = ["utf8"]\n', "single lower-case", id="letter-digit"),
        pytest.param('[groups]\nbuffer = ["buf", "buf"]\n', "lists a word twice", id="repeat"),
        pytest.param(
            '[groups]\nbuffer = ["buf"]\nbuff = ["buf"]\n', "one group only", id="two-groups"
        ),
    ],
)
def test_parse_synonym_table_rejects(text: str, message_part: str) -> None:
    with pytest.raises(SynonymTableError, match=r"bad\.toml") as caught:
        parse_synonym_table(text, source="bad.toml")
    assert message_part in str(caught.value)


def test_load_synonym_table_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "absent.toml"
    with pytest.raises(SynonymTableError, match="cannot read synonym table"):
        load_synonym_table(missing)


def test_synonym_table_error_is_config_error() -> None:
    assert issubclass(SynonymTableError, ConfigError)
    assert issubclass(SynonymTableError, ValueError)
