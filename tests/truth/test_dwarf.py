"""Tests of the DWARF oracle on programs that gcc builds here.

Expected values come from the C source text (declaration lines and columns),
``nm -S`` (function addresses and sizes), readelf and objcopy output
(`readelf_reference`), and pyelftools where a test checks which DWARF form
gcc chose.
"""

from __future__ import annotations

import bisect
import os
import shutil
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from dwarf_fixtures import (
    COLD_C,
    FAR_HELPER_C,
    FORWARD_C,
    GC_SECTIONS_C,
    INLINE_C,
    LINE_DIRECTIVES_C,
    NESTED_C,
    PLAIN_C,
    PLAIN_FUNCTIONS,
    SAME_STATIC_A_C,
    SAME_STATIC_B_C,
    SHARED_FIRST_C,
    SHARED_HEADER_H,
    SHARED_SECOND_C,
    TWINS_C,
    TWINS_MAIN_C,
    ZERO_LENGTH_C,
    ZERO_LENGTH_FAR_LINE,
    ZERO_LENGTH_OWN_LINES,
    column_of,
    compile_c,
    extract_tarball,
    line_of,
    nm_symbols,
    section_names,
)
from elftools.common.exceptions import DWARFError, ELFError
from elftools.elf.elffile import ELFFile
from readelf_reference import (
    LineRow,
    ReferenceDie,
    decoded_line_rows,
    parse_readelf_info,
    reference_functions,
    reference_inlined_ranges,
)

from reforge.errors import (
    BinaryError,
    DebugInfoError,
    NotElfError,
    TruncatedBinaryError,
    UnsupportedBinaryError,
)
from reforge.truth.dwarf import (
    REASON_ORDER,
    REJECT_REASONS,
    DwarfFunction,
    iter_dwarf_functions,
    read_dwarf_functions,
)

pytestmark = pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")

# gcc 12 emits DWARF 5 for plain -g.
DWARF_FLAGS = {"dwarf5": ["-g"], "dwarf4": ["-gdwarf-4"]}
DWARF_IDS = list(DWARF_FLAGS)
O2_FLAGS = ["-O2", "-fno-omit-frame-pointer", "-no-pie"]


def by_name(functions: list[DwarfFunction]) -> dict[str, DwarfFunction]:
    names = [f.name for f in functions]
    duplicates = [name for name, count in Counter(names).items() if count > 1]
    assert not duplicates, f"names occur more than once: {duplicates}"
    return {f.name: f for f in functions if f.name is not None}


def merge(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def die_attributes(binary: Path, die_offset: int) -> dict[str, str]:
    """Return attribute name to form of the DIE at `die_offset`, read with pyelftools."""
    with binary.open("rb") as stream:
        dwarf = ELFFile(stream).get_dwarf_info()
        die = dwarf.get_DIE_from_refaddr(die_offset)
        return {name: attribute.form for name, attribute in die.attributes.items()}


# --- names, declarations, ranges ---------------------------------------------


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_plain_names_and_declarations(tmp_path: Path, dwarf: str) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, [*DWARF_FLAGS[dwarf], "-O0"])

    functions = by_name(read_dwarf_functions(binary))

    assert set(functions) == set(PLAIN_FUNCTIONS)
    for name in PLAIN_FUNCTIONS:
        function = functions[name]
        needle = f" {name}("
        assert function.decl_line == line_of(PLAIN_C, needle), name
        assert function.decl_column == column_of(PLAIN_C, needle, name), name
        assert function.decl_file == str(tmp_path / "plain.c"), name
        assert function.verdict == "ACCEPT", (name, function.reasons)
        assert function.reasons == ()
        assert not function.is_inlined_copy
        assert not function.is_artificial
        assert function.linkage_name is None
    assert functions["scale_value"].is_external is False
    assert functions["add_numbers"].is_external is True


@pytest.mark.parametrize("dwarf", DWARF_IDS)
@pytest.mark.parametrize("opt", ["-O0", "-O2"])
def test_plain_ranges_match_nm(tmp_path: Path, dwarf: str, opt: str) -> None:
    flags = [*DWARF_FLAGS[dwarf], opt, "-fno-omit-frame-pointer", "-no-pie"]
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, flags)
    symbols = nm_symbols(binary)

    functions = by_name(read_dwarf_functions(binary))

    for name in PLAIN_FUNCTIONS:
        function = functions[name]
        assert function.ranges == tuple(symbols[name]), name
        assert function.low_pc == symbols[name][0][0]
        assert function.high_pc == symbols[name][0][1]


