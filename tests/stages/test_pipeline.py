"""Build, truth, analysis and join of two synthetic cases at -O0 and -O2, on every back-end.

Expected values come from binutils (``nm``, ``readelf -s``) run on the debug
binaries and from the C sources of the cases, never from the code under test.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from reforge.corpus import get_program
from reforge.llm.view import BOOKKEEPING_FIELDS, PROMPT_FIELDS
from reforge.stages.analyze import run_analysis_stage
from reforge.stages.build import run_build_stage
from reforge.stages.join import run_join_stage
from reforge.stages.truth import run_truth_stage
from reforge.store.db import Store
from reforge.store.functions import iter_llm_functions, truth_rows
from reforge.store.models import Base, BinaryFunction, Build, Program

from .binutils import local_functions_by_file, text_symbols
from .conftest import PIPELINE_CASES, PIPELINE_LEVELS, PipelineRun

# Tables the four stages write; experiment tables stay empty here.
STAGE_TABLES = (
    "blobs",
    "programs",
    "builds",
    "dwarf_functions",
    "source_functions",
    "alignments",
    "binary_functions",
    "joined_functions",
)

# String literals of each function of t15_noreturn_cold/rle_tool.c, as written
# in the source (C escapes kept, because the decompiler prints them the same way).
RLE_TOOL_LITERALS = {
    "die_with_usage": [r"error: %s\n", r"usage: %s [-v] encode|decode|roundtrip TEXT\n"],
    "report_buffer_overflow": [r"internal error: output buffer overflow at %zu bytes\n"],
    "buffer_push_byte": [],
    "rle_encode": [],
    "rle_decode": [],
    "parse_encoded_text": [],
    "print_encoded": ["%u%c", r"\n"],
    "mode_label": ["encode", "decode", "roundtrip"],
    "parse_arguments": [
        "-v",
        "expected a mode and one text argument",
        "encode",
        "decode",
        "roundtrip",
        "unknown mode",
        "text too long",
    ],
    "run_roundtrip": [r"%zu bytes -> %zu encoded bytes, round trip %s\n", "ok", "MISMATCH"],
    "main": [r"mode: %s\n", r"invalid encoded text\n", r"%.*s\n"],
}


def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Return every row of the stage tables, ordered by primary key."""
    with store.session() as session:
        result = {}
        for name in STAGE_TABLES:
            table = Base.metadata.tables[name]
            rows = session.execute(select(table).order_by(*table.primary_key.columns))
            result[name] = [tuple(row) for row in rows]
    return result


def build_ids(store: Store) -> list[int]:
    with store.session() as session:
        return sorted(session.scalars(select(Build.id)))


def build_paths(store: Store, program: str, opt: str) -> tuple[Path, Path]:
    """Return the debug and stripped binary of one stored build."""
    with store.session() as session:
        build = session.scalars(
            select(Build)
            .join(Program, Program.id == Build.program_id)
            .where(Program.name == program, Build.opt == opt)
        ).one()
        assert build.debug_path is not None
        assert build.stripped_path is not None
        return Path(build.debug_path), Path(build.stripped_path)


def body_ranges(store: Store, program: str, opt: str, entry: int) -> list[tuple[int, int]]:
    """Return the decompiled body ranges of the function at `entry` in one build."""
    with store.session() as session:
        ranges = session.scalars(
            select(BinaryFunction.body_ranges)
            .join(Build, Build.id == BinaryFunction.build_id)
            .join(Program, Program.id == Build.program_id)
            .where(Program.name == program, Build.opt == opt, BinaryFunction.entry_va == entry)
        ).one()
    return [(int(start), int(end)) for start, end in ranges]


def function_rows(store: Store, program: str, opt: str) -> list[dict[str, Any]]:
    with store.session() as session:
        return truth_rows(session, program=program, opt=opt)


