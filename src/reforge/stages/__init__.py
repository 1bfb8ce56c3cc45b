"""Pipeline stages over stored rows: build, truth, analyze, join.

Each stage is idempotent and resumable; `run_stage` dispatches by name for
the API's pipeline endpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from reforge.config import Settings
from reforge.store.db import Store

StageName = Literal["build", "truth", "analyze", "join"]


def run_stage(
    stage: StageName,
    *,
    store: Store,
    settings: Settings,
    programs: Sequence[str] | None = None,
    opts: Sequence[str] | None = None,
    pie: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Run one stage and return a JSON-ready summary of what it did."""
    if stage == "build":
        from reforge.stages.build import run_build_stage

        report = run_build_stage(
            store, settings, programs=programs, opts=opts, pie=pie, progress=progress
        )
        return {
            "built": [f"{r.program}@{r.opt}" for r in report.results if r.ok and not r.cached],
            "cached": [f"{r.program}@{r.opt}" for r in report.results if r.cached],
            "failed": {f"{r.program}@{r.opt}": r.error for r in report.failed},
            "skipped": report.skipped,
        }
    if stage == "truth":
        from reforge.stages.truth import run_truth_stage

        truth = run_truth_stage(
            store, settings, programs=programs, opts=opts, pie=pie, progress=progress
        )
        return {"computed": truth.computed, "unchanged": truth.unchanged, "failed": truth.failed}
    if stage == "analyze":
        from reforge.stages.analyze import run_analysis_stage

        analysis = run_analysis_stage(
            store, settings, programs=programs, opts=opts, pie=pie, progress=progress
        )
        return {
            "analysed": {str(k): list(v) for k, v in analysis.analysed.items()},
            "unchanged": analysis.unchanged,
            "failed": analysis.failed,
        }
    from reforge.stages.join import run_join_stage

    joined = run_join_stage(store, programs=programs, opts=opts, pie=pie, progress=progress)
    return {"joined": joined.joined, "missing_inputs": joined.missing_inputs}
