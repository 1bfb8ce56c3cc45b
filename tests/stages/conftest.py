"""Fixtures for stage tests: a shared build folder and the four stages run on a store.

Builds are cached by input hash in one session-wide data folder, so each
synthetic case is compiled once. Tests that change stored rows get the four
stages on their own store (`pipeline`, on the root conftest's `store`). Tests
that only read share one run per module and back-end (`shared_pipeline`).
Both cover SQLite, and PostgreSQL when it is reachable.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest

from reforge.config import Settings
from reforge.stages.analyze import AnalysisStageReport, run_analysis_stage
from reforge.stages.build import BuildStageReport, run_build_stage
from reforge.stages.join import JoinStageReport, run_join_stage
from reforge.stages.truth import TruthStageReport, run_truth_stage
from reforge.store.db import Store, open_store

# tests/truth has no __init__.py; its helper modules are imported by file name.
TRUTH_TESTS = Path(__file__).resolve().parents[1] / "truth"
if str(TRUTH_TESTS) not in sys.path:
    sys.path.insert(0, str(TRUTH_TESTS))


def _load_root_conftest() -> ModuleType:
    # pytest imports the root conftest under the plain name "conftest", which
    # other conftest files also use. Loading it by path under a name of its own
    # gives its back-end list and PostgreSQL schema helper without that clash.
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("reforge_tests_root_conftest", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_ROOT_CONFTEST = _load_root_conftest()

PIPELINE_CASES = ("t04_same_static_names", "t15_noreturn_cold")
PIPELINE_LEVELS = ("O0", "O2")


@dataclass(slots=True)
class PipelineRun:
    """A store after build, truth, analysis and join, with each stage's report."""

    store: Store
    settings: Settings
    build: BuildStageReport
    truth: TruthStageReport
    analysis: AnalysisStageReport
    join: JoinStageReport


def run_pipeline(
    store: Store, settings: Settings, programs: tuple[str, ...], opts: tuple[str, ...]
) -> PipelineRun:
    """Run the four stages in order on `store` for `programs` at `opts`."""
    selection = {"programs": list(programs), "opts": list(opts), "progress": False}
    build = run_build_stage(store, settings, **selection)
    truth = run_truth_stage(store, settings, **selection)
    analysis = run_analysis_stage(store, settings, **selection)
    join = run_join_stage(store, **selection)
    return PipelineRun(store, settings, build, truth, analysis, join)


@pytest.fixture(scope="session")
def stage_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings with one data folder for the whole session and two worker processes."""
    return Settings(data_dir=tmp_path_factory.mktemp("stages-data"), workers=2)


@pytest.fixture
def pipeline(store: Store, stage_settings: Settings) -> PipelineRun:
    """`PIPELINE_CASES` at `PIPELINE_LEVELS` through all four stages on the test's store."""
    return run_pipeline(store, stage_settings, PIPELINE_CASES, PIPELINE_LEVELS)


@pytest.fixture(scope="module", params=_ROOT_CONFTEST.BACKENDS)
def shared_store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Store]:
    """A migrated, empty store on each back-end, shared by the tests of one module."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('shared-store') / 'store.sqlite'}"
        store = open_store(url)
        try:
            yield store
        finally:
            store.dispose()
        return
    with _ROOT_CONFTEST.postgres_schema_url() as url:
        store = open_store(url)
        try:
            yield store
        finally:
            store.dispose()


@pytest.fixture(scope="module")
def shared_pipeline(shared_store: Store, stage_settings: Settings) -> PipelineRun:
    """`PIPELINE_CASES` at `PIPELINE_LEVELS` through all four stages, for read-only tests."""
    return run_pipeline(shared_store, stage_settings, PIPELINE_CASES, PIPELINE_LEVELS)
