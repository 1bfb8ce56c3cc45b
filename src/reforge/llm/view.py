"""The LLM view: the only shape in which a function reaches a model.

`LLMFunction` is built from decompiler rows (`BinaryFunction` and its blobs)
and nothing else. Its fields are an allow-list: adding a field here is the
only way to show a model more, and `tests/llm/test_view.py` fails when a
field outside the allow-list appears or when a ground-truth value reaches
a rendered prompt. Two fields are bookkeeping that never enters a prompt:
`dwarf_function_id` (an opaque row key the runner posts results under) and
`test_case` (the program name, used to group results and to keep the
nearest-neighbour baseline from retrieving functions of the same program).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from reforge.store.models import BinaryFunction

PROMPT_FIELDS = frozenset(
    {
        "ghidra_name",
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
        "ghidra_entry_va",
        "size",
    }
)
BOOKKEEPING_FIELDS = frozenset({"dwarf_function_id", "ghidra_func_id", "test_case", "opt"})


class LLMFunction(BaseModel):
    """One decompiled function as a model may see it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dwarf_function_id: str
    """Opaque key of the function row; results are posted under it."""
    ghidra_func_id: int
    """Row id of the decompiled function."""
    test_case: str
    """Program the function belongs to; bookkeeping, never part of a prompt."""
    opt: str
    """Optimisation level of the build; bookkeeping, never part of a prompt."""
    ghidra_name: str
    """Ghidra-style placeholder name, ``FUN_%08x``."""
    ghidra_entry_va: int
    """Entry address as Ghidra shows it."""
    size: int
    """Body size in bytes."""
    c_raw: str
    """Decompiled C in Ghidra's presentation."""
    calls_text: str | None
    """Callees (and callers) by import or ``FUN_`` name."""
    cfg_text: str | None
    """Basic blocks, edges and cyclomatic complexity from the decompiler's P-code."""
    variables_text: str | None
    """Decompiler variables: name, type, kind and storage."""
    loc_decompiled: int | None
    bb_count: int | None
    cyclomatic: int | None
    instruction_count: int | None
    cfg_completeness: str | None
    warning_codes: list[str]


def build_llm_function(
    row: BinaryFunction, *, function_uid: str, test_case: str, opt: str, c_raw: str
) -> LLMFunction:
    """Build the LLM view of one decompiled function from decompiler data only."""
    return LLMFunction(
        dwarf_function_id=function_uid,
        ghidra_func_id=row.id,
        test_case=test_case,
        opt=opt,
        ghidra_name=row.ghidra_name,
        ghidra_entry_va=row.ghidra_entry_va,
        size=row.size,
        c_raw=c_raw,
        calls_text=row.calls_text,
        cfg_text=row.cfg_text,
        variables_text=row.variables_text,
        loc_decompiled=row.loc_decompiled,
        bb_count=row.bb_count,
        cyclomatic=row.cyclomatic,
        instruction_count=row.instruction_count,
        cfg_completeness=row.cfg_completeness,
        warning_codes=[str(code) for code in row.warning_codes or []],
    )


def prompt_metadata(view: LLMFunction | dict[str, Any]) -> dict[str, Any]:
    """Return the metadata fields of a view that a prompt's metadata mode may show."""
    data = view.model_dump() if isinstance(view, LLMFunction) else dict(view)
    return {
        key: data.get(key)
        for key in (
            "loc_decompiled",
            "bb_count",
            "cyclomatic",
            "instruction_count",
            "cfg_completeness",
            "warning_codes",
            "ghidra_entry_va",
            "size",
        )
        if key in data
    }
