"""The ``reforge`` command line, run as a subprocess on one synthetic case at -O0.

Expected values come from the files themselves (``sha256sum``, ``gcc
--version``, ``readelf --debug-dump``, the case's manifest), not from reforge.
"""

from __future__ import annotations

import json
import logging
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from readelf_reference import reference_functions

from reforge.corpus import synthetic_dir

from .conftest import RunCli, cli_runner

CASE = "t01_crossfile_calls"

FUNCTION_KEYS = {
    "program", "opt", "dwarf_function_id", "name", "low_pc", "high_pc", "ranges", "decl_file",
    "decl_line", "verdict", "reasons", "stable_key", "alignment", "ghidra_name",
    "ghidra_entry_va", "c_raw", "calls_text", "cfg_text", "variables_text", "loc_decompiled",
    "bb_count", "cyclomatic", "match_kind", "confidence_tier", "gold_reject_reason", "leak",
}  # fmt: skip
DWARF_KEYS = {
    "dwarf_function_id", "name", "low_pc", "high_pc", "ranges", "decl_file", "decl_line",
    "verdict", "reasons", "stable_key", "alignment",
}  # fmt: skip
BUILD_KEYS = {
    "program", "opt", "variant", "debug_path", "stripped_path", "debug_sha256", "compiler",
    "flags",
}  # fmt: skip


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def sha256sum(path: Path) -> str:
    completed = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True)
    return completed.stdout.split()[0]


