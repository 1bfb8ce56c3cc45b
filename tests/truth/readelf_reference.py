"""Reference list of concrete functions, built from binutils output without pyelftools.

The DIE tree comes from the text of ``readelf --debug-dump=info --wide``.
``readelf --debug-dump=Ranges`` from binutils 2.40 prints only the first range
list of the ``.debug_rnglists`` table that gcc 12 writes. So range lists are
decoded here from the raw section bytes that ``objcopy --dump-section``
writes, for DWARF 4 (``.debug_ranges``) and DWARF 5 (``.debug_rnglists``)
alike. Only
what gcc emits without split DWARF is decoded: the ``DW_RLE_*x`` index forms
raise `NotImplementedError`.

    reference = reference_functions(binary)
    names = {name for name, _ in reference.names_and_low_pcs()}

The same sources give the ranges of inlined calls by owning subprogram
(`reference_inlined_ranges`), and ``readelf --debug-dump=decodedline`` gives
the line-table rows (`decoded_line_rows`).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_UNIT_HEADER = re.compile(r"^\s*Compilation Unit @ offset (0x[0-9a-f]+):")
_UNIT_VERSION = re.compile(r"^\s*Version:\s+(\d+)")
_DIE_HEADER = re.compile(r"^\s*<(\d+)><([0-9a-f]+)>: Abbrev Number: (\d+)(?: \((\w+)\))?")
_ATTRIBUTE = re.compile(r"^\s*<([0-9a-f]+)>\s+(DW_AT_\w+)\s*: (.*)$")
_FORM = re.compile(r"^\((\w+)\) ?(.*)$")
_REFERENCE = re.compile(r"<(0x[0-9a-f]+)>")

ADDRESS_SIZE = 8
ALL_ONES = (1 << (8 * ADDRESS_SIZE)) - 1
TOMBSTONES = frozenset({0, ALL_ONES, ALL_ONES - 1})


@dataclass
class ReferenceDie:
    """One DIE as readelf prints it: its tag and raw attribute text by name."""

    offset: int
    depth: int
    tag: str
    unit_offset: int
    unit_version: int
    attributes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Attribute name to ``(form, value text)``."""
    attribute_offsets: dict[str, int] = field(default_factory=dict)
    """Attribute name to the offset of its value in ``.debug_info``."""

    def has(self, name: str) -> bool:
        return name in self.attributes

    def form(self, name: str) -> str:
        return self.attributes[name][0]

    def integer(self, name: str) -> int:
        return int(self.attributes[name][1].split()[0], 0)

    def reference(self, name: str) -> int:
        match = _REFERENCE.search(self.attributes[name][1])
        assert match is not None, f"{name} of DIE {self.offset:#x} is not a reference"
        return int(match.group(1), 16)

    def string(self, name: str) -> str:
        form, text = self.attributes[name]
        if form == "string":
            return text
        # Indirect strings print as "(offset: 0x5b): check" or
        # "(indexed string: 0x3): check".
        return text.split("): ", 1)[1]


@dataclass
class ReferenceFunction:
    """A concrete subprogram: resolved name and its non-tombstone ranges."""

    die_offset: int
    name: str | None
    ranges: list[tuple[int, int]]

    @property
    def low_pc(self) -> int | None:
        return min(lo for lo, _ in self.ranges) if self.ranges else None


@dataclass
class ReferenceFunctions:
    functions: list[ReferenceFunction]

    def names_and_low_pcs(self) -> set[tuple[str | None, int | None]]:
        """Return ``(name, low_pc)`` of every function with at least one range."""
        return {(f.name, f.low_pc) for f in self.functions if f.ranges}


def parse_readelf_info(text: str) -> dict[int, ReferenceDie]:
    """Parse ``readelf --debug-dump=info --wide`` text into DIEs by offset."""
    dies: dict[int, ReferenceDie] = {}
    unit_offset = 0
    unit_version = 0
    current: ReferenceDie | None = None
    for line in text.splitlines():
        if match := _UNIT_HEADER.match(line):
            unit_offset = int(match.group(1), 16)
            current = None
        elif (match := _UNIT_VERSION.match(line)) and current is None:
            unit_version = int(match.group(1))
        elif match := _DIE_HEADER.match(line):
            tag = match.group(4)
            if tag is None:
                current = None
                continue
            current = ReferenceDie(
                offset=int(match.group(2), 16),
                depth=int(match.group(1)),
                tag=tag,
                unit_offset=unit_offset,
                unit_version=unit_version,
            )
            dies[current.offset] = current
        elif (match := _ATTRIBUTE.match(line)) and current is not None:
            form_match = _FORM.match(match.group(3).strip())
            assert form_match is not None, f"no form in {line!r}"
            current.attributes[match.group(2)] = (form_match.group(1), form_match.group(2))
            current.attribute_offsets[match.group(2)] = int(match.group(1), 16)
    return dies