@pytest.mark.parametrize(
    ("dwarf_flag", "form_class"),
    [("-gdwarf-3", "address"), ("-gdwarf-4", "constant"), ("-gdwarf-5", "constant")],
)
def test_high_pc_form_offset_or_address(tmp_path: Path, dwarf_flag: str, form_class: str) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, [dwarf_flag, "-O0"])
    symbols = nm_symbols(binary)

    functions = by_name(read_dwarf_functions(binary))

    for name in PLAIN_FUNCTIONS:
        function = functions[name]
        form = die_attributes(binary, function.die_offset)["DW_AT_high_pc"]
        if form_class == "address":
            assert form == "DW_FORM_addr", name
        else:
            assert form.startswith("DW_FORM_data"), name
        assert function.ranges == tuple(symbols[name]), name


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_inline_copy_named_via_abstract_origin(tmp_path: Path, dwarf: str) -> None:
    binary = compile_c(tmp_path, {"inline.c": INLINE_C}, [*DWARF_FLAGS[dwarf], *O2_FLAGS])
    symbols = nm_symbols(binary)

    copies = [f for f in read_dwarf_functions(binary) if f.name == "square"]

    assert len(copies) == 1
    square = copies[0]
    attributes = die_attributes(binary, square.die_offset)
    assert "DW_AT_abstract_origin" in attributes
    assert "DW_AT_name" not in attributes
    assert square.is_inlined_copy
    assert square.ranges == tuple(symbols["square"])
    assert square.decl_line == line_of(INLINE_C, "static inline int square")
    assert square.decl_file == str(tmp_path / "inline.c")
    assert square.is_external is False
    assert square.verdict == "ACCEPT"


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_cold_part_is_second_range(tmp_path: Path, dwarf: str) -> None:
    binary = compile_c(tmp_path, {"cold.c": COLD_C}, [*DWARF_FLAGS[dwarf], *O2_FLAGS])
    symbols = nm_symbols(binary)
    assert "check_value.cold" in symbols, "gcc did not split check_value; the test needs a .cold"
    range_section = ".debug_rnglists" if dwarf == "dwarf5" else ".debug_ranges"
    assert range_section in section_names(binary)

    check_value = by_name(read_dwarf_functions(binary))["check_value"]

    assert "DW_AT_ranges" in die_attributes(binary, check_value.die_offset)
    assert len(check_value.ranges) == 2
    assert symbols["check_value.cold"][0] in check_value.ranges
    assert symbols["check_value"][0] in check_value.ranges
    assert check_value.ranges == tuple(sorted(check_value.ranges))
    assert check_value.low_pc == min(lo for lo, _ in check_value.ranges)
    assert check_value.high_pc == max(hi for _, hi in check_value.ranges)
    assert check_value.verdict == "WARN"
    assert check_value.reasons == ("fragmented_ranges",)


def test_same_static_name_in_two_files(tmp_path: Path) -> None:
    sources = {"a.c": SAME_STATIC_A_C, "b.c": SAME_STATIC_B_C}
    binary = compile_c(tmp_path, sources, ["-g", "-O0"])
    symbols = nm_symbols(binary)

    helpers = [f for f in read_dwarf_functions(binary) if f.name == "helper"]

    assert len(helpers) == 2
    assert helpers[0].die_offset != helpers[1].die_offset
    by_file = {os.path.basename(f.decl_file or ""): f for f in helpers}
    assert set(by_file) == {"a.c", "b.c"}
    assert by_file["a.c"].decl_line == line_of(SAME_STATIC_A_C, "static int helper")
    assert by_file["b.c"].decl_line == line_of(SAME_STATIC_B_C, "static int helper")
    assert {f.ranges[0] for f in helpers} == set(symbols["helper"])


def unit_name_of(dies: dict[int, ReferenceDie], die_offset: int) -> str:
    """Return readelf's DW_AT_name of the compile unit that contains the DIE at `die_offset`."""
    unit_offset = dies[die_offset].unit_offset
    top = next(d for d in dies.values() if d.depth == 0 and d.unit_offset == unit_offset)
    return top.string("DW_AT_name")


