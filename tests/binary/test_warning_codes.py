"""Warning message classification and the CFG completeness grade."""

from __future__ import annotations

import pytest

from reforge.binary import WARNING_CODES, cfg_completeness, classify_warning

# Messages as flatline 0.1.2 printed them on gcc 12 binaries.
MESSAGES = [
    ("WARNING: Bad instruction - Truncating control flow here", "bad_instruction_data"),
    ("WARNING: Control flow encountered bad instruction data", "bad_instruction_data"),
    (
        "WARNING: Unimplemented instruction - Truncating control flow here",
        "unimplemented_instruction",
    ),
    (
        "WARNING: Could not recover jumptable at 0x00401040. Too many branches",
        "unresolved_jump_table",
    ),
    (
        "WARNING: Could not find normalized switch variable to match jumptable",
        "unresolved_jump_table",
    ),
    ("WARNING (jumptable): Sanity check requires truncation of jumptable", "jump_table_truncated"),
    ("WARNING: Treating indirect jump as call", "indirect_jump_as_call"),
    ("WARNING: Removing unreachable block (ram,0x004013bc)", "unreachable_blocks_removed"),
    ("WARNING: Do nothing block with infinite loop", "infinite_loop"),
    ("WARNING: Possible PIC construction at 0x00401367: Changing call to branch", "call_as_branch"),
    (
        "WARNING: Instruction at (ram,0x00401003) overlaps instruction at (ram,0x00401001)",
        "overlapping_instructions",
    ),
    ("Flow exceeded maximum allowable instructions", "timeout_or_budget"),
    ("WARNING: Type propagation algorithm not settling", "other"),
    ("WARNING: Does not return", "does_not_return"),
]


@pytest.mark.parametrize(("message", "code"), MESSAGES)
def test_classify_warning(message: str, code: str) -> None:
    assert classify_warning(message).code == code


def test_fatal_flags() -> None:
    fatal = {code for code, info in WARNING_CODES.items() if info.fatal}
    assert fatal == {
        "bad_instruction_data",
        "unimplemented_instruction",
        "truncated_control_flow",
        "timeout_or_budget",
    }


def test_completeness_high() -> None:
    assert cfg_completeness(["infinite_loop", "other"]) == "HIGH"


def test_completeness_medium() -> None:
    assert cfg_completeness(["unreachable_blocks_removed"]) == "MEDIUM"
    assert cfg_completeness([], unresolved_indirect_jumps=1) == "MEDIUM"


def test_completeness_low() -> None:
    assert cfg_completeness(["bad_instruction_data"]) == "LOW"
    assert cfg_completeness([], failed=True) == "LOW"
    assert cfg_completeness([], diagnostics_incomplete=True) == "LOW"