def dwarf_rows_named(rows: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [row for row in rows if row["dwarf_function_id"] is not None and row["name"] == name]


def parse_hex_ranges(ranges: list[list[str]]) -> list[tuple[int, int]]:
    return [(int(start, 16), int(end, 16)) for start, end in ranges]


def source_line(program: str, file_name: str, pattern: str) -> int:
    """Return the 1-based line of the first line of a case's source that matches `pattern`."""
    source = get_program(program).manifest_path.parent / file_name
    for number, line in enumerate(source.read_text().splitlines(), start=1):
        if re.search(pattern, line):
            return number
    raise AssertionError(f"{pattern!r} not found in {source}")


# --- first run ------------------------------------------------------------------


def test_first_run_reports(shared_pipeline: PipelineRun) -> None:
    expected = {f"{case}@{opt}" for case in PIPELINE_CASES for opt in PIPELINE_LEVELS}
    ids = build_ids(shared_pipeline.store)

    assert {f"{r.program}@{r.opt}" for r in shared_pipeline.build.results if r.ok} == expected
    assert shared_pipeline.build.failed == []
    assert sorted(shared_pipeline.truth.computed) == ids
    assert shared_pipeline.truth.failed == {}
    assert sorted(shared_pipeline.analysis.analysed) == ids
    assert shared_pipeline.analysis.failed == {}
    assert sorted(shared_pipeline.join.joined) == ids
    assert shared_pipeline.join.missing_inputs == {}


def test_every_discovered_function_decompiles(shared_pipeline: PipelineRun) -> None:
    for build_id, (found, decompiled) in shared_pipeline.analysis.analysed.items():
        assert found > 0, build_id
        assert decompiled == found, build_id


# --- idempotence ----------------------------------------------------------------


def test_rerun_changes_nothing(pipeline: PipelineRun) -> None:
    store, settings = pipeline.store, pipeline.settings
    selection = {"programs": list(PIPELINE_CASES), "opts": list(PIPELINE_LEVELS)}
    before = snapshot(store)
    ids = build_ids(store)

    build = run_build_stage(store, settings, progress=False, **selection)
    assert all(result.cached for result in build.results)
    assert snapshot(store) == before

    truth = run_truth_stage(store, settings, progress=False, **selection)
    assert sorted(truth.unchanged) == ids
    assert truth.computed == []
    assert snapshot(store) == before

    analysis = run_analysis_stage(store, settings, progress=False, **selection)
    assert sorted(analysis.unchanged) == ids
    assert analysis.analysed == {}
    assert snapshot(store) == before

    join = run_join_stage(store, progress=False, **selection)
    assert sorted(join.joined) == ids
    assert snapshot(store) == before


def test_forced_truth_keeps_row_ids(pipeline: PipelineRun) -> None:
    store = pipeline.store
    before = snapshot(store)["dwarf_functions"]

    report = run_truth_stage(
        store, pipeline.settings, programs=list(PIPELINE_CASES), progress=False, force=True
    )

    assert sorted(report.computed) == build_ids(store)
    assert snapshot(store)["dwarf_functions"] == before


def test_join_rerun_after_analysis_rerun(pipeline: PipelineRun) -> None:
    # A forced analysis replaces the decompiled rows, so the join rebuilds its rows
    # against the new ones and ends with the same content.
    store, settings = pipeline.store, pipeline.settings

    def joined_content() -> list[tuple[Any, ...]]:
        with store.session() as session:
            rows = truth_rows(session, include_code=False)
        return sorted(
            (r["program"], r["opt"], r["dwarf_function_id"] or "", r["ghidra_name"] or "",
             r["match_kind"], r["confidence_tier"] or "", r["leak"])
            for r in rows
        )  # fmt: skip

    before = joined_content()
    run_analysis_stage(store, settings, programs=["t15_noreturn_cold"], progress=False, force=True)
    run_join_stage(store, programs=["t15_noreturn_cold"], progress=False)

    assert joined_content() == before


# --- same-named statics -----------------------------------------------------------


@pytest.mark.parametrize("opt", PIPELINE_LEVELS)
@pytest.mark.parametrize("name", ["parse_line", "print_summary"])
def test_same_static_names_join_own_address(
    shared_pipeline: PipelineRun, opt: str, name: str
) -> None:
    program = "t04_same_static_names"
    debug, _ = build_paths(shared_pipeline.store, program, opt)
    expected = {
        file: functions[name]
        for file, functions in local_functions_by_file(debug).items()
        if name in functions
    }
    nm_addresses = {s.address for s in text_symbols(debug) if s.name == name}
    rows = dwarf_rows_named(function_rows(shared_pipeline.store, program, opt), name)
    concrete = [row for row in rows if row["low_pc"] is not None]

    assert {row["low_pc"] for row in concrete} == nm_addresses
    assert {row["decl_file"]: row["low_pc"] for row in concrete} == expected
    assert len({row["stable_key"] for row in concrete}) == len(concrete)
    assert len({row["dwarf_function_id"] for row in concrete}) == len(concrete)
    for row in concrete:
        assert row["match_kind"] == "JOINED_STRONG", row["decl_file"]
        assert row["ghidra_entry_va"] == row["low_pc"], row["decl_file"]
        assert row["ghidra_name"] == f"FUN_{row['low_pc']:08x}", row["decl_file"]


def test_parse_line_has_three_bodies_at_o0(shared_pipeline: PipelineRun) -> None:
    all_rows = function_rows(shared_pipeline.store, "t04_same_static_names", "O0")
    rows = dwarf_rows_named(all_rows, "parse_line")

    assert sorted(row["decl_file"] for row in rows) == [
        "access_log.c",
        "config_file.c",
        "csv_table.c",
    ]
    for row in rows:
        line = source_line("t04_same_static_names", row["decl_file"], r"^static int parse_line\(")
        assert row["decl_line"] == line
        assert row["stable_key"].startswith(f"t04_same_static_names:{row['decl_file']}:{line}:")
        assert row["stable_key"].endswith(":parse_line")


@pytest.mark.parametrize("program", PIPELINE_CASES)
def test_stable_keys_equal_across_levels(shared_pipeline: PipelineRun, program: str) -> None:
    keys: dict[str, dict[tuple[str, str, int], set[str]]] = defaultdict(lambda: defaultdict(set))
    for opt in PIPELINE_LEVELS:
        for row in function_rows(shared_pipeline.store, program, opt):
            if row["dwarf_function_id"] is not None and row["low_pc"] is not None:
                identity = (row["name"], row["decl_file"], row["decl_line"])
                keys[opt][identity].add(row["stable_key"])
    common = set(keys["O0"]) & set(keys["O2"])

    assert len(common) >= 5
    for identity in common:
        assert keys["O0"][identity] == keys["O2"][identity], identity
        assert len(keys["O0"][identity]) == 1, identity


# --- no-return calls and cold parts ----------------------------------------------


@pytest.mark.parametrize("opt", PIPELINE_LEVELS)
def test_noreturn_call_ends_function(shared_pipeline: PipelineRun, opt: str) -> None:
    program = "t15_noreturn_cold"
    debug, _ = build_paths(shared_pipeline.store, program, opt)
    symbols = [s for s in text_symbols(debug) if not s.name.endswith(".cold")]
    index = next(i for i, s in enumerate(symbols) if s.name == "die_with_usage")
    following = symbols[index + 1]
    (row,) = dwarf_rows_named(function_rows(shared_pipeline.store, program, opt), "die_with_usage")
    c_raw = row["c_raw"]
    own = set(RLE_TOOL_LITERALS["die_with_usage"])
    others = {
        literal
        for name, literals in RLE_TOOL_LITERALS.items()
        if name != "die_with_usage"
        for literal in literals
    } - own

    assert row["match_kind"] == "JOINED_STRONG"
    assert "exit(" in c_raw
    for literal in own:
        assert f'"{literal}"' in c_raw, literal
    for literal in set(RLE_TOOL_LITERALS.get(following.name, [])) - own:
        assert f'"{literal}"' not in c_raw, (following.name, literal)
    for literal in others:
        assert f'"{literal}"' not in c_raw, literal
    for start, end in body_ranges(shared_pipeline.store, program, opt, row["low_pc"]):
        assert not start < following.address < end, (hex(start), hex(end), following.name)
        assert end <= following.address or start > following.address


def test_cold_split_functions_join_strong(shared_pipeline: PipelineRun) -> None:
    program = "t15_noreturn_cold"
    debug, _ = build_paths(shared_pipeline.store, program, "O2")
    symbols = {s.name: s for s in text_symbols(debug)}
    split = sorted(name.removesuffix(".cold") for name in symbols if name.endswith(".cold"))
    rows = function_rows(shared_pipeline.store, program, "O2")

    # gcc 12 splits these three at -O2; the test needs at least one to mean anything.
    assert split == ["main", "rle_decode", "rle_encode"]
    for name in split:
        hot, cold = symbols[name], symbols[f"{name}.cold"]
        assert hot.size is not None and cold.size is not None
        (row,) = dwarf_rows_named(rows, name)
        ranges = sorted(parse_hex_ranges(row["ranges"]))
        assert ranges == sorted(
            [(hot.address, hot.address + hot.size), (cold.address, cold.address + cold.size)]
        ), name
        assert row["match_kind"] == "JOINED_STRONG", name
        assert row["join_overlap"] == pytest.approx(1.0), name
        assert row["ghidra_entry_va"] == hot.address, name


# --- views ------------------------------------------------------------------------


def test_llm_view_has_only_allowed_keys(shared_pipeline: PipelineRun) -> None:
    allowed = PROMPT_FIELDS | BOOKKEEPING_FIELDS
    with shared_pipeline.store.session() as session:
        views = list(iter_llm_functions(session, variant=None))
        tiered = [
            row
            for row in truth_rows(session, include_code=False)
            if row["confidence_tier"] is not None and row["decompile_status"] == "ok"
        ]

    assert len(views) == len(tiered)
    assert len(views) > 20
    for view in views:
        assert set(view.model_dump()) <= allowed, view.ghidra_name


def test_truth_rows_share_one_key_set(shared_pipeline: PipelineRun) -> None:
    with shared_pipeline.store.session() as session:
        rows = truth_rows(session, program="t04_same_static_names", opt="O0")
    joined = [row for row in rows if row["dwarf_function_id"] is not None]
    unjoined = [row for row in rows if row["dwarf_function_id"] is None]

    assert joined
    assert unjoined
    assert {frozenset(row) for row in rows} == {frozenset(rows[0])}
    for row in unjoined:
        assert row["name"] is None
        assert row["low_pc"] is None
        assert row["verdict"] is None
        assert row["stable_key"] is None
        assert row["ghidra_name"] is not None
