"""Lexical features of decompiled code taken from prompts."""

from __future__ import annotations

import pytest

from reforge.llm.codetext import (
    called_functions,
    code_tokens,
    extract_code,
    is_generated_name,
    split_identifier,
    string_literal_words,
)

GHIDRA_CODE = """\
undefined8 FUN_00401136(char *param_1,int param_2)
{
  size_t sVar1;
  uint uVar2;

  sVar1 = strlen(param_1);
  if (sVar1 == 0) {
    puts("usage: prog FILE");
    return 0xffffffff;
  }
  uVar2 = DAT_00404010 << 4;
  printf(s_hello_world_00402010,0x401000,param_2);
  FUN_004011a0(uVar2);
  return 0;
}
"""


def test_extract_c_fence() -> None:
    prompt = f"Intro text\n```text\nnot code\n```\n```c\n{GHIDRA_CODE}```\nCalls: strlen"
    assert extract_code(prompt) == GHIDRA_CODE


def test_extract_first_fence_without_language() -> None:
    assert extract_code("a\n```\nint x;\n```\nb") == "int x;\n"


def test_extract_unclosed_fence() -> None:
    assert extract_code("a\n```c\nint x;\n") == "int x;\n"


def test_extract_without_fence() -> None:
    assert extract_code("int f(void) { return 1; }") == "int f(void) { return 1; }"


@pytest.mark.parametrize(
    "name",
    [
        "FUN_00401136",
        "DAT_00404010",
        "LAB_00401190",
        "param_1",
        "local_118",
        "uVar2",
        "sVar1",
        "pcVar3",
        "auStack_28",
        "uStack_10",
        "in_RAX",
        "extraout_EDX",
        "unaff_RBX",
        "thunk_FUN_00401000",
        "switchD_00401234",
        "s_hello_world_00402010",
        "00401136",
    ],
)
def test_generated_names(name: str) -> None:
    assert is_generated_name(name)


@pytest.mark.parametrize("name", ["strlen", "printf", "main", "xmalloc", "BZ2_bzRead", "local"])
def test_real_names(name: str) -> None:
    assert not is_generated_name(name)


def test_called_functions_skip_generated() -> None:
    assert called_functions(GHIDRA_CODE) == ["strlen", "puts", "printf"]


def test_string_literal_words() -> None:
    assert string_literal_words('puts("usage: prog FILE\\n"); x = "a";') == [
        "usage",
        "prog",
        "file",
    ]


def test_code_tokens() -> None:
    tokens = code_tokens(GHIDRA_CODE)
    assert "call:strlen" in tokens
    assert "call:printf" in tokens
    assert "word:usage" in tokens
    # Ghidra's string label keeps its text, without the address.
    assert "word:hello" in tokens
    assert "word:world" in tokens
    assert "op:<<" in tokens
    assert "op:==" in tokens
    assert "kw:return" in tokens
    assert "num:4" in tokens
    assert "num:0" in tokens
    # Made-up names and addresses are dropped.
    assert not any("FUN_" in t or "DAT_" in t or "param" in t or "Var" in t for t in tokens)
    assert "num:4198400" not in tokens
    assert "num:4294967295" not in tokens
    assert not any(t.startswith("id:x") for t in tokens)


def test_split_identifier() -> None:
    assert split_identifier("XML_ParseBuffer") == ["xml", "parse", "buffer"]
    assert split_identifier("crc32_update") == ["crc", "32", "update"]
    assert split_identifier("getHTTPResponse") == ["get", "http", "response"]
