"""Tests for name tokenisation, normalisation and trivial-prediction detection."""

from __future__ import annotations

import pytest

from reforge.scoring.tokens import is_trivial_prediction, normalise_name, split_name_tokens


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("parse_header", ["parse", "header"], id="snake"),
        pytest.param("parseHeader", ["parse", "header"], id="camel"),
        pytest.param("ParseHeader", ["parse", "header"], id="pascal"),
        pytest.param("XMLHttpRequest", ["xml", "http", "request"], id="leading-acronym"),
        pytest.param("parseHTTPHeader", ["parse", "http", "header"], id="inner-acronym"),
        pytest.param("readJSON", ["read", "json"], id="trailing-acronym"),
        pytest.param("get_utf8_len", ["get", "utf", "8", "len"], id="digits-own-token"),
        pytest.param("UTF8String", ["utf", "8", "string"], id="acronym-digit-word"),
        pytest.param("sha256_update", ["sha", "256", "update"], id="digit-run"),
        pytest.param("x86_64", ["x", "86", "64"], id="digits-between-separators"),
        pytest.param("foo-bar.baz$qux", ["foo", "bar", "baz", "qux"], id="other-separators"),
        pytest.param("__libc_start_main", ["libc", "start", "main"], id="leading-underscores"),
        pytest.param("ns::Widget::draw", ["ns", "widget", "draw"], id="cxx-scope"),
        pytest.param("memcpy@GLIBC_2.14", ["memcpy", "glibc", "2", "14"], id="symbol-version"),
        pytest.param("parse header", ["parse", "header"], id="space"),
        pytest.param("a__b", ["a", "b"], id="empty-token-dropped"),
        pytest.param("", [], id="empty"),
        pytest.param("___", [], id="separators-only"),
    ],
)
def test_split_name_tokens(name: str, expected: list[str]) -> None:
    assert split_name_tokens(name) == expected


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("parse_header", "parseHeader", id="snake-camel"),
        pytest.param("parse_header", "ParseHeader", id="snake-pascal"),
        pytest.param("parse_header", "__parse_header", id="leading-underscores"),
        pytest.param("parse_header", "PARSE_HEADER", id="case"),
        pytest.param("parse-header", "parse.header", id="separators"),
        pytest.param("utf8len", "utf_8_len", id="digits"),
    ],
)
def test_normalise_name_equal(first: str, second: str) -> None:
    assert normalise_name(first) == normalise_name(second)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("init_buf", "init_buffer", id="abbreviation"),
        pytest.param("parse_header", "parse_headers", id="plural"),
        pytest.param("header_parse", "parse_header", id="order"),
    ],
)
def test_normalise_name_distinct(first: str, second: str) -> None:
    assert normalise_name(first) != normalise_name(second)


def test_normalise_name_spelling() -> None:
    assert normalise_name("__XMLHttpRequest") == "xml_http_request"
    assert normalise_name("get_utf8_len") == "get_utf_8_len"
    assert normalise_name("__") == ""


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(None, id="none"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("FUN_00401000", id="ghidra-fun"),
        pytest.param("thunk_FUN_00401000", id="ghidra-thunk"),
        pytest.param("LAB_00101139", id="ghidra-lab"),
        pytest.param("DAT_00104010", id="ghidra-dat"),
        pytest.param("sub_401000", id="ida-sub"),
        pytest.param("func_0x401000", id="func-0x"),
        pytest.param("fcn.00401000", id="radare2"),
        pytest.param("0x401000", id="bare-address"),
        pytest.param("unknown", id="unknown"),
        pytest.param("function", id="function"),
        pytest.param("func", id="func"),
        pytest.param("func1", id="func-digit"),
        pytest.param("f", id="single-letter"),
        pytest.param("x1", id="letter-digit"),
        pytest.param("helper", id="helper"),
        pytest.param("do_something", id="do-something"),
        pytest.param("my_function", id="generic-words-only"),
        pytest.param("42", id="digits-only"),
    ],
)
def test_is_trivial_prediction_true(name: str | None) -> None:
    assert is_trivial_prediction(name) is True


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("main", id="main"),
        pytest.param("parse_header", id="real-name"),
        pytest.param("add", id="hex-letter-word"),
        pytest.param("cafe", id="hex-letter-word-4"),
        pytest.param("sub_add", id="sub-prefix-word"),
        pytest.param("dat_bad", id="dat-prefix-word"),
        pytest.param("fs_read", id="two-letter-token"),
        pytest.param("helper_free_list", id="generic-plus-real"),
        pytest.param("sha256", id="word-with-digits"),
    ],
)
def test_is_trivial_prediction_false(name: str) -> None:
    assert is_trivial_prediction(name) is False