def error_lines(completed: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in completed.stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def pipeline(run_cli: RunCli) -> dict[str, subprocess.CompletedProcess[str]]:
    """Build, read and decompile the case through the CLI, keeping every command's output."""
    return {
        "build": run_cli("corpus", "build", CASE, "--opt", "O0", "--json"),
        "truth": run_cli("truth", CASE, "--opt", "O0"),
        "analyze": run_cli("analyze", CASE, "--opt", "O0"),
    }


@pytest.fixture(scope="module")
def build_row(pipeline: dict[str, Any], run_cli: RunCli) -> dict[str, Any]:
    (row,) = json_lines(run_cli("builds", "--json").stdout)
    return row


# --- corpus ---------------------------------------------------------------------


def test_corpus_list_json(run_cli: RunCli) -> None:
    rows = json_lines(run_cli("corpus", "list", "--json").stdout)
    case_folders = {path.parent.name for path in synthetic_dir().glob("*/manifest.toml")}
    by_name = {row["name"]: row for row in rows}
    t01 = tomllib.loads((synthetic_dir() / CASE / "manifest.toml").read_text())

    assert {frozenset(row) for row in rows} == {frozenset(rows[0])}
    assert {"name", "kind", "available", "description"} <= set(rows[0])
    assert case_folders <= set(by_name)
    assert {"zlib", "bzip2", "lua"} <= set(by_name)
    assert by_name[CASE]["kind"] == "synthetic"
    assert by_name[CASE]["sources"] == len(t01["sources"])
    assert by_name[CASE]["available"] is True
    assert by_name["zlib"]["kind"] == "realworld"


def test_corpus_build_json(pipeline: dict[str, Any]) -> None:
    (result,) = json_lines(pipeline["build"].stdout)

    assert result["program"] == CASE
    assert result["opt"] == "O0"
    assert result["ok"] is True
    assert result["debug_sha256"] == sha256sum(Path(result["debug_path"]))
    assert result["stripped_sha256"] == sha256sum(Path(result["stripped_path"]))


def test_rebuild_reports_cached(pipeline: dict[str, Any], run_cli: RunCli) -> None:
    (result,) = json_lines(run_cli("corpus", "build", CASE, "--opt", "O0", "--json").stdout)

    assert result["cached"] is True


# --- truth and analyze ----------------------------------------------------------


def table(text: str) -> tuple[list[str], list[list[str]]]:
    """Split a printed table into its header cells and row cells."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0].split("  ")
    assert set(lines[1].replace(" ", "")) == {"-"}, lines[1]
    return [cell.strip() for cell in header if cell.strip()], [line.split() for line in lines[2:]]


def test_truth_prints_summary_table(pipeline: dict[str, Any], build_row: dict[str, Any]) -> None:
    headers, rows = table(pipeline["truth"].stdout)
    reference = reference_functions(Path(build_row["debug_path"]))
    with_range = sum(1 for function in reference.functions if function.ranges)

    assert headers == [
        "program", "opt", "functions", "with range", "ACCEPT", "WARN", "REJECT", "status",
    ]  # fmt: skip
    assert len(rows) == 1
    program, opt, functions, ranged, *_ = rows[0]
    assert (program, opt) == (CASE, "O0")
    assert rows[0][-1] == "ok"
    assert int(ranged) == with_range
    assert int(functions) >= with_range


def test_analyze_prints_summary_table(pipeline: dict[str, Any]) -> None:
    headers, rows = table(pipeline["analyze"].stdout)

    assert headers == [
        "program", "opt", "found", "decompiled", "GOLD", "SILVER", "BRONZE", "none", "status",
    ]  # fmt: skip
    assert len(rows) == 1
    program, opt, found, decompiled, gold, *_ = rows[0]
    assert (program, opt) == (CASE, "O0")
    assert rows[0][-1] == "ok"
    assert int(found) > 0
    assert int(decompiled) == int(found)
    assert int(gold) > 0


def test_failed_analysis_marks_its_build(tmp_path: Path) -> None:
    # Its own data folder: the module's shared builds must stay intact.
    run = cli_runner(tmp_path)
    run("corpus", "build", CASE, "--opt", "O0,O1")
    run("analyze", CASE, "--opt", "O0,O1")
    (o0,) = [row for row in json_lines(run("builds", "--json").stdout) if row["opt"] == "O0"]
    Path(o0["stripped_path"]).write_text("not a binary any more\n")

    table_run = run("analyze", CASE, "--opt", "O0,O1", "--force", check=False)
    json_run = run("analyze", CASE, "--opt", "O0,O1", "--force", "--json", check=False)

    assert table_run.returncode == 1
    _, rows = table(table_run.stdout)
    assert {row[1]: row[-1] for row in rows if row[0] == CASE} == {"O0": "FAILED", "O1": "ok"}
    assert "earlier run" in table_run.stdout
    by_opt = {row["opt"]: row for row in json_lines(json_run.stdout)}
    assert by_opt["O0"]["failed"] is True
    assert o0["stripped_path"] in by_opt["O0"]["error"]
    assert by_opt["O1"]["failed"] is False
    assert by_opt["O1"]["error"] is None


def test_no_migration_logs(pipeline: dict[str, Any]) -> None:
    for command, completed in pipeline.items():
        assert "alembic" not in completed.stderr, command


# --- builds and functions -------------------------------------------------------


def test_builds_json(build_row: dict[str, Any]) -> None:
    gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True, check=True)

    assert set(build_row) >= BUILD_KEYS
    assert build_row["program"] == CASE
    assert build_row["opt"] == "O0"
    assert build_row["variant"] == "nopie"
    assert build_row["debug_sha256"] == sha256sum(Path(build_row["debug_path"]))
    assert build_row["stripped_sha256"] == sha256sum(Path(build_row["stripped_path"]))
    assert build_row["compiler"] == gcc.stdout.splitlines()[0].strip()
    assert {"-g", "-O0", "-std=c11", "-fno-omit-frame-pointer"} <= set(build_row["flags"])


def test_functions_json(
    pipeline: dict[str, Any], build_row: dict[str, Any], run_cli: RunCli
) -> None:
    rows = json_lines(run_cli("functions", CASE, "--opt", "O0", "--json").stdout)
    dwarf = [row for row in rows if row["dwarf_function_id"] is not None]
    unjoined = [row for row in rows if row["dwarf_function_id"] is None]
    reference = reference_functions(Path(build_row["debug_path"]))

    assert {frozenset(row) for row in rows} == {frozenset(rows[0])}
    assert set(rows[0]) >= FUNCTION_KEYS
    assert {(row["name"], row["low_pc"]) for row in dwarf} == reference.names_and_low_pcs()
    for row in dwarf:
        assert row["program"] == CASE
        assert row["opt"] == "O0"
        ranges = [(int(start, 16), int(end, 16)) for start, end in row["ranges"]]
        assert min(start for start, _ in ranges) == row["low_pc"], row["name"]
    main = next(row for row in dwarf if row["name"] == "main")
    assert main["match_kind"] == "JOINED_STRONG"
    assert main["ghidra_name"] == f"FUN_{main['low_pc']:08x}"
    assert main["c_raw"]
    assert unjoined
    for row in unjoined:
        assert all(row[key] is None for key in DWARF_KEYS), row["ghidra_name"]
        assert row["ghidra_name"] is not None


# --- errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("functions", "no_such_case", "--opt", "O0"),
        ("truth", "no_such_case"),
        ("analyze", "no_such_case"),
        ("corpus", "build", "no_such_case", "--opt", "O0"),
    ],
    ids=["functions", "truth", "analyze", "corpus-build"],
)
def test_unknown_program_is_one_line_error(run_cli: RunCli, args: tuple[str, ...]) -> None:
    completed = run_cli(*args, check=False)
    lines = error_lines(completed)

    assert completed.returncode != 0
    assert len(lines) == 1, lines
    assert "no_such_case" in lines[0]


@pytest.mark.parametrize(
    "args",
    [
        ("functions", CASE, "--opt", "O9"),
        ("truth", CASE, "--opt", "O9"),
        ("corpus", "build", CASE, "--opt", "O9"),
    ],
    ids=["functions", "truth", "corpus-build"],
)
def test_unknown_level_is_clear_error(run_cli: RunCli, args: tuple[str, ...]) -> None:
    completed = run_cli(*args, check=False)
    lines = error_lines(completed)

    assert completed.returncode != 0
    assert len(lines) == 1, lines
    assert "'O9'" in lines[0]
    assert "O0, O1, O2, O3" in lines[0]


def test_functions_before_build_names_next_step(run_cli: RunCli) -> None:
    completed = run_cli("functions", "t02_inline_header_macros", "--opt", "O1", check=False)
    lines = error_lines(completed)

    assert completed.returncode != 0
    assert len(lines) == 1, lines
    assert "reforge corpus build t02_inline_header_macros --opt O1`" in lines[0]


def test_functions_pie_hint_builds_pie(run_cli: RunCli) -> None:
    completed = run_cli(
        "functions", "t02_inline_header_macros", "--opt", "O1", "--pie", check=False
    )
    (line,) = error_lines(completed)

    assert completed.returncode != 0
    assert "reforge corpus build t02_inline_header_macros --opt O1 --pie" in line
    assert "reforge analyze t02_inline_header_macros --opt O1 --pie" in line


@pytest.mark.parametrize(("verbose", "level"), [(False, logging.WARNING), (True, logging.DEBUG)])
def test_request_logs_only_when_verbose(verbose: bool, level: int) -> None:
    # Every API and model request of a run would otherwise print an INFO line.
    from reforge.cli import _configure

    names = ("httpx", "httpcore", "alembic")
    saved = {name: logging.getLogger(name).level for name in names}
    try:
        _configure(verbose=verbose)
        for name in names:
            assert logging.getLogger(name).level == level, name
    finally:
        for name, previous in saved.items():
            logging.getLogger(name).setLevel(previous)