def test_cu_name_is_translation_unit(tmp_path: Path) -> None:
    sources = {"a.c": SAME_STATIC_A_C, "b.c": SAME_STATIC_B_C}
    binary = compile_c(tmp_path, sources, ["-g", "-O0"])
    dies = readelf_dies(binary)

    functions = read_dwarf_functions(binary)

    assert {f.name for f in functions} == {"helper", "first_entry", "main"}
    for function in functions:
        expected = str(tmp_path / os.path.basename(unit_name_of(dies, function.die_offset)))
        assert function.cu_name == expected, function.name
        # Each of these functions is defined in the main file of its unit.
        assert function.cu_name == function.decl_file, function.name
    names = {f.name: f.cu_name for f in functions if f.name != "helper"}
    assert names == {"first_entry": str(tmp_path / "a.c"), "main": str(tmp_path / "b.c")}


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "prefix_map"])
def test_header_copies_have_own_cu_name(tmp_path: Path, relative: bool) -> None:
    sources = {
        "src/shared.h": SHARED_HEADER_H,
        "src/first.c": SHARED_FIRST_C,
        "src/second.c": SHARED_SECOND_C,
    }
    binary = compile_c(tmp_path, sources, ["-g", *O2_FLAGS], relative=relative)
    dies = readelf_dies(binary)
    prefix = "src" if relative else str(tmp_path / "src")
    if relative:
        unit = next(d for d in dies.values() if d.depth == 0)
        assert unit.string("DW_AT_comp_dir") == "."

    copies = [f for f in read_dwarf_functions(binary) if f.name == "shared_scale"]

    assert len(copies) == 2
    for copy in copies:
        assert copy.decl_file == f"{prefix}/shared.h"
        unit_file = os.path.basename(unit_name_of(dies, copy.die_offset))
        assert copy.cu_name == f"{prefix}/{unit_file}"
    assert {copy.cu_name for copy in copies} == {f"{prefix}/first.c", f"{prefix}/second.c"}


def test_cross_unit_origin_under_lto(tmp_path: Path) -> None:
    sources = {"twins.c": TWINS_C, "twins_main.c": TWINS_MAIN_C}
    binary = compile_c(tmp_path, sources, ["-g", "-O2", "-flto", "-no-pie"])
    symbols = nm_symbols(binary)

    mains = [f for f in read_dwarf_functions(binary) if f.name == "main"]

    # gcc -flto writes main's DIE twice: an early-debug DIE without code and the
    # concrete DIE that points at it through DW_FORM_ref_addr.
    assert len(mains) == 1
    main = mains[0]
    assert die_attributes(binary, main.die_offset)["DW_AT_abstract_origin"] == "DW_FORM_ref_addr"
    assert main.ranges == tuple(symbols["main"])
    assert main.decl_file == str(tmp_path / "twins_main.c")
    assert main.decl_line == line_of(TWINS_MAIN_C, "int main(")


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_nested_function_included(tmp_path: Path, dwarf: str) -> None:
    binary = compile_c(tmp_path, {"nested.c": NESTED_C}, [*DWARF_FLAGS[dwarf], "-O0"])
    symbols = nm_symbols(binary)

    functions = by_name(read_dwarf_functions(binary))

    inner = functions["inner"]
    assert readelf_dies(binary)[inner.die_offset].depth == 2
    assert inner.ranges == tuple(symbols["inner.0"])
    assert inner.decl_line == line_of(NESTED_C, "int inner(")
    assert inner.verdict == "ACCEPT"
    assert functions["outer"].ranges == tuple(symbols["outer"])


# --- line table ----------------------------------------------------------------


class ReferenceLines:
    """Line rows from readelf, with the rule for a function's own rows applied independently."""

    def __init__(self, binary: Path, comp_dir: Path) -> None:
        self.rows = sorted(decoded_line_rows(binary, comp_dir), key=lambda row: row.address)
        self.addresses = [row.address for row in self.rows]
        self.inlined = reference_inlined_ranges(binary)

    def in_ranges(self, ranges: tuple[tuple[int, int], ...]) -> list[LineRow]:
        inside: list[LineRow] = []
        for lo, hi in ranges:
            start = bisect.bisect_left(self.addresses, lo)
            end = bisect.bisect_left(self.addresses, hi)
            inside.extend(self.rows[start:end])
        return inside

    def own(self, function: DwarfFunction) -> list[LineRow]:
        """Return rows outside the function's inlined calls that cover at least one byte."""
        inlined = self.inlined.get(function.die_offset, [])
        return [
            row
            for row in self.in_ranges(function.ranges)
            if not row.zero_length and not any(lo <= row.address < hi for lo, hi in inlined)
        ]

    def expected(self, function: DwarfFunction) -> list[LineRow]:
        """Return the rows the summary must count: the own rows, else all rows in the ranges."""
        return self.own(function) or self.in_ranges(function.ranges)


def check_line_summary(function: DwarfFunction, rows: list[LineRow]) -> None:
    """Assert that the line fields of `function` summarise exactly `rows`."""
    assert function.line_row_count == len(rows), function.name
    if not rows:
        assert function.dominant_file is None, function.name
        assert function.line_min is None, function.name
        return
    counts = Counter(row.path for row in rows)
    top = max(counts.values())
    assert function.dominant_file in {path for path, n in counts.items() if n == top}, function
    assert function.dominant_file_share == pytest.approx(top / len(rows)), function.name
    dominant_lines = [row.line for row in rows if row.path == function.dominant_file]
    assert function.line_min == min(dominant_lines), function.name
    assert function.line_max == max(dominant_lines), function.name


