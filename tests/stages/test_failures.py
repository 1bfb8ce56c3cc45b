"""Stage failures: broken binaries, sources that do not compile, missing debug info.

A failure is recorded for the build it concerns, names the file or the
compiler's message, and never stops the other builds of the same call.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reforge.config import Settings
from reforge.corpus import BuildRequest, build_programs
from reforge.corpus.manifest import Manifest, load_manifest
from reforge.errors import ManifestError
from reforge.stages.analyze import run_analysis_stage
from reforge.stages.build import record_build, run_build_stage
from reforge.stages.join import run_join_stage
from reforge.stages.truth import run_truth_stage
from reforge.store.db import Store
from reforge.store.models import BinaryFunction, Build, DwarfFunction, JoinedFunction, Program

from .binutils import text_symbols

CASE = "t15_noreturn_cold"

GOOD_SOURCE = """\
#include <stdio.h>

static int square(int value)
{
    return value * value;
}

int main(int argc, char **argv)
{
    (void)argv;
    printf("%d\\n", square(argc + 1));
    return 0;
}
"""

# `undeclared_total` is not declared anywhere, which gcc 12 reports as an error.
BROKEN_SOURCE = """\
int main(void)
{
    return undeclared_total + 1;
}
"""


def write_manifest(folder: Path, name: str, sources: dict[str, str]) -> Manifest:
    """Write a one-folder synthetic case with `sources` and return its manifest."""
    case = folder / name
    case.mkdir(parents=True, exist_ok=True)
    for file_name, text in sources.items():
        (case / file_name).write_text(text)
    fields: dict[str, Any] = {
        "name": name,
        "kind": "synthetic",
        "description": "A small test program.",
        "stresses": ["stage failures"],
        "sources": sorted(sources),
        "headers": [],
        "main_file": "main.c",
        "include_dirs": [],
        "defines": [],
        "cflags": [],
        "libs": [],
        "run_args": [],
        "stdin": "",
    }
    lines = [f"{key} = {json.dumps(value)}" for key, value in fields.items()]
    (case / "manifest.toml").write_text("\n".join(lines) + "\n")
    return load_manifest(case / "manifest.toml")


def build_row(store: Store, program: str, opt: str) -> Build:
    with store.session() as session:
        return session.scalars(
            select(Build)
            .join(Program, Program.id == Build.program_id)
            .where(Program.name == program, Build.opt == opt)
        ).one()


def set_build_paths(store: Store, build_id: int, **values: Any) -> None:
    with store.session() as session:
        build = session.get(Build, build_id)
        assert build is not None
        for key, value in values.items():
            setattr(build, key, value)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def first_gcc_error(source: Path) -> str:
    """Compile `source` with gcc in the C locale and return its first error line."""
    completed = subprocess.run(
        ["gcc", "-c", "-o", "/dev/null", source.name],
        cwd=source.parent,
        capture_output=True,
        text=True,
        env={"LC_ALL": "C", "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert completed.returncode != 0
    return next(line for line in completed.stderr.splitlines() if "error" in line)


# --- analysis -------------------------------------------------------------------


def make_not_elf(folder: Path, _original: Path) -> Path:
    path = folder / "not-an-elf"
    path.write_text("#!/bin/sh\necho this is a shell script\n")
    return path


def make_truncated(folder: Path, original: Path) -> Path:
    path = folder / "truncated"
    path.write_bytes(original.read_bytes()[:3000])
    return path


@pytest.mark.parametrize(
    "make_broken", [make_not_elf, make_truncated], ids=["not-elf", "truncated"]
)
def test_broken_stripped_binary_fails_its_build_only(
    store: Store, stage_settings: Settings, tmp_path: Path, make_broken: Any
) -> None:
    run_build_stage(store, stage_settings, programs=[CASE], opts=["O0", "O2"], progress=False)
    broken_build = build_row(store, CASE, "O0")
    other_build = build_row(store, CASE, "O2")
    assert broken_build.stripped_path is not None
    broken = make_broken(tmp_path, Path(broken_build.stripped_path))
    set_build_paths(
        store, broken_build.id, stripped_path=str(broken), stripped_sha256=sha256_of(broken)
    )

    report = run_analysis_stage(store, stage_settings, programs=[CASE], progress=False)

    assert set(report.failed) == {broken_build.id}
    assert str(broken) in report.failed[broken_build.id]
    assert "changed after it was built" not in report.failed[broken_build.id]
    assert set(report.analysed) == {other_build.id}
    with store.session() as session:
        stored = session.scalars(
            select(BinaryFunction.build_id).where(BinaryFunction.build_id == broken_build.id)
        ).all()
        assert stored == []
        build = session.get(Build, broken_build.id)
        assert build is not None
        assert build.analysis_hash is None


def test_join_reports_build_without_analysis(
    store: Store, stage_settings: Settings, tmp_path: Path
) -> None:
    run_build_stage(store, stage_settings, programs=[CASE], opts=["O0", "O2"], progress=False)
    run_truth_stage(store, stage_settings, programs=[CASE], progress=False)
    broken_build = build_row(store, CASE, "O0")
    broken = make_not_elf(tmp_path, Path())
    set_build_paths(
        store, broken_build.id, stripped_path=str(broken), stripped_sha256=sha256_of(broken)
    )
    run_analysis_stage(store, stage_settings, programs=[CASE], progress=False)

    report = run_join_stage(store, programs=[CASE], progress=False)

    assert set(report.missing_inputs) == {broken_build.id}
    assert "analyze" in report.missing_inputs[broken_build.id]
    assert report.joined == [build_row(store, CASE, "O2").id]


# --- truth ----------------------------------------------------------------------


def test_elf_without_debug_info_fails_truth(store: Store, stage_settings: Settings) -> None:
    run_build_stage(store, stage_settings, programs=[CASE], opts=["O0", "O2"], progress=False)
    broken_build = build_row(store, CASE, "O0")
    other_build = build_row(store, CASE, "O2")
    stripped = broken_build.stripped_path
    assert stripped is not None
    set_build_paths(
        store, broken_build.id, debug_path=stripped, debug_sha256=sha256_of(Path(stripped))
    )

    report = run_truth_stage(store, stage_settings, programs=[CASE], progress=False)

    assert set(report.failed) == {broken_build.id}
    assert str(stripped) in report.failed[broken_build.id]
    assert "no .debug_info" in report.failed[broken_build.id]
    assert report.computed == [other_build.id]
    with store.session() as session:
        rows = session.scalars(
            select(DwarfFunction.id).where(DwarfFunction.build_id == broken_build.id)
        ).all()
    assert rows == []


def test_replaced_binaries_fail_their_stage(
    store: Store, stage_settings: Settings, tmp_path: Path
) -> None:
    # Files swapped after the build keep their recorded sha256, so the stages
    # must notice that ground truth and decompiler input no longer belong together.
    run_build_stage(store, stage_settings, programs=[CASE], opts=["O0", "O2"], progress=False)
    o0, o2 = build_row(store, CASE, "O0"), build_row(store, CASE, "O2")
    assert o0.debug_path is not None and o0.stripped_path is not None
    assert o2.debug_path is not None and o2.stripped_path is not None
    Path(o0.debug_path).write_bytes(Path(o2.debug_path).read_bytes())
    Path(o0.stripped_path).write_bytes(Path(o2.stripped_path).read_bytes())

    truth = run_truth_stage(store, stage_settings, programs=[CASE], progress=False)
    analysis = run_analysis_stage(store, stage_settings, programs=[CASE], progress=False)

    for report in (truth, analysis):
        assert set(report.failed) == {o0.id}
        message = report.failed[o0.id]
        assert "changed after it was built" in message
        assert f"reforge corpus build {CASE} --opt O0" in message
    assert truth.computed == [o2.id]
    assert set(analysis.analysed) == {o2.id}


def test_missing_binary_fails_its_stage(store: Store, stage_settings: Settings) -> None:
    run_build_stage(store, stage_settings, programs=[CASE], opts=["O1"], progress=False)
    build = build_row(store, CASE, "O1")
    assert build.stripped_path is not None
    Path(build.stripped_path).unlink()

    report = run_analysis_stage(store, stage_settings, programs=[CASE], progress=False)

    assert build.stripped_path in report.failed[build.id]
    assert "No such file" in report.failed[build.id]


def test_unknown_program_name_is_rejected(store: Store, stage_settings: Settings) -> None:
    for run in (
        lambda: run_truth_stage(store, stage_settings, programs=["no_such_case"], progress=False),
        lambda: run_analysis_stage(
            store, stage_settings, programs=["no_such_case"], progress=False
        ),
        lambda: run_join_stage(store, programs=["no_such_case"], progress=False),
        lambda: run_build_stage(store, stage_settings, programs=["no_such_case"], progress=False),
    ):
        with pytest.raises(ManifestError, match="no_such_case"):
            run()


# --- build ----------------------------------------------------------------------


def test_compile_error_names_program_level_and_message(
    store: Store, stage_settings: Settings, tmp_path: Path
) -> None:
    broken = write_manifest(tmp_path / "cases", "broken_case", {"main.c": BROKEN_SOURCE})
    good = write_manifest(tmp_path / "cases", "good_case", {"main.c": GOOD_SOURCE})
    expected_error = first_gcc_error(tmp_path / "cases" / "broken_case" / "main.c")

    results = build_programs(
        [BuildRequest(broken, "O2"), BuildRequest(good, "O2")], stage_settings, progress=False
    )
    with store.session() as session:
        for result in results:
            record_build(session, broken if result.program == "broken_case" else good, result)

    failed, succeeded = results
    assert failed.ok is False
    assert failed.error is not None
    assert "broken_case" in failed.error
    assert "O2" in failed.error
    assert expected_error in failed.error
    assert succeeded.ok is True
    stored_failure = build_row(store, "broken_case", "O2")
    assert stored_failure.ok is False
    assert stored_failure.error == failed.error
    assert stored_failure.stripped_path is None
    stored_success = build_row(store, "good_case", "O2")
    assert stored_success.ok is True
    assert stored_success.stripped_path == str(succeeded.stripped_path)

    # Later stages see only the successful build.
    truth = run_truth_stage(store, stage_settings, progress=False)
    assert truth.computed == [stored_success.id]
    assert truth.failed == {}


def test_changed_debug_binary_replaces_truth_rows(
    store: Store, stage_settings: Settings, tmp_path: Path
) -> None:
    # DIE offsets of a rebuilt binary name other functions, so rows of the old
    # binary must be deleted (with the joins that refer to them), not updated
    # in place by offset.
    cases = tmp_path / "cases"
    first = write_manifest(cases, "rebuilt_case", {"main.c": GOOD_SOURCE})
    (result,) = build_programs([BuildRequest(first, "O0")], stage_settings, progress=False)
    with store.session() as session:
        record_build(session, first, result)
    run_truth_stage(store, stage_settings, progress=False)
    run_analysis_stage(store, stage_settings, progress=False)
    run_join_stage(store, progress=False)
    build = build_row(store, "rebuilt_case", "O0")
    assert joined_dwarf_rows(store, build.id) == 2

    changed = GOOD_SOURCE.replace(
        "static int square",
        "static int cube(int value)\n{\n    return value * value * value;\n}\n\nstatic int square",
    ).replace("square(argc + 1)", "square(argc + 1) + cube(argc)")
    second = write_manifest(cases, "rebuilt_case", {"main.c": changed})
    (rebuilt,) = build_programs([BuildRequest(second, "O0")], stage_settings, progress=False)
    with store.session() as session:
        record_build(session, second, rebuilt)
    report = run_truth_stage(store, stage_settings, progress=False)

    assert report.computed == [build.id]
    assert rebuilt.debug_path is not None
    expected = {
        (symbol.name, symbol.address)
        for symbol in text_symbols(rebuilt.debug_path)
        if symbol.name in ("main", "square", "cube")
    }
    with store.session() as session:
        rows = session.scalars(select(DwarfFunction).where(DwarfFunction.build_id == build.id))
        assert {(row.name, row.low_pc) for row in rows} == expected
    assert joined_dwarf_rows(store, build.id) == 0


def joined_dwarf_rows(store: Store, build_id: int) -> int:
    """Count the joined rows of a build that have a DWARF side."""
    with store.session() as session:
        rows = session.scalars(
            select(JoinedFunction.id).where(
                JoinedFunction.build_id == build_id, JoinedFunction.dwarf_function_id.is_not(None)
            )
        )
        return len(list(rows))
