"""Per-build counts for summaries: functions, verdicts, join kinds and tiers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reforge.store.functions import DEFAULT_VARIANT
from reforge.store.models import BinaryFunction, Build, DwarfFunction, JoinedFunction, Program


def build_counts(session: Session) -> dict[int, dict[str, Any]]:
    """Return, per build id, its program, opt, variant and counters."""
    builds: dict[int, dict[str, Any]] = {}
    statement = select(Build.id, Program.name, Build.opt, Build.variant, Build.ok).join(
        Program, Program.id == Build.program_id
    )
    for build_id, program, opt, variant, ok in session.execute(statement):
        builds[build_id] = {
            "program": program,
            "opt": opt,
            "variant": variant,
            "build_ok": ok,
            "dwarf_functions": 0,
            "with_range": 0,
            "verdicts": defaultdict(int),
            "decompiled_found": 0,
            "decompiled_ok": 0,
            "match_kinds": defaultdict(int),
            "tiers": defaultdict(int),
        }

    verdicts = select(
        DwarfFunction.build_id,
        DwarfFunction.verdict,
        DwarfFunction.low_pc.is_not(None),
        func.count(),
    ).group_by(DwarfFunction.build_id, DwarfFunction.verdict, DwarfFunction.low_pc.is_not(None))
    for build_id, verdict, has_range, count in session.execute(verdicts):
        entry = builds[build_id]
        entry["dwarf_functions"] += count
        entry["verdicts"][verdict] += count
        if has_range:
            entry["with_range"] += count

    decompiled = select(BinaryFunction.build_id, BinaryFunction.status, func.count()).group_by(
        BinaryFunction.build_id, BinaryFunction.status
    )
    for build_id, status, count in session.execute(decompiled):
        builds[build_id]["decompiled_found"] += count
        if status == "ok":
            builds[build_id]["decompiled_ok"] += count

    joined = select(
        JoinedFunction.build_id,
        JoinedFunction.match_kind,
        JoinedFunction.confidence_tier,
        func.count(),
    ).where(JoinedFunction.dwarf_function_id.is_not(None))
    joined = joined.group_by(
        JoinedFunction.build_id, JoinedFunction.match_kind, JoinedFunction.confidence_tier
    )
    for build_id, kind, tier, count in session.execute(joined):
        builds[build_id]["match_kinds"][kind] += count
        builds[build_id]["tiers"][tier or "none"] += count

    for entry in builds.values():
        for key in ("verdicts", "match_kinds", "tiers"):
            entry[key] = dict(entry[key])
    return builds


def corpus_summary(session: Session) -> dict[str, Any]:
    """Return the counts of every build and the totals per tier and opt level.

    The totals count ``nopie`` builds only, the builds that every other query
    uses by default. A ``pie`` build would count its program's functions twice.
    """
    builds = sorted(
        build_counts(session).values(), key=lambda row: (row["program"], row["opt"], row["variant"])
    )
    tiers: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in builds:
        if row["variant"] != DEFAULT_VARIANT:
            continue
        for tier, count in row["tiers"].items():
            tiers[row["opt"]][tier] += count
    return {
        "programs": len({row["program"] for row in builds}),
        "builds": builds,
        "tiers_by_opt": {opt: dict(counts) for opt, counts in sorted(tiers.items())},
    }