@pytest.mark.parametrize("dwarf", DWARF_IDS)
@pytest.mark.parametrize(
    ("source_name", "source", "opt"),
    [
        ("plain.c", PLAIN_C, "-O0"),
        ("lines.c", LINE_DIRECTIVES_C, "-O0"),
        ("plain.c", PLAIN_C, "-O2"),
        ("inline.c", INLINE_C, "-O2"),
        ("cold.c", COLD_C, "-O2"),
        ("far.c", FAR_HELPER_C, "-O2"),
        ("zero.c", ZERO_LENGTH_C, "-O2"),
        ("forward.c", FORWARD_C, "-O2"),
    ],
    ids=[
        "plain-O0",
        "lines-O0",
        "plain-O2",
        "inline-O2",
        "cold-O2",
        "far-O2",
        "zero-O2",
        "forward-O2",
    ],
)
def test_line_rows_match_readelf(
    tmp_path: Path, dwarf: str, source_name: str, source: str, opt: str
) -> None:
    flags = [*DWARF_FLAGS[dwarf], opt, "-fno-omit-frame-pointer", "-no-pie"]
    binary = compile_c(tmp_path, {source_name: source}, flags)
    reference = ReferenceLines(binary, tmp_path)

    functions = read_dwarf_functions(binary)

    assert functions
    for function in functions:
        check_line_summary(function, reference.expected(function))


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_inlined_helper_rows_not_own(tmp_path: Path, dwarf: str) -> None:
    binary = compile_c(tmp_path, {"far.c": FAR_HELPER_C}, [*DWARF_FLAGS[dwarf], *O2_FLAGS])
    assert "mix_bits" not in nm_symbols(binary), "gcc kept mix_bits out of line"
    reference = ReferenceLines(binary, tmp_path)
    body_first = line_of(FAR_HELPER_C, "int far_caller(")
    body_last = line_of(FAR_HELPER_C, "return mixed + first;") + 1
    helper_first = line_of(FAR_HELPER_C, "static int mix_bits(")
    helper_last = line_of(FAR_HELPER_C, "return result ^") + 1

    far_caller = by_name(read_dwarf_functions(binary))["far_caller"]

    # far_caller's ranges contain rows of the inlined body of mix_bits.
    assert far_caller.die_offset in reference.inlined
    helper_rows = [
        row
        for row in reference.in_ranges(far_caller.ranges)
        if helper_first <= row.line <= helper_last
    ]
    assert helper_rows
    assert far_caller.dominant_file == str(tmp_path / "far.c")
    assert far_caller.line_min is not None
    assert far_caller.line_max is not None
    assert body_first <= far_caller.line_min <= far_caller.line_max <= body_last
    assert far_caller.dominant_file_share == 1.0
    assert far_caller.verdict == "ACCEPT"


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_zero_length_row_not_own(tmp_path: Path, dwarf: str) -> None:
    binary = compile_c(tmp_path, {"zero.c": ZERO_LENGTH_C}, [*DWARF_FLAGS[dwarf], *O2_FLAGS])
    reference = ReferenceLines(binary, tmp_path)

    function = by_name(read_dwarf_functions(binary))["zero_length"]

    far_rows = [
        row for row in reference.in_ranges(function.ranges) if row.line == ZERO_LENGTH_FAR_LINE
    ]
    assert far_rows, "gcc wrote no row for the statement without code"
    assert all(row.zero_length for row in far_rows)
    assert function.die_offset not in reference.inlined
    assert (function.line_min, function.line_max) == ZERO_LENGTH_OWN_LINES


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_fully_inlined_body_uses_all_rows(tmp_path: Path, dwarf: str) -> None:
    binary = compile_c(tmp_path, {"forward.c": FORWARD_C}, [*DWARF_FLAGS[dwarf], *O2_FLAGS])
    reference = ReferenceLines(binary, tmp_path)

    wrapper = by_name(read_dwarf_functions(binary))["wrapper"]

    all_rows = reference.in_ranges(wrapper.ranges)
    assert reference.own(wrapper) == []
    assert all_rows
    assert wrapper.line_row_count == len(all_rows)
    assert wrapper.line_min == min(row.line for row in all_rows)
    assert wrapper.line_max == max(row.line for row in all_rows)
    # The fallback span reaches from the forward helper's body to wrapper's.
    assert wrapper.line_min < line_of(FORWARD_C, "int wrapper(")
    assert wrapper.line_max >= line_of(FORWARD_C, "return forward(x);")
    assert wrapper.verdict == "ACCEPT"


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_line_directive_verdicts(tmp_path: Path, dwarf: str) -> None:
    binary = compile_c(tmp_path, {"lines.c": LINE_DIRECTIVES_C}, [*DWARF_FLAGS[dwarf], "-O0"])

    functions = by_name(read_dwarf_functions(binary))

    spread = functions["spread"]
    assert spread.verdict == "WARN"
    assert spread.reasons == ("multi_file_range",)
    assert spread.dominant_file_share is not None
    assert spread.dominant_file_share < 0.5
    assert spread.decl_file == str(tmp_path / "lines.c")

    header = functions["from_system_header"]
    assert header.verdict == "REJECT"
    assert header.reasons == ("system_header_dominant",)
    assert header.dominant_file == "/usr/include/reforge_fake_header.h"
    assert header.decl_file == "/usr/include/reforge_fake_header.h"
    assert header.decl_line == 20

    main = functions["main"]
    assert main.verdict == "ACCEPT"
    assert main.decl_line == 30
    assert main.dominant_file == str(tmp_path / "lines.c")


