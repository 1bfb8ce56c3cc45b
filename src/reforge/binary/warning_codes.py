"""Stable codes for the decompiler's warning messages, and the CFG completeness grade.

flatline reports every warning with the same code (``analyze.W001``), so the code
is taken from the message text. Each code has a `WarningCode.fatal` flag, set
for messages that report missing or garbled code in the output, and a
`WarningCode.degrades_cfg` flag, set for messages that report control flow shown
differently from the machine code::

    classify_warning("WARNING: Treating indirect jump as call").code  # 'indirect_jump_as_call'

`cfg_completeness` grades a function:

- ``LOW``: the function failed, a fatal warning was raised, or the decompiler's
  diagnostics report bad data, unimplemented instructions, no code or an
  incomplete decompilation;
- ``MEDIUM``: a warning that degrades the CFG was raised, or an indirect jump
  stayed unresolved (a ``BRANCHIND`` without a recovered jump table);
- ``HIGH``: otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

CfgCompleteness = Literal["HIGH", "MEDIUM", "LOW"]


@dataclass(frozen=True, slots=True)
class WarningCode:
    """One stable warning code."""

    code: str
    fatal: bool
    degrades_cfg: bool
    description: str


_CODES = (
    WarningCode("bad_instruction_data", True, True, "flow reached bytes that do not decode"),
    WarningCode("unimplemented_instruction", True, True, "an instruction has no P-code semantics"),
    WarningCode("truncated_control_flow", True, True, "the decompiler stopped following a path"),
    WarningCode(
        "unresolved_jump_table",
        False,
        True,
        "an indirect jump's targets were not recovered; it is shown as a call, which is "
        "right for a tail call through a pointer but drops the cases of a switch",
    ),
    WarningCode("timeout_or_budget", True, True, "the instruction budget or a time limit ran out"),
    WarningCode("jump_table_truncated", False, True, "a jump table was recovered only in part"),
    WarningCode("indirect_jump_as_call", False, True, "an indirect jump is shown as a call"),
    WarningCode("unreachable_blocks_removed", False, True, "blocks no path reaches were dropped"),
    WarningCode("overlapping_instructions", False, True, "two decoded instructions share bytes"),
    WarningCode(
        "call_as_branch", False, True, "a call into the function's own body became a branch"
    ),
    WarningCode("stack_tracking", False, False, "the stack pointer could not be followed fully"),
    WarningCode("infinite_loop", False, False, "a block loops on itself doing nothing"),
    WarningCode("does_not_return", False, False, "the decompiler found no return path"),
    WarningCode("other", False, False, "any other decompiler warning"),
)
WARNING_CODES: dict[str, WarningCode] = {code.code: code for code in _CODES}

# Checked in order; the first pattern found in the message wins.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), code)
    for pattern, code in (
        (r"bad instruction", "bad_instruction_data"),
        (r"unimplemented instruction", "unimplemented_instruction"),
        (r"maximum allowable|budget|timed? ?out|timeout", "timeout_or_budget"),
        (r"truncating control flow|control flow .*truncat", "truncated_control_flow"),
        (r"sanity check requires truncation of jump ?table", "jump_table_truncated"),
        (
            r"(could not|unable to) recover jump ?table|jump ?table .*unrecover"
            r"|could not find normalized switch variable",
            "unresolved_jump_table",
        ),
        (r"treating indirect jump as call", "indirect_jump_as_call"),
        (r"unreachable block", "unreachable_blocks_removed"),
        (r"overlaps instruction", "overlapping_instructions"),
        (r"changing call to branch", "call_as_branch"),
        (r"stack ?pointer|spacebase|stack frame", "stack_tracking"),
        (r"infinite loop", "infinite_loop"),
        (r"does not return", "does_not_return"),
    )
)


def classify_warning(message: str) -> WarningCode:
    """Return the stable code of one decompiler warning message."""
    for pattern, code in _PATTERNS:
        if pattern.search(message):
            return WARNING_CODES[code]
    return WARNING_CODES["other"]


def warning_codes(messages: Iterable[str]) -> tuple[str, ...]:
    """Return the distinct codes of `messages`, in first-seen order."""
    return tuple(dict.fromkeys(classify_warning(message).code for message in messages))


def cfg_completeness(
    codes: Iterable[str],
    *,
    failed: bool = False,
    diagnostics_incomplete: bool = False,
    unresolved_indirect_jumps: int = 0,
) -> CfgCompleteness:
    """Grade how completely the function's control flow was recovered (see module docstring)."""
    known = [WARNING_CODES.get(code, WARNING_CODES["other"]) for code in codes]
    if failed or diagnostics_incomplete or any(code.fatal for code in known):
        return "LOW"
    if unresolved_indirect_jumps or any(code.degrades_cfg for code in known):
        return "MEDIUM"
    return "HIGH"
