"""The corpus table of the report: which programs and builds the numbers cover."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from reforge.store.functions import DEFAULT_VARIANT
from reforge.store.models import Build, Program
from reforge.store.summary import build_counts

CORPUS_COLUMNS = [
    "program",
    "kind",
    "opt",
    "dwarf_functions",
    "with_range",
    "decompiled",
    "gold",
    "silver",
    "bronze",
]
CORPUS_CAPTION = (
    "One row per program and opt level of the store: DWARF functions (all, and with a "
    "code range), functions the decompiler produced, and the functions of each "
    "confidence tier. Failed builds are left out."
)


def load_corpus_frame(session: Session, *, variant: str | None = DEFAULT_VARIANT) -> pd.DataFrame:
    """Return the corpus table: one row per successful build of `variant` (None: all)."""
    kinds = {name: kind for name, kind in session.execute(select(Program.name, Program.kind))}
    ok_builds = set(session.scalars(select(Build.id).where(Build.ok.is_(True))))
    rows = []
    for build_id, counts in build_counts(session).items():
        if build_id not in ok_builds or (variant is not None and counts["variant"] != variant):
            continue
        tiers = counts["tiers"]
        rows.append(
            {
                "program": counts["program"],
                "kind": kinds.get(counts["program"], ""),
                "opt": counts["opt"],
                "dwarf_functions": counts["dwarf_functions"],
                "with_range": counts["with_range"],
                "decompiled": counts["decompiled_ok"],
                "gold": tiers.get("GOLD", 0),
                "silver": tiers.get("SILVER", 0),
                "bronze": tiers.get("BRONZE", 0),
            }
        )
    frame = pd.DataFrame(rows, columns=CORPUS_COLUMNS)
    # Real-world programs after the synthetic cases, each program's levels in order.
    frame["_realworld"] = frame["kind"] == "realworld"
    frame = frame.sort_values(["_realworld", "program", "opt"]).drop(columns="_realworld")
    return frame.reset_index(drop=True)