# --- ranges that vanish ----------------------------------------------------------


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_gc_sections_leave_tombstone(tmp_path: Path, dwarf: str) -> None:
    flags = [*DWARF_FLAGS[dwarf], "-O2", "-ffunction-sections", "-Wl,--gc-sections"]
    binary = compile_c(tmp_path, {"gc.c": GC_SECTIONS_C}, flags)
    assert "unused_function" not in nm_symbols(binary)

    unused = by_name(read_dwarf_functions(binary))["unused_function"]

    die = readelf_dies(binary)[unused.die_offset]
    assert die.integer("DW_AT_low_pc") == 0
    assert unused.ranges == ()
    assert unused.low_pc is None
    assert unused.high_pc is None
    assert unused.line_row_count == 0
    assert unused.verdict == "REJECT"
    assert unused.reasons == ("tombstone",)


def test_folded_twin_has_no_range(tmp_path: Path) -> None:
    sources = {"twins.c": TWINS_C, "twins_main.c": TWINS_MAIN_C}
    binary = compile_c(tmp_path, sources, ["-g", *O2_FLAGS])

    functions = [f for f in read_dwarf_functions(binary) if f.name == "twin_two"]

    assert len(functions) == 1
    twin_two = functions[0]
    attributes = die_attributes(binary, twin_two.die_offset)
    assert "DW_AT_low_pc" not in attributes
    assert "DW_AT_ranges" not in attributes
    assert "DW_AT_declaration" not in attributes
    assert twin_two.ranges == ()
    assert twin_two.verdict == "REJECT"
    assert twin_two.reasons == ("no_range",)
    assert twin_two.decl_line == line_of(TWINS_C, "int twin_two(")


