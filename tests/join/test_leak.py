"""Leak audit: which names survive in decompiled text, and which words never count."""

from __future__ import annotations

import pytest

from reforge.join.leak import audit_leak, surviving_text

# glibc's assert() passes __PRETTY_FUNCTION__, so the stripped binary keeps the
# enclosing function's name as a string; this is Ghidra's view of such a call.
ASSERT_CALL = """
void FUN_0040121f(long param_1,ulong param_2)

{
  if (*(ulong *)(param_1 + 0x400) <= param_2) {
                    /* WARNING: Subroutine does not return */
    __assert_fail("index < queue->size","task_queue.c",0x29,"sift_up");
  }
  return;
}
"""


def test_assert_message_leaks_full_name() -> None:
    report = audit_leak("sift_up", [ASSERT_CALL])

    assert report.leak is True
    assert report.full_name is True


def test_assert_file_name_leaks_tokens_only() -> None:
    report = audit_leak("task_queue_push", [ASSERT_CALL])

    assert report.leak is True
    assert report.full_name is False
    assert report.tokens == ("task", "queue")


def test_generic_token_alone_is_no_leak() -> None:
    code = 'printf("get %s\\n",param_1);'

    report = audit_leak("get_config", [code])

    assert report.leak is False
    assert report.tokens == ()


def test_short_tokens_do_not_count() -> None:
    report = audit_leak("io_read", ['puts("io error");'])

    assert report.leak is False


def test_import_name_equal_to_true_name() -> None:
    report = audit_leak("xmalloc", ["  pvVar1 = xmalloc(0x10);"])

    assert report.full_name is True
    assert report.leak is True


def test_import_name_shares_token() -> None:
    report = audit_leak("inflate_stream", ["  iVar1 = inflateEnd(param_1);"])

    assert report.leak is True
    assert report.full_name is False
    assert report.tokens == ("inflate",)


def test_data_symbol_counts() -> None:
    report = audit_leak("flush_stdout", ["  fflush(stdout);"])

    assert report.tokens == ("stdout",)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("stack_push", "  undefined8 uStack_28;\n  long lStack_10;\n  auStack_48[0] = 1;"),
        ("var_count", "  int iVar1;\n  uint uVar2;\n  char cVar3;\n  iVar1 = 0;"),
        ("fun_table", "  FUN_00401000(param_1);\n  thunk_FUN_00401010();"),
        ("dat_lookup", "  return DAT_00404010 + PTR_DAT_00404020;"),
        ("local_sum", "  int local_1c;\n  local_1c = local_1c + param_2;"),
        ("switch_case", "  switchD_00401234_caseD_3:\n  goto LAB_00401250;"),
    ],
    ids=["stack", "var", "fun", "dat", "local", "switch-labels"],
)
def test_decompiler_placeholders_never_count(name: str, code: str) -> None:
    report = audit_leak(name, [code])

    assert report.leak is False, report


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("uint64_to_double", "double FUN_00401000(ulong param_1)\n{\n  return (double)param_1;\n}"),
        ("read_byte", "byte FUN_00401000(byte *param_1)\n{\n  return *param_1;\n}"),
        ("emit_code", "  (*(code *)param_1)();"),
        ("long_return", "  long lVar1;\n  return lVar1;"),
        ("merge_halves", "  uVar1 = CONCAT44(uVar2,uVar3);\n  uVar4 = SUB84(uVar1,0);"),
        ("check_return", "                    /* WARNING: Subroutine does not return */"),
        ("unreachable_block", "/* WARNING: Removing unreachable block (ram,0x0040114f) */"),
        ("hex_x10", "  return param_1 + 0x10;"),
    ],
    ids=["double", "byte", "code", "keywords", "pcode-ops", "warning", "warning-2", "hex"],
)
def test_decompiler_vocabulary_never_counts(name: str, code: str) -> None:
    report = audit_leak(name, [code])

    assert report.leak is False, report


def test_comment_inside_literal_is_literal_text() -> None:
    literals, identifiers = surviving_text(['fputs("/* parse_block */",stderr);'])

    assert literals == ["/* parse_block */"]
    assert identifiers == ["fputs", "stderr"]


def test_quote_inside_comment_is_not_literal() -> None:
    literals, _ = surviving_text(['/* WARNING: "parse_block" */\n  return;'])

    assert literals == []


def test_name_inside_longer_word_not_full() -> None:
    report = audit_leak("push", ['puts("pushing");'])

    assert report.full_name is False


def test_missing_name_never_leaks() -> None:
    assert audit_leak(None, [ASSERT_CALL]).leak is False
    assert audit_leak("", [ASSERT_CALL]).leak is False


def test_empty_texts_never_leak() -> None:
    assert audit_leak("sift_up", [None, ""]).leak is False
