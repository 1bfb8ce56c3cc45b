"""The main job: the whole benchmark on the bundled corpus, in one command.

`run_demo` builds the synthetic cases and every real-world program whose
tarball is present at -O0..-O3, reads ground truth, decompiles, joins and
tiers, runs the offline baselines on every tier x opt x context level (and
the configured models when ``OPENROUTER_API_KEY`` or ``REFORGE_LLM_BASE_URL``
is set), scores and writes the report. Model calls go through a real HTTP API
server on a loopback port, as they would across machines. Every stage reuses
what an earlier run stored, so a second run only redoes what changed.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reforge.api import create_app
from reforge.api.background import BackgroundServer
from reforge.config import Settings
from reforge.experiments import (
    BENCHMARK_CONTEXT_LEVELS,
    BENCHMARK_OPTS,
    BENCHMARK_TIERS,
    ExperimentConfig,
    build_benchmark_matrix,
    load_catalog,
)
from reforge.llm.runner import run_experiment
from reforge.stages.analyze import run_analysis_stage
from reforge.stages.build import run_build_stage
from reforge.stages.join import run_join_stage
from reforge.stages.truth import run_truth_stage
from reforge.store.db import Store, open_store
from reforge.store.experiments import upsert_experiments
from reforge.store.functions import count_llm_functions
from reforge.store.scores import score_experiment

logger = logging.getLogger(__name__)

BASELINE_LABELS = ("baseline-nn", "baseline-trivial")


@dataclass(slots=True)
class DemoOutcome:
    """What the main job did, for its closing summary."""

    programs: list[str] = field(default_factory=list)
    skipped_programs: dict[str, str] = field(default_factory=dict)
    failed_builds: list[str] = field(default_factory=list)
    tiers: dict[str, int] = field(default_factory=dict)
    experiments: list[str] = field(default_factory=list)
    model_labels: list[str] = field(default_factory=list)
    run_summaries: list[dict[str, Any]] = field(default_factory=list)
    report_path: Path | None = None
    headline: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def run_demo(
    settings: Settings,
    *,
    include_realworld: bool = True,
    programs: list[str] | None = None,
    opts: list[str] | None = None,
    report_dir: str | Path | None = None,
    progress: bool = True,
) -> DemoOutcome:
    """Run every stage of the benchmark and print where the report is."""
    started = time.monotonic()
    outcome = DemoOutcome()
    store = open_store(settings.effective_database_url)
    try:
        # Corpus, ground truth, decompilation and the join.
        names = programs or _default_programs(include_realworld)
        build = run_build_stage(store, settings, programs=names, opts=opts, progress=progress)
        outcome.programs = sorted({result.program for result in build.results if result.ok})
        outcome.skipped_programs = build.skipped
        outcome.failed_builds = [result.error or result.program for result in build.failed]
        run_truth_stage(store, settings, programs=outcome.programs, opts=opts, progress=progress)
        run_analysis_stage(store, settings, programs=outcome.programs, opts=opts, progress=progress)
        run_join_stage(store, programs=outcome.programs, opts=opts, progress=progress)

        # Experiments: baselines always, models when an API is configured.
        configs = _demo_experiments(store, settings, outcome, opts)
        outcome.experiments = [config.id for config in configs]
        with BackgroundServer(create_app(store, settings)) as server:
            for config in configs:
                summary = asyncio.run(
                    run_experiment(
                        config.id,
                        api_base=server.url,
                        concurrency=settings.demo_concurrency,
                        progress=progress,
                        settings=settings,
                    )
                )
                outcome.run_summaries.append(summary)

        # Scores and the report.
        with store.session() as session:
            for config in configs:
                score_experiment(session, config.id)
        outcome.report_path, outcome.headline = _write_report(store, settings, report_dir)
    finally:
        store.dispose()
    outcome.seconds = time.monotonic() - started
    print_summary(outcome)
    return outcome


def _default_programs(include_realworld: bool) -> list[str] | None:
    if include_realworld:
        return None
    from reforge.corpus import list_programs

    return [manifest.name for manifest in list_programs(include_realworld=False)]


def _demo_experiments(
    store: Store, settings: Settings, outcome: DemoOutcome, opts: list[str] | None
) -> list[ExperimentConfig]:
    """Register the demo's experiments: cells that have functions, for each model."""
    labels = list(BASELINE_LABELS)
    if settings.openrouter_api_key is not None or settings.llm_base_url:
        catalog = load_catalog()
        for wanted in settings.demo_models.split(","):
            entry = catalog.get(wanted.strip())
            labels.append(entry.label)
    outcome.model_labels = labels
    levels = opts or list(BENCHMARK_OPTS)
    with store.session() as session:
        counts = {
            (tier, opt): count_llm_functions(session, opt=opt, tier=tier)
            for tier in BENCHMARK_TIERS
            for opt in levels
        }
    outcome.tiers = {
        tier: sum(count for (t, _), count in counts.items() if t == tier)
        for tier in BENCHMARK_TIERS
    }
    configs = [
        config
        for config in build_benchmark_matrix(
            models=labels,
            tiers=list(BENCHMARK_TIERS),
            opts=levels,
            context_levels=list(BENCHMARK_CONTEXT_LEVELS),
            tags=["demo"],
        )
        if counts[(config.tier, config.opt)] > 0
    ]
    with store.session() as session:
        upsert_experiments(session, configs)
    return configs


def _write_report(
    store: Store, settings: Settings, report_dir: str | Path | None
) -> tuple[Path, dict[str, Any]]:
    import json

    from reforge.report.build import write_report

    out = Path(report_dir) if report_dir else settings.data_dir / "report"
    with store.session() as session:
        index = write_report(session, out)
    summary_path = out / "summary.json"
    headline = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return index, headline


def print_summary(outcome: DemoOutcome) -> None:
    """Print the report location and a five-line summary."""
    calls = sum(summary.get("new", 0) for summary in outcome.run_summaries)
    errors = sum(summary.get("errors", 0) for summary in outcome.run_summaries)
    cost = sum(summary.get("cost_usd", 0.0) for summary in outcome.run_summaries)
    best = outcome.headline.get("best_model") or {}
    tiers = ", ".join(f"{tier} {count}" for tier, count in outcome.tiers.items())
    print()
    print(f"report: {outcome.report_path}")
    print(
        f"1. corpus: {len(outcome.programs)} programs built at -O0..-O3"
        + (f", {len(outcome.failed_builds)} builds failed" if outcome.failed_builds else "")
        + (
            f", skipped {', '.join(outcome.skipped_programs)} (tarball missing)"
            if outcome.skipped_programs
            else ""
        )
    )
    print(f"2. functions with a tier (all opt levels): {tiers}")
    print(
        f"3. experiments: {len(outcome.experiments)} over {', '.join(outcome.model_labels)}"
        f"; {calls} new answers, {errors} failures, ${cost:.4f} spent"
    )
    if best:
        print(
            f"4. best mean token F1: {best.get('model')} {best.get('mean_token_f1', 0.0):.3f} "
            f"on {best.get('answered', 0)} answered prompts"
        )
    else:
        print("4. best mean token F1: no scored results")
    print(f"5. finished in {outcome.seconds:.0f} s; re-running reuses every stage already done")