def _dump_section(binary: Path, section: str) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        dumped = Path(folder) / "section.bin"
        result = subprocess.run(
            [
                "objcopy",
                f"--dump-section={section}={dumped}",
                str(binary),
                str(Path(folder) / "copy.elf"),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not dumped.exists():
            return b""
        return dumped.read_bytes()


def _uleb128(data: bytes, position: int) -> tuple[int, int]:
    value = 0
    shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, position


def _address(data: bytes, position: int) -> tuple[int, int]:
    end = position + ADDRESS_SIZE
    return int.from_bytes(data[position:end], "little"), end


def decode_debug_ranges(data: bytes, offset: int, base: int) -> list[tuple[int, int]]:
    """Decode a DWARF 2-4 ``.debug_ranges`` list into absolute ``(lo, hi)`` pairs.

    Pairs relative to a tombstone base address come back with ``lo`` 0.
    """
    result = []
    position = offset
    while True:
        begin, position = _address(data, position)
        end, position = _address(data, position)
        if begin == 0 and end == 0:
            return result
        if begin == ALL_ONES:
            base = end
            continue
        if base in TOMBSTONES and base != 0:
            result.append((0, 0))
        else:
            result.append(((base + begin) & ALL_ONES, (base + end) & ALL_ONES))


def decode_debug_rnglists(data: bytes, offset: int, base: int) -> list[tuple[int, int]]:
    """Decode a DWARF 5 ``.debug_rnglists`` list into absolute ``(lo, hi)`` pairs."""
    result = []
    position = offset
    while True:
        kind = data[position]
        position += 1
        if kind == 0:  # DW_RLE_end_of_list
            return result
        if kind == 4:  # DW_RLE_offset_pair
            start, position = _uleb128(data, position)
            end, position = _uleb128(data, position)
            if base in TOMBSTONES and base != 0:
                result.append((0, 0))
            else:
                result.append(((base + start) & ALL_ONES, (base + end) & ALL_ONES))
        elif kind == 5:  # DW_RLE_base_address
            base, position = _address(data, position)
        elif kind == 6:  # DW_RLE_start_end
            start, position = _address(data, position)
            end, position = _address(data, position)
            result.append((start, end))
        elif kind == 7:  # DW_RLE_start_length
            start, position = _address(data, position)
            length, position = _uleb128(data, position)
            result.append((start, start + length))
        else:
            raise NotImplementedError(f"DW_RLE kind {kind} at {position - 1:#x}")


def _resolve_name(dies: dict[int, ReferenceDie], die: ReferenceDie) -> str | None:
    current = die
    for _ in range(64):
        if current.has("DW_AT_name"):
            return current.string("DW_AT_name")
        for attribute in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if current.has(attribute):
                # readelf prints unit-relative references as section offsets.
                current = dies[current.reference(attribute)]
                break
        else:
            return None
    raise AssertionError(f"reference chain of DIE {die.offset:#x} does not end")


def _unit_bases(dies: dict[int, ReferenceDie]) -> dict[int, int]:
    """Return each unit's base address for range lists: its DW_AT_low_pc, else 0."""
    return {
        die.unit_offset: die.integer("DW_AT_low_pc") if die.has("DW_AT_low_pc") else 0
        for die in dies.values()
        if die.depth == 0
    }


def _clean(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(lo, hi) for lo, hi in ranges if hi > lo and lo not in TOMBSTONES]


class _RangeDecoder:
    """Decoder of DIE address ranges, from readelf's DIE text and the raw range sections."""

    def __init__(self, binary: Path, dies: dict[int, ReferenceDie]) -> None:
        self._debug_ranges = _dump_section(binary, ".debug_ranges")
        self._debug_rnglists = _dump_section(binary, ".debug_rnglists")
        self._unit_bases = _unit_bases(dies)

    def raw_ranges(self, die: ReferenceDie) -> list[tuple[int, int]] | None:
        """Return the DIE's ranges before cleaning, or None when it declares none.

        A ``DW_AT_low_pc`` at a tombstone also gives None.
        """
        if die.has("DW_AT_ranges"):
            base = self._unit_bases[die.unit_offset]
            offset = die.integer("DW_AT_ranges")
            if die.unit_version >= 5:
                return decode_debug_rnglists(self._debug_rnglists, offset, base)
            return decode_debug_ranges(self._debug_ranges, offset, base)
        if die.has("DW_AT_low_pc") and die.has("DW_AT_high_pc"):
            low = die.integer("DW_AT_low_pc")
            if low in TOMBSTONES:
                return None
            high = die.integer("DW_AT_high_pc")
            if die.form("DW_AT_high_pc") != "addr":
                high += low
            return [(low, high)]
        return None


def _read_dies(binary: Path) -> dict[int, ReferenceDie]:
    text = subprocess.run(
        ["readelf", "--debug-dump=info", "--wide", str(binary)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return parse_readelf_info(text)


def reference_functions(binary: Path) -> ReferenceFunctions:
    """List the concrete subprograms of `binary` from readelf and objcopy output.

    Concrete means a ``DW_TAG_subprogram`` that is not a declaration and has a
    non-tombstone ``DW_AT_low_pc`` or a ``DW_AT_ranges``. Abstract instance roots
    have neither, so they drop out.
    """
    dies = _read_dies(binary)
    decoder = _RangeDecoder(binary, dies)

    functions = []
    for die in dies.values():
        if die.tag != "DW_TAG_subprogram" or die.has("DW_AT_declaration"):
            continue
        raw = decoder.raw_ranges(die)
        if raw is None:
            continue
        functions.append(
            ReferenceFunction(
                die_offset=die.offset,
                name=_resolve_name(dies, die),
                ranges=sorted(_clean(raw)),
            )
        )
    return ReferenceFunctions(functions)


def reference_inlined_ranges(binary: Path) -> dict[int, list[tuple[int, int]]]:
    """Return the ranges of inlined calls by the DIE offset of the subprogram that owns them.

    The owner of a ``DW_TAG_inlined_subroutine`` is the innermost
    ``DW_TAG_subprogram`` above it in the DIE tree, which readelf shows by the
    depth in ``<depth><offset>``. Tombstone and empty ranges are left out.
    """
    dies = _read_dies(binary)
    decoder = _RangeDecoder(binary, dies)

    inlined: dict[int, list[tuple[int, int]]] = {}
    ancestors: list[ReferenceDie] = []
    for die in dies.values():
        while ancestors and ancestors[-1].depth >= die.depth:
            ancestors.pop()
        if die.tag == "DW_TAG_inlined_subroutine":
            owner = next((a for a in reversed(ancestors) if a.tag == "DW_TAG_subprogram"), None)
            raw = decoder.raw_ranges(die)
            if owner is not None and raw is not None:
                inlined.setdefault(owner.offset, []).extend(_clean(raw))
        ancestors.append(die)
    return inlined


@dataclass(frozen=True)
class LineRow:
    """One row of ``readelf --debug-dump=decodedline``."""

    address: int
    path: str
    line: int
    zero_length: bool = False
    """The next row of the same sequence starts at the same address."""


_LINE_FILE_HEADER = re.compile(r"^(?:CU: )?(\S+?):(?:\[\+\+\])?$")


def decoded_line_rows(binary: Path, comp_dir: Path) -> list[LineRow]:
    """Parse ``readelf --debug-dump=decodedline --wide`` into rows with full paths.

    readelf prints DWARF 4 paths in the compilation directory as ``./name``, so
    relative paths are joined with `comp_dir`. End-of-sequence rows (line ``-``)
    and rows with line 0 are left out, after they have served to mark the row
    before them as zero-length.
    """
    text = subprocess.run(
        ["readelf", "--debug-dump=decodedline", "--wide", str(binary)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # (address, path, line text) of every row in program order, including the
    # end-of-sequence rows, whose line text is "-".
    printed: list[tuple[int, str, str]] = []
    path = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith(("Contents of", "File name")):
            continue
        if header := _LINE_FILE_HEADER.match(stripped):
            path = os.path.normpath(os.path.join(comp_dir, header.group(1)))
            continue
        fields = stripped.split()
        if len(fields) < 3 or not fields[2].startswith("0x"):
            continue
        printed.append((int(fields[2], 16), path, fields[1]))

    rows = []
    for index, (address, path, line_text) in enumerate(printed):
        if line_text in ("-", "0"):
            continue
        # A row that does not end its sequence is followed by a row of the same sequence.
        zero_length = index + 1 < len(printed) and printed[index + 1][0] == address
        rows.append(LineRow(address, path, int(line_text), zero_length))
    return rows
