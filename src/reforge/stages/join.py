"""Join stage: link DWARF functions to decompiled functions, assign tiers, audit leaks.

For every build with both ground truth and decompiled functions, each DWARF
function with a code range is joined to the decompiled body that covers it
best (`reforge.join.overlap`), gets a tier (`reforge.join.tiers`) and a leak
flag (`reforge.join.leak`). Decompiled functions that no DWARF function
joined are stored as rows without a DWARF side. DWARF functions without a
range get a ``NO_MATCH`` row so the funnel counts them.

The stage recomputes a build's rows each time; it is fast and depends on both
other stages, so there is nothing worth caching. Rows are updated in place,
keyed by their DWARF function (or, for unjoined rows, their decompiled
function), so a second run keeps every row id.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from reforge.join.leak import audit_leak
from reforge.join.noise import noise_reason
from reforge.join.overlap import Candidate, RangeIndex, join_ranges
from reforge.join.tiers import TierInput, assign_tier
from reforge.stages.selection import select_opts, stored_builds
from reforge.store.blobs import get_blob
from reforge.store.db import Store
from reforge.store.models import Alignment, BinaryFunction, Build, DwarfFunction, JoinedFunction

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class JoinStageReport:
    """Builds joined, and builds skipped because a stage before the join is missing."""

    joined: list[int] = field(default_factory=list)
    missing_inputs: dict[int, str] = field(default_factory=dict)


def run_join_stage(
    store: Store,
    *,
    programs: Sequence[str] | None = None,
    opts: Sequence[str] | None = None,
    pie: bool = False,
    progress: bool = True,
) -> JoinStageReport:
    """Join every selected build that has ground truth and decompiled functions."""
    report = JoinStageReport()
    with store.session() as session:
        builds = stored_builds(
            session, programs=programs, opts=select_opts(opts), variant="pie" if pie else "nopie"
        )
        build_ids = [build.id for build in builds]
    for build_id in tqdm(build_ids, desc="join", unit="build", disable=not progress):
        with store.session() as session:
            missing = join_build(session, build_id)
        if missing:
            report.missing_inputs[build_id] = missing
        else:
            report.joined.append(build_id)
    return report


def join_build(session: Session, build_id: int) -> str | None:
    """Recompute the joined rows of one build; return why it cannot be joined, if so."""
    build = session.get(Build, build_id)
    assert build is not None
    dwarf_rows = list(
        session.scalars(select(DwarfFunction).where(DwarfFunction.build_id == build_id))
    )
    binary_rows = list(
        session.scalars(select(BinaryFunction).where(BinaryFunction.build_id == build_id))
    )
    if not dwarf_rows:
        return "no ground truth (run `reforge truth`)"
    if not binary_rows:
        return "no decompiled functions (run `reforge analyze`)"

    alignments = {
        row.dwarf_function_id: row
        for row in session.scalars(
            select(Alignment).where(Alignment.dwarf_function_id.in_([row.id for row in dwarf_rows]))
        )
    }
    binaries = {row.id: row for row in binary_rows}
    index = RangeIndex(
        Candidate(row.id, [tuple(pair) for pair in row.body_ranges or []]) for row in binary_rows
    )

    new_rows: list[dict[str, Any]] = []
    joined_binary_ids: set[int] = set()
    for dwarf in dwarf_rows:
        values = _join_one(session, build_id, dwarf, alignments.get(dwarf.id), index, binaries)
        if values["binary_function_id"] is not None:
            joined_binary_ids.add(values["binary_function_id"])
        new_rows.append(values)

    # Decompiled functions that no DWARF function claimed.
    for binary in binary_rows:
        if binary.id in joined_binary_ids:
            continue
        new_rows.append(
            {
                "build_id": build_id,
                "dwarf_function_id": None,
                "binary_function_id": binary.id,
                "match_kind": "NO_MATCH",
                "overlap": 0.0,
                "candidates": 0,
                "confidence_tier": None,
                "gold_reject_reason": None,
                "is_noise": binary.is_thunk,
                "noise_reason": "thunk" if binary.is_thunk else None,
                "leak": False,
                "leak_tokens": [],
                "stable_key": None,
            }
        )
    _replace_joined_rows(session, build_id, new_rows)
    return None


def _replace_joined_rows(session: Session, build_id: int, new_rows: list[dict[str, Any]]) -> None:
    """Make the build's joined rows equal `new_rows`, updating rows that keep their key."""
    existing = list(
        session.scalars(select(JoinedFunction).where(JoinedFunction.build_id == build_id))
    )
    by_key = {_row_key(row.dwarf_function_id, row.binary_function_id): row for row in existing}
    updated_ids: set[int] = set()
    for values in new_rows:
        row = by_key.get(_row_key(values["dwarf_function_id"], values["binary_function_id"]))
        if row is None:
            session.add(JoinedFunction(**values))
            continue
        for column, value in values.items():
            setattr(row, column, value)
        updated_ids.add(row.id)
    stale = [row.id for row in existing if row.id not in updated_ids]
    if stale:
        session.execute(delete(JoinedFunction).where(JoinedFunction.id.in_(stale)))
    session.flush()


