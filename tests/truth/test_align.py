"""Tests for aligning DWARF functions to source definitions and for stable keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from source_fixtures import (
    COMMON_H,
    TWO_FILE_DEFINITIONS,
    TWO_FILE_PROGRAM,
    DwarfFunction,
    compile_program,
    line_of,
    read_dwarf_functions,
    write_sources,
)

from reforge.truth.align import Alignment, align_functions, make_stable_key, normalise_path
from reforge.truth.source import SourceFunction, find_source_functions, preprocess

PROGRAM = "two-file"
SOURCES = ("one.c", "two.c")

# Functions that every level must keep out of line: globals and noinline statics.
ALWAYS_EMITTED = {
    ("one.c", "helper"),
    ("one.c", "one_entry"),
    ("one.c", "main"),
    ("two.c", "helper"),
    ("two.c", "get_width"),
    ("two.c", "two_name"),
    ("two.c", "pick_op"),
    ("two.c", "two_entry"),
}


def _source_functions(
    root: Path, opt: str, units: tuple[str, ...] = SOURCES
) -> list[SourceFunction]:
    functions: list[SourceFunction] = []
    for unit in units:
        text = preprocess(Path(unit), cwd=root, flags=[opt])
        functions.extend(find_source_functions(text, unit, cwd=root))
    return functions


def _build(root: Path, opt: str) -> list[DwarfFunction]:
    binary = compile_program(root, SOURCES, opt, f"program{opt}")
    return read_dwarf_functions(binary)


def _file_of(dwarf: DwarfFunction) -> str:
    assert dwarf.decl_file is not None
    return os.path.basename(dwarf.decl_file)


def _expected_name_line(file: str, name: str) -> int:
    return line_of(TWO_FILE_PROGRAM[file], TWO_FILE_DEFINITIONS[(file, name)])


def _source(
    name: str, start: int, end: int, *, file: str = "a.c", tu: str = "a.c", name_line: int = 0
) -> SourceFunction:
    return SourceFunction(
        name=name,
        file=file,
        start_line=start,
        end_line=end,
        start_column=5,
        name_line=name_line or start,
        tu=tu,
        is_static=False,
        is_inline=False,
        from_header=file != tu,
    )


def _dwarf(
    name: str | None,
    span: tuple[int, int] | None,
    *,
    decl_line: int | None = None,
    file: str | None = "a.c",
    decl_file: str | None = None,
) -> DwarfFunction:
    return DwarfFunction(
        die_offset=0x2D,
        name=name,
        decl_file=decl_file if decl_file is not None else file,
        decl_line=decl_line,
        decl_column=5 if decl_line is not None else None,
        dominant_file=file,
        line_min=None if span is None else span[0],
        line_max=None if span is None else span[1],
    )


def _align_one(dwarf: DwarfFunction, sources: list[SourceFunction]) -> Alignment:
    [alignment] = align_functions([dwarf], sources)
    return alignment


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_two_file_program_aligns(tmp_path: Path, opt: str) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    dwarf_functions = _build(tmp_path, opt)
    alignments = align_functions(
        dwarf_functions, _source_functions(tmp_path, opt), source_root=tmp_path
    )

    seen = {(_file_of(dwarf), dwarf.name) for dwarf in dwarf_functions}
    assert seen >= ALWAYS_EMITTED
    for dwarf, alignment in zip(dwarf_functions, alignments, strict=True):
        assert alignment.die_offset == dwarf.die_offset
        assert alignment.source is not None, dwarf
        if dwarf.name == "clamp_add":
            continue
        file = _file_of(dwarf)
        assert alignment.kind == "MATCH", (dwarf, alignment)
        assert alignment.source.name == dwarf.name
        assert alignment.source.file == file
        assert alignment.source.name_line == _expected_name_line(file, str(dwarf.name))
        if dwarf.name != "get_width":
            # gcc gives a macro-made name the column of the macro invocation.
            assert alignment.source.start_column == dwarf.decl_column


def test_full_overlap_at_o0(tmp_path: Path) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    dwarf_functions = _build(tmp_path, "-O0")
    alignments = align_functions(
        dwarf_functions, _source_functions(tmp_path, "-O0"), source_root=tmp_path
    )

    for alignment in alignments:
        assert alignment.overlap == 1.0
        assert alignment.candidates == 1


def test_header_inline_copies_are_ambiguous(tmp_path: Path) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    dwarf_functions = _build(tmp_path, "-O0")
    alignments = align_functions(
        dwarf_functions, _source_functions(tmp_path, "-O0"), source_root=tmp_path
    )

    copies = [
        alignment
        for dwarf, alignment in zip(dwarf_functions, alignments, strict=True)
        if dwarf.name == "clamp_add"
    ]
    assert len(copies) == 2
    for alignment in copies:
        assert alignment.kind == "AMBIGUOUS"
        assert alignment.reason == "replicated_header_body"
        assert alignment.source is not None
        assert alignment.source.file == "common.h"
        assert alignment.source.start_line == line_of(COMMON_H, "static inline int clamp_add(")


def test_header_inline_with_one_unit_matches(tmp_path: Path) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    dwarf_functions = [dwarf for dwarf in _build(tmp_path, "-O0") if dwarf.name == "clamp_add"]
    one_unit = _source_functions(tmp_path, "-O0", ("one.c",))

    alignments = align_functions(dwarf_functions, one_unit, source_root=tmp_path)
    assert [alignment.kind for alignment in alignments] == ["MATCH", "MATCH"]


def test_stable_key_same_across_levels(tmp_path: Path) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    keys: dict[str, dict[tuple[str, str | None], str]] = {}
    for opt in ("-O0", "-O2"):
        keys[opt] = {
            (_file_of(dwarf), dwarf.name): make_stable_key(
                PROGRAM,
                dwarf.decl_file,
                dwarf.decl_line,
                dwarf.decl_column,
                dwarf.name,
                source_root=tmp_path,
            )
            for dwarf in _build(tmp_path, opt)
        }

    for function in ALWAYS_EMITTED:
        assert keys["-O0"][function] == keys["-O2"][function]
    assert keys["-O0"][("one.c", "helper")] != keys["-O0"][("two.c", "helper")]
    helper_line = _expected_name_line("one.c", "helper")
    helper_column = TWO_FILE_PROGRAM["one.c"].split("\n")[helper_line - 1].index("helper") + 1
    assert (
        keys["-O0"][("one.c", "helper")] == f"two-file:one.c:{helper_line}:{helper_column}:helper"
    )


def test_stable_key_across_build_directories(tmp_path: Path) -> None:
    keys: list[set[str]] = []
    for directory, opt in (("build-a", "-O0"), ("build-b", "-O3")):
        root = tmp_path / directory
        write_sources(root, TWO_FILE_PROGRAM)
        keys.append(
            {
                make_stable_key(
                    PROGRAM,
                    dwarf.decl_file,
                    dwarf.decl_line,
                    dwarf.decl_column,
                    dwarf.name,
                    source_root=root,
                )
                for dwarf in _build(root, opt)
                if (_file_of(dwarf), dwarf.name) in ALWAYS_EMITTED
            }
        )

    assert keys[0] == keys[1]
    assert len(keys[0]) == len(ALWAYS_EMITTED)


def test_stable_key_absent_parts() -> None:
    assert make_stable_key("p", None, None, None, None) == "p::::"
    assert make_stable_key("p", "./src/../a.c", 3, None, "f") == "p:a.c:3::f"


def test_no_line_span_is_no_match() -> None:
    alignment = _align_one(_dwarf("f", None, decl_line=1), [_source("f", 1, 5)])

    assert alignment.kind == "NO_MATCH"
    assert alignment.reason == "no_line_span"
    assert alignment.source is None
    assert alignment.overlap == 0.0
    assert alignment.candidates == 0


def test_no_file_is_no_match() -> None:
    alignment = _align_one(_dwarf("f", (1, 3), file=None), [_source("f", 1, 5)])

    assert alignment.kind == "NO_MATCH"
    assert alignment.reason == "no_source_file"


def test_disjoint_lines_are_no_match() -> None:
    alignment = _align_one(_dwarf("f", (20, 30)), [_source("f", 1, 10), _source("g", 40, 50)])

    assert alignment.kind == "NO_MATCH"
    assert alignment.reason == "no_overlap"


def test_other_file_is_no_match() -> None:
    alignment = _align_one(_dwarf("f", (1, 5), file="b.c"), [_source("f", 1, 5)])

    assert alignment.kind == "NO_MATCH"
    assert alignment.reason == "no_overlap"


@pytest.mark.parametrize(
    ("inner_start", "expected_kind"),
    [
        pytest.param(6, "AMBIGUOUS", id="runner-up-0.05-below"),
        pytest.param(7, "MATCH", id="runner-up-0.06-below"),
    ],
)
def test_near_tie_margin(inner_start: int, expected_kind: str) -> None:
    # A nested definition: outer spans 1-100, inner spans inner_start-100.
    sources = [_source("outer", 1, 100), _source("inner", inner_start, 100)]
    alignment = _align_one(_dwarf("unrelated", (1, 100)), sources)

    assert alignment.kind == expected_kind
    assert alignment.source is not None
    assert alignment.source.name == "outer"
    assert alignment.overlap == 1.0
    assert alignment.candidates == 2
    assert alignment.reason == ("near_tie" if expected_kind == "AMBIGUOUS" else None)


def test_name_breaks_near_tie() -> None:
    sources = [_source("outer", 1, 100), _source("inner", 3, 100)]
    alignment = _align_one(_dwarf("inner", (1, 100)), sources)

    assert alignment.kind == "MATCH"
    assert alignment.reason == "name_tie_break"
    assert alignment.source is not None
    assert alignment.source.name == "inner"
    assert alignment.overlap == 0.98


def test_decl_line_beats_larger_overlap() -> None:
    # An optimised `caller` (10-14) whose span reaches into `callee` (1-8),
    # inlined from the same file: the span 1-14 overlaps callee more.
    sources = [_source("callee", 1, 8), _source("caller", 10, 14)]
    alignment = _align_one(_dwarf("caller", (1, 14), decl_line=10), sources)

    assert alignment.kind == "MATCH"
    assert alignment.reason == "decl_line_preferred"
    assert alignment.source is not None
    assert alignment.source.name == "caller"
    assert alignment.overlap == pytest.approx(5 / 14)
    assert alignment.candidates == 2


def test_declaration_only_match() -> None:
    # All rows of `wrapper` come from a header body inlined into it.
    sources = [
        _source("body", 3, 9, file="lib.h", name_line=3),
        _source("wrapper", 20, 23, file="a.c"),
    ]
    dwarf = _dwarf("wrapper", (4, 8), decl_line=20, file="lib.h", decl_file="a.c")
    alignment = _align_one(dwarf, sources)

    assert alignment.kind == "MATCH"
    assert alignment.reason == "declaration_only"
    assert alignment.source is not None
    assert alignment.source.name == "wrapper"
    assert alignment.overlap == 0.0
    assert alignment.candidates == 1


def test_replicated_rows_deduplicated() -> None:
    sources = [
        _source("body", 3, 9, file="lib.h", tu=tu, name_line=3) for tu in ("a.c", "b.c", "a.c")
    ]
    single = [_source("body", 3, 9, file="lib.h", tu="a.c", name_line=3)]
    dwarf = _dwarf("body", (4, 9), decl_line=3, file="lib.h")

    replicated = _align_one(dwarf, sources)
    assert replicated.kind == "AMBIGUOUS"
    assert replicated.reason == "replicated_header_body"
    assert replicated.candidates == 1
    assert replicated.overlap == 1.0
    assert _align_one(dwarf, single).kind == "MATCH"


def test_relative_source_path_resolved_by_suffix(tmp_path: Path) -> None:
    # gcc -E ran in src/, so the source row has "lapi.c", and DWARF has the full path.
    sources = [_source("f", 10, 20, file="lapi.c", tu="lapi.c")]
    dwarf = _dwarf("f", (11, 20), decl_line=10, file=str(tmp_path / "src" / "lapi.c"))

    [alignment] = align_functions([dwarf], sources, source_root=tmp_path)
    assert alignment.kind == "MATCH"
    assert alignment.reason is None


def test_ambiguous_basename_left_unresolved() -> None:
    sources = [
        _source("f", 1, 5, file="one/util.c", tu="one/util.c"),
        _source("g", 1, 5, file="two/util.c", tu="two/util.c"),
    ]
    alignment = _align_one(_dwarf("f", (1, 5), file="/elsewhere/util.c"), sources)

    assert alignment.kind == "NO_MATCH"
    assert alignment.reason == "no_overlap"


def test_inverted_span_raises() -> None:
    with pytest.raises(ValueError, match="line_min 9 > line_max 3"):
        _align_one(_dwarf("f", (9, 3)), [_source("f", 1, 5)])


@pytest.mark.parametrize(
    ("path", "root", "expected"),
    [
        ("/build/lua/src/lapi.c", "/build/lua", "src/lapi.c"),
        ("/build/lua/./src/../src/lapi.c", "/build/lua/", "src/lapi.c"),
        ("/build/lua2/lapi.c", "/build/lua", "/build/lua2/lapi.c"),
        ("/usr/include/stdio.h", "/build/lua", "/usr/include/stdio.h"),
        ("src/./lapi.c", "/build/lua", "src/lapi.c"),
        ("/build/lua/src/lapi.c", None, "/build/lua/src/lapi.c"),
    ],
)
def test_normalise_path(path: str, root: str | None, expected: str) -> None:
    assert normalise_path(path, None if root is None else Path(root)) == expected
