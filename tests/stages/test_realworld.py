"""zlib, bzip2 and lua through every stage at -O0..-O3, checked against binutils.

The programs are built, read and decompiled once per session by the project's
own stages, in one data folder and one SQLite store. A program whose tarball
`find_tarball` cannot find is skipped. On a 2-core machine the module took
75 to 150 s in repeated runs (pytest ``--durations``), most of it decompiling.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from readelf_reference import reference_functions
from sqlalchemy import select

from reforge.config import Settings
from reforge.corpus import OPT_LEVELS, find_tarball, get_program
from reforge.errors import TarballError
from reforge.store.db import open_store
from reforge.store.functions import truth_rows
from reforge.store.models import Build, DwarfFunction, Program

from .binutils import dynamic_symbol_names
from .conftest import PipelineRun, run_pipeline

pytestmark = pytest.mark.realworld

PROGRAMS = ("zlib", "bzip2", "lua")
MIN_DECOMPILED_SHARE = 0.99
MIN_STRONG_SHARE_AT_O0 = 0.97
# Ghidra's raw decompiler names that the presentation layer must have replaced.
RAW_DECOMPILER_TEXT = re.compile(r"func_0x|xunknown|\bu?int4\b|\bint8\b")
# Library calls whose names must reach the decompiled code when the program calls them.
LIBC_CALLS = (
    "malloc",
    "calloc",
    "realloc",
    "memcpy",
    "memmove",
    "memset",
    "printf",
    "fprintf",
    "sprintf",
    "snprintf",
    "vfprintf",
    "vsnprintf",
    "puts",
    "fputs",
)
_LINE_MARKER = re.compile(r'^# \d+ "([^"]*)"')


def available_programs(settings: Settings) -> dict[str, str | None]:
    """Map each real-world program to None when its tarball is found, else the reason."""
    reasons: dict[str, str | None] = {}
    for name in PROGRAMS:
        try:
            find_tarball(get_program(name), settings)
            reasons[name] = None
        except TarballError as exc:
            reasons[name] = str(exc)
    return reasons


@pytest.fixture(scope="module")
def realworld(
    tmp_path_factory: pytest.TempPathFactory, stage_settings: Settings
) -> Iterator[tuple[PipelineRun, dict[str, str | None]]]:
    """The available real-world programs at every level through every stage."""
    reasons = available_programs(stage_settings)
    present = tuple(name for name, reason in reasons.items() if reason is None)
    if not present:
        pytest.skip(f"no real-world tarball found: {reasons}")
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('realworld') / 'store.sqlite'}")
    try:
        yield run_pipeline(store, stage_settings, present, OPT_LEVELS), reasons
    finally:
        store.dispose()


@pytest.fixture
def pipeline_for(
    realworld: tuple[PipelineRun, dict[str, str | None]], request: pytest.FixtureRequest
) -> PipelineRun:
    """The real-world run, skipping the test when its `program` parameter has no tarball."""
    run, reasons = realworld
    program = request.node.callspec.params["program"]
    if reasons[program] is not None:
        pytest.skip(f"tarball of {program} not available: {reasons[program]}")
    return run


def stored_build(run: PipelineRun, program: str, opt: str) -> Build:
    with run.store.session() as session:
        return session.scalars(
            select(Build)
            .join(Program, Program.id == Build.program_id)
            .where(Program.name == program, Build.opt == opt)
        ).one()


def rows_of(run: PipelineRun, program: str, opt: str) -> list[dict[str, Any]]:
    with run.store.session() as session:
        return truth_rows(session, program=program, opt=opt)


def own_preprocessed_code(path: Path) -> str:
    """Return the lines of a ``gcc -E`` file that come from the program's own files.

    Line markers name the file each line came from; system headers have
    absolute paths, the program's files relative ones.
    """
    kept = []
    current = ""
    for line in path.read_text(errors="replace").splitlines():
        marker = _LINE_MARKER.match(line)
        if marker:
            current = marker.group(1)
        elif current and not current.startswith(("/", "<")):
            kept.append(line)
    return "\n".join(kept)


def test_every_stage_succeeded(realworld: tuple[PipelineRun, dict[str, str | None]]) -> None:
    run, _ = realworld

    assert run.build.failed == []
    assert run.truth.failed == {}
    assert run.analysis.failed == {}
    assert run.join.missing_inputs == {}


@pytest.mark.parametrize("opt", ["O0", "O2"])
@pytest.mark.parametrize("program", PROGRAMS)
def test_dwarf_functions_match_readelf(pipeline_for: PipelineRun, program: str, opt: str) -> None:
    build = stored_build(pipeline_for, program, opt)
    assert build.debug_path is not None
    reference = reference_functions(Path(build.debug_path))
    expected = [f for f in reference.functions if f.ranges]
    with pipeline_for.store.session() as session:
        stored = session.execute(
            select(DwarfFunction.name, DwarfFunction.low_pc).where(
                DwarfFunction.build_id == build.id, DwarfFunction.low_pc.is_not(None)
            )
        ).all()

    assert len(stored) == len(expected)
    assert {(name, low_pc) for name, low_pc in stored} == reference.names_and_low_pcs()


@pytest.mark.parametrize("opt", OPT_LEVELS)
@pytest.mark.parametrize("program", PROGRAMS)
def test_functions_decompile(pipeline_for: PipelineRun, program: str, opt: str) -> None:
    build = stored_build(pipeline_for, program, opt)
    found, decompiled = pipeline_for.analysis.analysed[build.id]

    assert found > 50
    assert decompiled >= MIN_DECOMPILED_SHARE * found


@pytest.mark.parametrize("program", PROGRAMS)
def test_accepted_functions_join_strong_at_o0(pipeline_for: PipelineRun, program: str) -> None:
    rows = rows_of(pipeline_for, program, "O0")
    accepted = [row for row in rows if row["verdict"] == "ACCEPT"]
    strong = [row for row in accepted if row["match_kind"] == "JOINED_STRONG"]

    assert len(accepted) > 50
    assert len(strong) >= MIN_STRONG_SHARE_AT_O0 * len(accepted)


@pytest.mark.parametrize("program", PROGRAMS)
def test_no_raw_decompiler_text(pipeline_for: PipelineRun, program: str) -> None:
    offending = []
    for opt in OPT_LEVELS:
        for row in rows_of(pipeline_for, program, opt):
            match = RAW_DECOMPILER_TEXT.search(row["c_raw"] or "")
            if match:
                offending.append((opt, row["ghidra_name"], match.group(0)))

    assert offending == []


@pytest.mark.parametrize("opt", OPT_LEVELS)
@pytest.mark.parametrize("program", PROGRAMS)
def test_library_calls_named(pipeline_for: PipelineRun, program: str, opt: str) -> None:
    # Expected: called in the program's own preprocessed code (so conditional
    # code that was not compiled does not count) and imported by the binary
    # (gcc may expand a call inline, as it does with small memcpy calls).
    build = stored_build(pipeline_for, program, opt)
    assert build.stripped_path is not None
    code = "\n".join(
        own_preprocessed_code(Path(path)) for path in (build.preprocessed or {}).values()
    )
    imported = dynamic_symbol_names(Path(build.stripped_path))
    expected = {
        name for name in LIBC_CALLS if name in imported and re.search(rf"\b{name}\s*\(", code)
    }
    decompiled = "\n".join(row["c_raw"] or "" for row in rows_of(pipeline_for, program, opt))

    assert expected & {"malloc", "realloc", "fprintf"}, sorted(expected)
    for name in sorted(expected):
        assert re.search(rf"\b{name}\(", decompiled), name
