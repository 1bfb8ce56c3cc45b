"""Queries over functions: the ground-truth listing and the LLM view.

Two readers with different rights use this module. Analysis (the CLI's
``reforge functions``, ``GET /data/functions``) gets every field of both
sides of the join. Models get `iter_llm_functions`, which selects rows by
tier, opt level and program but returns `LLMFunction` objects built from
decompiler columns only.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Select, and_, func, select
from sqlalchemy.orm import Session

from reforge.llm.view import LLMFunction, build_llm_function
from reforge.store.blobs import get_blob
from reforge.store.models import (
    Alignment,
    BinaryFunction,
    Blob,
    Build,
    DwarfFunction,
    JoinedFunction,
    Program,
)

DEFAULT_VARIANT = "nopie"


def _build_filter(
    statement: Select[Any], *, program: str | None, opt: str | None, variant: str | None
) -> Select[Any]:
    if program is not None:
        statement = statement.where(Program.name == program)
    if opt is not None:
        statement = statement.where(Build.opt == opt)
    if variant is not None:
        statement = statement.where(Build.variant == variant)
    return statement


def _hex_ranges(ranges: list[Any]) -> list[list[str]]:
    return [[f"{start:#x}", f"{end:#x}"] for start, end in ranges]


def truth_rows(
    session: Session,
    *,
    program: str | None = None,
    opt: str | None = None,
    variant: str | None = DEFAULT_VARIANT,
    tier: str | None = None,
    include_code: bool = True,
    include_unjoined: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """List DWARF functions with their alignment and join, plus unjoined decompiled ones.

    Each row is a flat dict with stable snake_case keys. DWARF fields are None
    for decompiled functions that joined no DWARF function; those rows follow
    the DWARF rows when `include_unjoined` is set, no tier is asked for and
    no page (`limit`) is requested.
    """
    statement = (
        select(Program.name, Build.opt, Build.variant, DwarfFunction, Alignment, JoinedFunction)
        .select_from(DwarfFunction)
        .join(Build, Build.id == DwarfFunction.build_id)
        .join(Program, Program.id == Build.program_id)
        .outerjoin(Alignment, Alignment.dwarf_function_id == DwarfFunction.id)
        .outerjoin(JoinedFunction, JoinedFunction.dwarf_function_id == DwarfFunction.id)
        .order_by(Program.name, Build.opt, Build.variant, DwarfFunction.low_pc, DwarfFunction.id)
    )
    statement = _build_filter(statement, program=program, opt=opt, variant=variant)
    if tier is not None:
        statement = statement.where(JoinedFunction.confidence_tier == tier)
    if limit is not None:
        statement = statement.limit(limit).offset(offset)

    rows: list[dict[str, Any]] = []
    binary_ids: list[int] = []
    for program_name, build_opt, build_variant, dwarf, alignment, joined in session.execute(
        statement
    ):
        row = _dwarf_fields(program_name, build_opt, build_variant, dwarf, alignment)
        row.update(_join_fields(joined))
        rows.append(row)
        binary_ids.append(joined.binary_function_id if joined else None)

    if include_unjoined and tier is None and limit is None:
        rows.extend(_unjoined_rows(session, program=program, opt=opt, variant=variant))
        binary_ids.extend(row.pop("_binary_id") for row in rows[len(binary_ids) :])

    _attach_binary_fields(session, rows, binary_ids, include_code=include_code)
    return rows


# The ground-truth keys of a `truth_rows` row. Rows of unjoined decompiled
# functions set them all to None, so every row has the same keys.
DWARF_FIELDS = (
    "dwarf_function_id",
    "die_offset",
    "name",
    "linkage_name",
    "low_pc",
    "high_pc",
    "ranges",
    "decl_file",
    "decl_line",
    "decl_column",
    "dominant_file",
    "verdict",
    "reasons",
    "stable_key",
    "alignment",
    "alignment_overlap",
    "alignment_reason",
)


def _dwarf_fields(
    program: str, opt: str, variant: str, dwarf: DwarfFunction, alignment: Alignment | None
) -> dict[str, Any]:
    return {
        "program": program,
        "opt": opt,
        "variant": variant,
        "dwarf_function_id": dwarf.uid,
        "die_offset": dwarf.die_offset,
        "name": dwarf.name,
        "linkage_name": dwarf.linkage_name,
        "low_pc": dwarf.low_pc,
        "high_pc": dwarf.high_pc,
        "ranges": _hex_ranges(dwarf.ranges or []),
        "decl_file": dwarf.decl_file,
        "decl_line": dwarf.decl_line,
        "decl_column": dwarf.decl_column,
        "dominant_file": dwarf.dominant_file,
        "verdict": dwarf.verdict,
        "reasons": list(dwarf.reasons or []),
        "stable_key": alignment.stable_key if alignment else None,
        "alignment": alignment.kind if alignment else None,
        "alignment_overlap": alignment.overlap if alignment else None,
        "alignment_reason": alignment.reason if alignment else None,
    }


def _join_fields(joined: JoinedFunction | None) -> dict[str, Any]:
    return {
        "match_kind": joined.match_kind if joined else None,
        "join_overlap": joined.overlap if joined else None,
        "confidence_tier": joined.confidence_tier if joined else None,
        "gold_reject_reason": joined.gold_reject_reason if joined else None,
        "noise_reason": joined.noise_reason if joined else None,
        "leak": joined.leak if joined else None,
        "leak_tokens": list(joined.leak_tokens or []) if joined else [],
    }


def _unjoined_rows(
    session: Session, *, program: str | None, opt: str | None, variant: str | None
) -> list[dict[str, Any]]:
    statement = (
        select(Program.name, Build.opt, Build.variant, JoinedFunction)
        .join(Build, Build.id == JoinedFunction.build_id)
        .join(Program, Program.id == Build.program_id)
        .where(JoinedFunction.dwarf_function_id.is_(None))
        .order_by(Program.name, Build.opt, JoinedFunction.id)
    )
    statement = _build_filter(statement, program=program, opt=opt, variant=variant)
    rows = []
    for program_name, build_opt, build_variant, joined in session.execute(statement):
        row: dict[str, Any] = {
            "program": program_name,
            "opt": build_opt,
            "variant": build_variant,
            **dict.fromkeys(DWARF_FIELDS),
            "_binary_id": joined.binary_function_id,
        }
        row.update(_join_fields(joined))
        rows.append(row)
    return rows


def _attach_binary_fields(
    session: Session,
    rows: list[dict[str, Any]],
    binary_ids: list[int | None],
    *,
    include_code: bool,
) -> None:
    wanted = {binary_id for binary_id in binary_ids if binary_id is not None}
    binaries: dict[int, BinaryFunction] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        for binary in session.scalars(select(BinaryFunction).where(BinaryFunction.id.in_(chunk))):
            binaries[binary.id] = binary
    for row, binary_id in zip(rows, binary_ids, strict=True):
        binary = binaries.get(binary_id) if binary_id is not None else None
        row.update(binary_fields(session, binary, include_code=include_code))


def binary_fields(
    session: Session, binary: BinaryFunction | None, *, include_code: bool = True
) -> dict[str, Any]:
    """Return the decompiled-side fields of one joined row (None values when absent)."""
    if binary is None:
        return {
            "ghidra_name": None,
            "ghidra_entry_va": None,
            "decompile_status": None,
            "c_raw": None,
            "calls_text": None,
            "cfg_text": None,
            "variables_text": None,
            "loc_decompiled": None,
            "bb_count": None,
            "cyclomatic": None,
            "instruction_count": None,
            "cfg_completeness": None,
        }
    return {
        "ghidra_name": binary.ghidra_name,
        "ghidra_entry_va": binary.ghidra_entry_va,
        "decompile_status": binary.status,
        "c_raw": get_blob(session, binary.c_raw_sha256) if include_code else None,
        "calls_text": binary.calls_text,
        "cfg_text": binary.cfg_text,
        "variables_text": binary.variables_text,
        "loc_decompiled": binary.loc_decompiled,
        "bb_count": binary.bb_count,
        "cyclomatic": binary.cyclomatic,
        "instruction_count": binary.instruction_count,
        "cfg_completeness": binary.cfg_completeness,
    }


def llm_function_statement(
    *,
    opt: str | None = None,
    tier: str | None = None,
    test_case: str | None = None,
    variant: str | None = DEFAULT_VARIANT,
) -> Select[Any]:
    """Select the rows behind the LLM view: tiered, decompiled functions."""
    statement = (
        select(BinaryFunction, DwarfFunction.uid, Program.name, Build.opt, Blob.text)
        .select_from(JoinedFunction)
        .join(DwarfFunction, DwarfFunction.id == JoinedFunction.dwarf_function_id)
        .join(BinaryFunction, BinaryFunction.id == JoinedFunction.binary_function_id)
        .join(Build, Build.id == JoinedFunction.build_id)
        .join(Program, Program.id == Build.program_id)
        .join(Blob, Blob.sha256 == BinaryFunction.c_raw_sha256)
        .where(
            and_(
                JoinedFunction.confidence_tier.is_not(None),
                BinaryFunction.status == "ok",
            )
        )
        .order_by(Program.name, Build.opt, BinaryFunction.entry_va, DwarfFunction.id)
    )
    statement = _build_filter(statement, program=test_case, opt=opt, variant=variant)
    if tier is not None:
        statement = statement.where(JoinedFunction.confidence_tier == tier)
    return statement


def uids_in_selection(
    session: Session,
    uids: Sequence[str],
    *,
    opt: str | None = None,
    tier: str | None = None,
    test_case: str | None = None,
    variant: str | None = DEFAULT_VARIANT,
) -> set[str]:
    """Return the function keys among `uids` that the LLM view with these filters contains."""
    found: set[str] = set()
    requested = sorted(set(uids))
    for start in range(0, len(requested), 500):
        chunk = requested[start : start + 500]
        statement = (
            llm_function_statement(opt=opt, tier=tier, test_case=test_case, variant=variant)
            .with_only_columns(DwarfFunction.uid)
            .where(DwarfFunction.uid.in_(chunk))
            .order_by(None)
        )
        found.update(session.scalars(statement))
    return found


def iter_llm_functions(
    session: Session,
    *,
    opt: str | None = None,
    tier: str | None = None,
    test_case: str | None = None,
    variant: str | None = DEFAULT_VARIANT,
    limit: int | None = None,
    offset: int = 0,
) -> Iterator[LLMFunction]:
    """Yield the LLM view of tiered functions, in a stable order."""
    statement = llm_function_statement(opt=opt, tier=tier, test_case=test_case, variant=variant)
    if limit is not None:
        statement = statement.limit(limit)
    if offset:
        statement = statement.offset(offset)
    for binary, uid, program, build_opt, c_raw in session.execute(statement):
        yield build_llm_function(
            binary, function_uid=uid, test_case=program, opt=build_opt, c_raw=c_raw
        )


def count_llm_functions(
    session: Session,
    *,
    opt: str | None = None,
    tier: str | None = None,
    test_case: str | None = None,
    variant: str | None = DEFAULT_VARIANT,
) -> int:
    """Count the rows `iter_llm_functions` would yield without a limit."""
    inner = llm_function_statement(opt=opt, tier=tier, test_case=test_case, variant=variant)
    return session.scalar(select(func.count()).select_from(inner.order_by(None).subquery())) or 0


def training_rows(
    session: Session, *, opt: str | None = None, limit: int = 50_000
) -> list[dict[str, str]]:
    """Return (decompiled code, true name, program) rows of tiered functions.

    These rows carry ground truth: they exist to fit offline baselines, which
    exclude the queried function's program themselves.
    """
    statement = (
        select(Blob.text, DwarfFunction.name, Program.name)
        .select_from(JoinedFunction)
        .join(DwarfFunction, DwarfFunction.id == JoinedFunction.dwarf_function_id)
        .join(BinaryFunction, BinaryFunction.id == JoinedFunction.binary_function_id)
        .join(Build, Build.id == JoinedFunction.build_id)
        .join(Program, Program.id == Build.program_id)
        .join(Blob, Blob.sha256 == BinaryFunction.c_raw_sha256)
        .where(
            JoinedFunction.confidence_tier.is_not(None),
            DwarfFunction.name.is_not(None),
            Build.variant == DEFAULT_VARIANT,
        )
        .order_by(Program.name, Build.opt, DwarfFunction.id)
        .limit(limit)
    )
    if opt is not None:
        statement = statement.where(Build.opt == opt)
    return [
        {"text": text, "name": name, "group": program}
        for text, name, program in session.execute(statement)
    ]