def readelf_dies(binary: Path) -> dict[int, ReferenceDie]:
    text = subprocess.run(
        ["readelf", "--debug-dump=info", "--wide", str(binary)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return parse_readelf_info(text)


def subprogram_named(dies: dict[int, ReferenceDie], name: str) -> ReferenceDie:
    matches = [
        die
        for die in dies.values()
        if die.tag == "DW_TAG_subprogram"
        and die.has("DW_AT_name")
        and die.string("DW_AT_name") == name
        and not die.has("DW_AT_declaration")
    ]
    assert len(matches) == 1, f"{len(matches)} subprogram DIEs named {name!r}"
    return matches[0]


ALL_ONES = 0xFFFF_FFFF_FFFF_FFFF


@pytest.mark.parametrize(
    "tombstone", [ALL_ONES, ALL_ONES - 1], ids=["all_ones", "all_ones_minus_one"]
)
def test_patched_low_pc_is_tombstone(tmp_path: Path, tombstone: int) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, ["-g", "-O0"])
    die = subprogram_named(readelf_dies(binary), "add_numbers")
    assert die.form("DW_AT_low_pc") == "addr"
    info_offset, _ = section_location(binary, ".debug_info")
    data = bytearray(binary.read_bytes())
    struct.pack_into("<Q", data, info_offset + die.attribute_offsets["DW_AT_low_pc"], tombstone)
    patched = tmp_path / "patched"
    patched.write_bytes(bytes(data))

    functions = by_name(read_dwarf_functions(patched))

    assert functions["add_numbers"].ranges == ()
    assert functions["add_numbers"].reasons == ("tombstone",)
    assert functions["add_numbers"].verdict == "REJECT"
    assert functions["count_chars"].ranges == tuple(nm_symbols(binary)["count_chars"])


@pytest.mark.parametrize(
    ("begin", "end"),
    [(ALL_ONES - 1, ALL_ONES - 1), (1, 1), (0, 0x20)],
    ids=["all_ones_minus_one", "empty_at_one", "zero_start"],
)
def test_tombstone_entry_in_range_list_dropped(tmp_path: Path, begin: int, end: int) -> None:
    binary = compile_c(tmp_path, {"cold.c": COLD_C}, ["-gdwarf-4", *O2_FLAGS])
    symbols = nm_symbols(binary)
    die = subprogram_named(readelf_dies(binary), "check_value")
    ranges_offset, _ = section_location(binary, ".debug_ranges")
    list_offset = ranges_offset + die.integer("DW_AT_ranges")
    data = bytearray(binary.read_bytes())
    entries = [struct.unpack_from("<QQ", data, list_offset + 16 * i) for i in range(2)]
    # gcc gives this unit the base address 0 (its code spans two sections), so
    # the entries are absolute. Overwrite the one that covers check_value.cold.
    cold = entries.index(symbols["check_value.cold"][0])
    struct.pack_into("<QQ", data, list_offset + 16 * cold, begin, end)
    patched = tmp_path / "patched"
    patched.write_bytes(bytes(data))

    check_value = by_name(read_dwarf_functions(patched))["check_value"]

    assert check_value.ranges == tuple(symbols["check_value"])
    assert check_value.verdict == "ACCEPT"
    assert check_value.reasons == ()


def uleb128(value: int) -> bytes:
    encoded = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            encoded.append(byte | 0x80)
        else:
            encoded.append(byte)
            return bytes(encoded)


def relative_range_list(dwarf: str, base: int | None, length: int) -> bytes:
    """Encode a range list with the one range [base, base + length).

    With `base` None the list has no base-address entry, so the range is
    relative to the unit's DW_AT_low_pc.
    """
    if dwarf == "dwarf4":
        # DWARF 4, section 2.17.3: a base-address selection entry starts with
        # the all-ones address. A pair of zeros ends the list.
        selection = b"" if base is None else struct.pack("<QQ", ALL_ONES, base)
        return selection + struct.pack("<QQQQ", 0, length, 0, 0)
    # DWARF 5, section 7.25: DW_RLE_base_address (5), DW_RLE_offset_pair (4),
    # DW_RLE_end_of_list (0).
    selection = b"" if base is None else bytes([5]) + struct.pack("<Q", base)
    return selection + bytes([4, 0]) + uleb128(length) + bytes([0])


@pytest.mark.parametrize("dwarf", DWARF_IDS)
@pytest.mark.parametrize("base_kind", ["entry", "tombstone_entry", "unit_low_pc"])
def test_range_list_base_address(tmp_path: Path, dwarf: str, base_kind: str) -> None:
    binary = compile_c(tmp_path, {"cold.c": COLD_C}, [*DWARF_FLAGS[dwarf], *O2_FLAGS])
    symbols = nm_symbols(binary)
    cold_lo, cold_hi = symbols["check_value.cold"][0]
    dies = readelf_dies(binary)
    die = subprogram_named(dies, "check_value")
    unit = next(d for d in dies.values() if d.depth == 0 and d.unit_offset == die.unit_offset)
    assert unit.integer("DW_AT_low_pc") == 0
    section = ".debug_rnglists" if dwarf == "dwarf5" else ".debug_ranges"
    section_offset, _ = section_location(binary, section)
    info_offset, _ = section_location(binary, ".debug_info")
    list_offset = section_offset + die.integer("DW_AT_ranges")

    data = bytearray(binary.read_bytes())
    if base_kind == "unit_low_pc":
        low_pc_offset = info_offset + unit.attribute_offsets["DW_AT_low_pc"]
        struct.pack_into("<Q", data, low_pc_offset, cold_lo)
        replacement = relative_range_list(dwarf, None, cold_hi - cold_lo)
    else:
        base = ALL_ONES - 1 if base_kind == "tombstone_entry" else cold_lo
        replacement = relative_range_list(dwarf, base, cold_hi - cold_lo)
    # gcc's list has two ranges and an end marker: 48 bytes in DWARF 4 and 21
    # (two DW_RLE_start_length entries) in DWARF 5. The new list is not longer.
    assert len(replacement) <= (48 if dwarf == "dwarf4" else 21)
    data[list_offset : list_offset + len(replacement)] = replacement
    patched = tmp_path / "patched"
    patched.write_bytes(bytes(data))

    check_value = by_name(read_dwarf_functions(patched))["check_value"]

    if base_kind == "tombstone_entry":
        assert check_value.ranges == ()
        assert check_value.reasons == ("tombstone",)
    else:
        assert check_value.ranges == ((cold_lo, cold_hi),)
        assert check_value.reasons == ()


# --- iteration ---------------------------------------------------------------------


def test_iter_matches_read(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, ["-g", *O2_FLAGS])

    assert list(iter_dwarf_functions(binary)) == read_dwarf_functions(str(binary))


# --- errors --------------------------------------------------------------------------


def test_non_elf_raises_not_elf(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not an ELF file\n")

    with pytest.raises(NotElfError) as raised:
        read_dwarf_functions(path)

    assert str(path) in str(raised.value)


def test_empty_file_raises_not_elf(tmp_path: Path) -> None:
    path = tmp_path / "empty"
    path.write_bytes(b"")

    with pytest.raises(NotElfError, match="not an ELF file"):
        read_dwarf_functions(path)


def test_first_300_bytes_raise_truncated(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, ["-g", "-O0"])
    cut = tmp_path / "cut300"
    cut.write_bytes(binary.read_bytes()[:300])

    with pytest.raises(TruncatedBinaryError) as raised:
        read_dwarf_functions(cut)

    assert str(cut) in str(raised.value)


def section_location(binary: Path, name: str) -> tuple[int, int]:
    """Return file offset and size of section `name` from ``readelf -S --wide``."""
    output = subprocess.run(
        ["readelf", "-S", "--wide", str(binary)], check=True, capture_output=True, text=True
    ).stdout
    for line in output.splitlines():
        if f" {name} " in line:
            fields = line.split("]", 1)[1].split()
            return int(fields[3], 16), int(fields[4], 16)
    raise AssertionError(f"no {name} section")


def test_cut_inside_debug_info_raises_truncated(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, ["-g", "-O0"])
    offset, size = section_location(binary, ".debug_info")
    cut = tmp_path / "cut_debug_info"
    cut.write_bytes(binary.read_bytes()[: offset + size // 2])

    with pytest.raises(TruncatedBinaryError) as raised:
        list(iter_dwarf_functions(cut))

    assert str(cut) in str(raised.value)


def test_binary_without_debug_info_raises(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, ["-O0"])

    with pytest.raises(DebugInfoError) as raised:
        read_dwarf_functions(binary)

    assert str(binary) in str(raised.value)
    assert "-g" in str(raised.value)


def test_shrunk_debug_info_raises_debug_info_error(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, ["-g", "-O0"])
    data = bytearray(binary.read_bytes())
    with binary.open("rb") as stream:
        elf = ELFFile(stream)
        index = elf.get_section_index(".debug_info")
        header_offset = elf["e_shoff"] + index * elf["e_shentsize"]
        size = elf.get_section(index)["sh_size"]
    # sh_size is at byte 32 of an Elf64_Shdr. Halving it keeps every header
    # inside the file but cuts the compile unit that the section holds.
    struct.pack_into("<Q", data, header_offset + 32, size // 2)
    damaged = tmp_path / "shrunk"
    damaged.write_bytes(bytes(data))

    with pytest.raises(DebugInfoError) as raised:
        read_dwarf_functions(damaged)

    assert str(damaged) in str(raised.value)
    assert isinstance(raised.value.__cause__, (ELFError, DWARFError))


@pytest.mark.parametrize("dwarf", DWARF_IDS)
def test_split_dwarf_raises_debug_info_error(tmp_path: Path, dwarf: str) -> None:
    flags = [*DWARF_FLAGS[dwarf], "-gsplit-dwarf", "-O0"]
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, flags)

    with pytest.raises(DebugInfoError, match="-gsplit-dwarf") as raised:
        read_dwarf_functions(binary)

    assert str(binary) in str(raised.value)
    assert ".dwo" in str(raised.value)


def test_invalid_elf_class_raises_binary_error(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, ["-g", "-O0"])
    data = bytearray(binary.read_bytes())
    data[4] = 7  # EI_CLASS must be 1 (32-bit) or 2 (64-bit)
    damaged = tmp_path / "bad_class"
    damaged.write_bytes(bytes(data))

    with pytest.raises(BinaryError) as raised:
        read_dwarf_functions(damaged)

    assert str(damaged) in str(raised.value)


def test_i386_debug_binary_is_unsupported(tmp_path: Path) -> None:
    # gcc -m32 -c needs no 32-bit C library; ld links the object without crt files.
    source = tmp_path / "twice.c"
    source.write_text("int twice(int x) { return 2 * x; }\nvoid _start(void) { twice(3); }\n")
    obj, binary = tmp_path / "twice.o", tmp_path / "twice"
    compiled = subprocess.run(
        ["gcc", "-m32", "-g", "-c", str(source), "-o", str(obj)],
        capture_output=True,
        check=False,
    )
    if compiled.returncode != 0 or shutil.which("ld") is None:
        pytest.skip("gcc -m32 -c or ld is not available")
    subprocess.run(["ld", "-m", "elf_i386", str(obj), "-o", str(binary)], check=True)

    with pytest.raises(UnsupportedBinaryError, match="32-bit") as raised:
        read_dwarf_functions(binary)

    assert str(binary) in str(raised.value)
    assert "x86-64" in str(raised.value)


def test_aarch64_machine_is_unsupported(tmp_path: Path) -> None:
    binary = compile_c(tmp_path, {"plain.c": PLAIN_C}, ["-g", "-O0"])
    data = bytearray(binary.read_bytes())
    struct.pack_into("<H", data, 18, 183)  # e_machine EM_AARCH64
    foreign = tmp_path / "foreign"
    foreign.write_bytes(bytes(data))

    with pytest.raises(UnsupportedBinaryError, match="machine 183") as raised:
        read_dwarf_functions(foreign)

    assert str(foreign) in str(raised.value)


# --- real-world programs ---------------------------------------------------------------


ZLIB_SOURCES = [
    "adler32.c",
    "compress.c",
    "crc32.c",
    "deflate.c",
    "gzclose.c",
    "gzlib.c",
    "gzread.c",
    "gzwrite.c",
    "infback.c",
    "inffast.c",
    "inflate.c",
    "inftrees.c",
    "trees.c",
    "uncompr.c",
    "zutil.c",
    "test/minigzip.c",
]
ZLIB_DEFINES = ["-DHAVE_UNISTD_H", "-D_LARGEFILE64_SOURCE=1", "-DHAVE_HIDDEN"]
BZIP2_SOURCES = [
    "blocksort.c",
    "huffman.c",
    "crctable.c",
    "randtable.c",
    "compress.c",
    "decompress.c",
    "bzlib.c",
    "bzip2.c",
]


def build_real_program(
    tmp_path: Path, program: str, opt: str, dwarf_flag: str = "-g"
) -> tuple[Path, Path, list[str]]:
    """Build zlib, bzip2 or lua from its corpus tarball.

    Returns the binary, the folder gcc ran in and the source paths it got,
    relative to that folder.
    """
    flags = [dwarf_flag, opt, "-fno-omit-frame-pointer", "-no-pie"]
    if program == "zlib":
        top = extract_tarball("zlib_1.2.13.dfsg.orig.tar.bz2", tmp_path)
        sources, extra, libraries = ZLIB_SOURCES, [*ZLIB_DEFINES, "-I."], []
    elif program == "bzip2":
        top = extract_tarball("bzip2_1.0.8.orig.tar.gz", tmp_path)
        sources, extra, libraries = BZIP2_SOURCES, [], []
    else:
        top = extract_tarball("lua5.4_5.4.4.orig.tar.gz", tmp_path)
        top = top / "src"
        sources = sorted(p.name for p in top.glob("*.c") if p.name != "luac.c")
        extra, libraries = ["-std=gnu99", "-DLUA_USE_LINUX"], ["-lm", "-ldl"]
    binary = tmp_path / f"{program}{opt}"
    command = ["gcc", *flags, *extra, "-o", str(binary), *sources, *libraries]
    subprocess.run(command, cwd=top, check=True, capture_output=True, text=True)
    return binary, top, sources


@pytest.mark.realworld
@pytest.mark.parametrize(
    ("program", "opt", "dwarf_flag"),
    [
        ("zlib", "-O0", "-g"),
        ("zlib", "-O2", "-g"),
        ("zlib", "-O2", "-gdwarf-4"),
        ("bzip2", "-O0", "-g"),
        ("bzip2", "-O2", "-g"),
        ("bzip2", "-O2", "-gdwarf-4"),
        ("lua", "-O0", "-g"),
        ("lua", "-O2", "-g"),
    ],
)
def test_real_program_matches_readelf(
    tmp_path: Path, program: str, opt: str, dwarf_flag: str
) -> None:
    binary, build_dir, sources = build_real_program(tmp_path, program, opt, dwarf_flag)
    reference = reference_functions(binary)
    lines = ReferenceLines(binary, build_dir)

    functions = read_dwarf_functions(binary)

    with_code = [f for f in functions if f.ranges]
    # Each of these programs has more than 60 functions with code at every level.
    assert len(with_code) > 60
    assert {(f.name, f.low_pc) for f in with_code} == reference.names_and_low_pcs()
    reference_ranges = {r.die_offset: merge(r.ranges) for r in reference.functions if r.ranges}
    assert {f.die_offset: f.ranges for f in with_code} == reference_ranges
    for function in functions:
        positions = [REASON_ORDER.index(reason) for reason in function.reasons]
        assert positions == sorted(positions), function
        rejected = any(reason in REJECT_REASONS for reason in function.reasons)
        assert (function.verdict == "REJECT") == rejected, function
    for function in with_code:
        check_line_summary(function, lines.expected(function))
    # Units that define only data (lua's lctype.c, bzip2's crctable.c) name no function.
    cu_names = {f.cu_name for f in functions}
    assert cu_names <= {str(build_dir / source) for source in sources}
    assert len(cu_names) >= len(sources) - 2
