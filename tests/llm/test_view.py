"""The LLM view type: its fields are the allow-list, built from decompiler rows only."""

from __future__ import annotations

import pydantic
import pytest

from reforge.llm.view import (
    BOOKKEEPING_FIELDS,
    PROMPT_FIELDS,
    LLMFunction,
    build_llm_function,
    prompt_metadata,
)
from reforge.store.models import BinaryFunction

ALLOWED_FIELDS = {
    "dwarf_function_id",
    "ghidra_func_id",
    "test_case",
    "opt",
    "ghidra_name",
    "ghidra_entry_va",
    "size",
    "c_raw",
    "calls_text",
    "cfg_text",
    "variables_text",
    "loc_decompiled",
    "bb_count",
    "cyclomatic",
    "instruction_count",
    "cfg_completeness",
    "warning_codes",
}
C_RAW = 'void FUN_00401136(void)\n{\n  puts("hello");\n  return;\n}\n'


def _row() -> BinaryFunction:
    return BinaryFunction(
        id=7,
        build_id=1,
        entry_va=0x401136,
        ghidra_entry_va=0x401136,
        ghidra_name="FUN_00401136",
        size=0x1A,
        status="ok",
        calls_text="puts",
        cfg_text="blocks 1, edges 0, cyclomatic 1",
        variables_text=None,
        loc_decompiled=5,
        bb_count=1,
        cyclomatic=1,
        instruction_count=6,
        cfg_completeness="HIGH",
        warning_codes=["W_NORETURN"],
    )


def test_fields_are_allow_list() -> None:
    assert set(LLMFunction.model_fields) == ALLOWED_FIELDS
    assert PROMPT_FIELDS | BOOKKEEPING_FIELDS == ALLOWED_FIELDS


def test_build_from_row() -> None:
    view = build_llm_function(
        _row(), function_uid="demo:O0:nopie:0x2d", test_case="demo", opt="O0", c_raw=C_RAW
    )
    assert view.dwarf_function_id == "demo:O0:nopie:0x2d"
    assert view.ghidra_func_id == 7
    assert view.ghidra_name == "FUN_00401136"
    assert view.ghidra_entry_va == 0x401136
    assert view.size == 0x1A
    assert view.c_raw == C_RAW
    assert view.calls_text == "puts"
    assert view.variables_text is None
    assert view.warning_codes == ["W_NORETURN"]


def test_extra_field_rejected() -> None:
    data = build_llm_function(
        _row(), function_uid="u", test_case="demo", opt="O0", c_raw=C_RAW
    ).model_dump()
    with pytest.raises(pydantic.ValidationError):
        LLMFunction.model_validate({**data, "name": "print_greeting"})


def test_view_is_frozen() -> None:
    view = build_llm_function(_row(), function_uid="u", test_case="demo", opt="O0", c_raw=C_RAW)
    with pytest.raises(pydantic.ValidationError):
        view.c_raw = "changed"  # type: ignore[misc]


def test_prompt_metadata_fields() -> None:
    view = build_llm_function(_row(), function_uid="u", test_case="demo", opt="O0", c_raw=C_RAW)
    metadata = prompt_metadata(view)
    assert metadata == {
        "loc_decompiled": 5,
        "bb_count": 1,
        "cyclomatic": 1,
        "instruction_count": 6,
        "cfg_completeness": "HIGH",
        "warning_codes": ["W_NORETURN"],
        "ghidra_entry_va": 0x401136,
        "size": 0x1A,
    }
    assert not set(metadata) & BOOKKEEPING_FIELDS


def test_prompt_metadata_of_shaped_dict() -> None:
    shaped = {"dwarf_function_id": "u", "c_raw": C_RAW, "loc_decompiled": 5, "cyclomatic": None}
    assert prompt_metadata(shaped) == {"loc_decompiled": 5, "cyclomatic": None}