def _row_key(
    dwarf_function_id: int | None, binary_function_id: int | None
) -> tuple[str, int | None]:
    # A DWARF row is identified by its DWARF function, an unjoined row by its body.
    if dwarf_function_id is not None:
        return ("dwarf", dwarf_function_id)
    return ("binary", binary_function_id)


def _join_one(
    session: Session,
    build_id: int,
    dwarf: DwarfFunction,
    alignment: Alignment | None,
    index: RangeIndex,
    binaries: dict[int, BinaryFunction],
) -> dict[str, Any]:
    ranges = [(int(start), int(end)) for start, end in dwarf.ranges or []]
    match = join_ranges(ranges, index.overlapping(ranges))
    binary = binaries.get(match.best_key) if match.best_key is not None else None
    joined_binary = binary if match.kind in ("JOINED_STRONG", "JOINED_WEAK") else None

    noise = noise_reason(dwarf.name, is_thunk=bool(joined_binary and joined_binary.is_thunk))
    decision = assign_tier(
        TierInput(
            name=dwarf.name,
            verdict=dwarf.verdict,
            alignment_kind=alignment.kind if alignment else None,
            alignment_overlap=alignment.overlap if alignment else 0.0,
            match_kind=match.kind,
            decompiled_ok=joined_binary is not None and joined_binary.status == "ok",
            noise_reason=noise,
            cfg_completeness=joined_binary.cfg_completeness if joined_binary else None,
            fatal_warning=bool(joined_binary and joined_binary.fatal_warning),
        )
    )

    # The decompiled C and the import names are the texts that can carry a
    # name from the binary. The calls, CFG and variables texts hold the same
    # import names plus generated names, registers and fixed words ("call
    # sites", "blocks", "param") that would match true names by chance.
    leak_report = None
    if joined_binary is not None:
        imports = [callee for callee in joined_binary.callees or [] if isinstance(callee, str)]
        leak_report = audit_leak(
            dwarf.name, [get_blob(session, joined_binary.c_raw_sha256), " ".join(imports)]
        )
    return {
        "build_id": build_id,
        "dwarf_function_id": dwarf.id,
        "binary_function_id": joined_binary.id if joined_binary else None,
        "match_kind": match.kind,
        "overlap": match.coverage,
        "candidates": match.candidates,
        "confidence_tier": decision.tier,
        "gold_reject_reason": decision.gold_reject_reason,
        "is_noise": noise is not None,
        "noise_reason": noise,
        "leak": bool(leak_report and leak_report.leak),
        "leak_tokens": list(leak_report.tokens) if leak_report else [],
        "stable_key": alignment.stable_key if alignment else None,
    }
