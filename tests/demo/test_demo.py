"""The main job runs every stage end to end and reuses its work on a second run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from reforge.config import Settings
from reforge.demo import run_demo
from reforge.store.db import open_store
from reforge.store.models import Experiment, Result, Score

PROGRAMS = ["t01_crossfile_calls", "t15_noreturn_cold"]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, list, Path]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    settings = Settings(data_dir=data_dir)
    first = run_demo(settings, programs=PROGRAMS, opts=["O0", "O2"], progress=False)
    second = run_demo(settings, programs=PROGRAMS, opts=["O0", "O2"], progress=False)
    return settings, [first, second], data_dir


def test_demo_writes_report(demo_runs: tuple[Settings, list, Path]) -> None:
    _, (first, _), data_dir = demo_runs
    assert first.report_path == data_dir / "report" / "index.html"
    assert first.report_path.is_file()
    summary = json.loads((data_dir / "report" / "summary.json").read_text())
    assert summary["has_results"] is True
    assert sorted(first.programs) == PROGRAMS


def test_demo_runs_baselines_on_every_cell(demo_runs: tuple[Settings, list, Path]) -> None:
    settings, (first, _), _ = demo_runs
    assert first.model_labels == ["baseline-nn", "baseline-trivial"]
    store = open_store(settings.effective_database_url)
    with store.session() as session:
        experiments = session.scalars(select(Experiment.id)).all()
        results = session.scalar(select(func.count()).select_from(Result))
        scores = session.scalar(select(func.count()).select_from(Score))
    store.dispose()
    # Cells without functions are not registered; each registered one ran.
    assert set(experiments) == set(first.experiments)
    assert {exp.split("_")[2] for exp in experiments} >= {"gold"}
    assert all(f"_{ctx}" in " ".join(experiments) for ctx in ("L0", "L1", "L2"))
    assert results == sum(summary["new"] for summary in first.run_summaries)
    assert scores == results


def test_second_run_reuses_everything(demo_runs: tuple[Settings, list, Path]) -> None:
    _, (first, second), _ = demo_runs
    assert sum(summary["new"] for summary in second.run_summaries) == 0
    assert [s["skipped"] for s in second.run_summaries] == [s["total"] for s in first.run_summaries]
    assert second.experiments == first.experiments


def test_summary_has_five_lines(
    demo_runs: tuple[Settings, list, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    from reforge.demo import print_summary

    _, (first, _), _ = demo_runs
    print_summary(first)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert lines[0].startswith("report: ")
    assert [line[:2] for line in lines[1:]] == ["1.", "2.", "3.", "4.", "5."]
