"""The DWARF oracle: every concrete function that a debug ELF describes.

A *concrete* function is a ``DW_TAG_subprogram`` DIE that is neither a
declaration (``DW_AT_declaration``) nor an abstract instance root (a DIE with
``DW_AT_inline`` and no code). A DIE without code that another DIE names as its
``DW_AT_abstract_origin`` is abstract too, which is how gcc -flto writes its
early-debug DIEs. Out-of-line copies of inline functions and nested
subprograms are included. Each one becomes a `DwarfFunction` with its name,
address ranges, declaration coordinates, the source file that dominates its
line-table rows, and a verdict on how far the record can be trusted as ground
truth::

    for function in read_dwarf_functions("build/O2/zlib.debug"):
        print(function.name, hex(function.low_pc or 0), function.verdict)

Reading rules:

- Names, linkage names, declaration coordinates and the external and
  artificial flags come from the first DIE that has them along the chain of
  ``DW_AT_abstract_origin`` and ``DW_AT_specification`` references, followed
  across compile units.
- ``DW_AT_high_pc`` is an offset from ``DW_AT_low_pc`` when its form is of the
  constant class and an address when its form is of the address class
  (DWARF 5, section 2.17.2).
- ``DW_AT_ranges`` is read from ``.debug_ranges`` (DWARF 2-4) or
  ``.debug_rnglists`` (DWARF 5). Offset entries are relative to the compile
  unit's ``DW_AT_low_pc`` until a base-address entry replaces it.
- Ranges that start at a tombstone address, and empty ranges, are dropped.
  Linkers write tombstones for code they discard: GNU ld 2.40 writes 0, lld
  writes all-ones in ``.debug_info`` and all-ones minus one (older releases) or
  1 (an empty range) in ``.debug_ranges``. So 0, all-ones and all-ones minus
  one count as tombstones, and so does every entry relative to a tombstone
  base address. The rest is sorted, and overlapping or adjacent ranges are
  merged, so ``ranges`` is a sorted tuple of disjoint half-open intervals.
- A function's *own* line-table rows are the rows in its ranges that lie
  outside the ranges of its ``DW_TAG_inlined_subroutine`` descendants and
  cover at least one byte. Inlined calls nested in inlined calls are
  descendants too, but those below a nested subprogram belong to that
  subprogram. A zero-length row, whose address equals the address of the next
  row of its sequence, covers no byte. gcc writes such rows to number location
  views. Rows that end a sequence and rows with line 0 (code without a source
  line) never count.
  ``line_row_count``, ``dominant_file``, ``dominant_file_share``,
  ``line_min`` and ``line_max`` are computed from the own rows. So at -O2 the
  line span covers the function's own source text and not the bodies of
  callees inlined from the same file. A function without own rows but with
  rows in its ranges (its whole code is inlined callees, or every row is
  zero-length) falls back to all rows in its ranges.
- Files are compared by their normalised path, because DWARF 5 line tables
  list the primary source file twice (index 0 and index 1). ``cu_name`` and
  ``decl_file`` are normalised alike: a relative path is joined with the
  unit's ``DW_AT_comp_dir``, and the result goes through `os.path.normpath`.

Verdict, with reason codes in this fixed order:

=========================  =======  =============================================
reason                     verdict  condition
=========================  =======  =============================================
``no_range``               REJECT   no ``DW_AT_ranges`` and no ``DW_AT_low_pc`` /
                                    ``DW_AT_high_pc`` pair
``tombstone``              REJECT   the DIE declares ranges but every one was
                                    dropped as a tombstone or as empty
``nameless``               REJECT   no ``DW_AT_name`` along the reference chain
``no_line_rows``           REJECT   no line-table row in the ranges, own or not
``system_header_dominant`` REJECT   the dominant file is under ``/usr/include``,
                                    ``/usr/lib/gcc`` or ``/usr/local/include``
``fragmented_ranges``      WARN     more than one range after merging (for
                                    example a ``.cold`` part)
``multi_file_range``       WARN     the dominant file has less than half of the
                                    counted rows (own rows, or all rows in the
                                    ranges after the fallback)
``artificial``             WARN     ``DW_AT_artificial`` is set
=========================  =======  =============================================

The verdict is REJECT if any REJECT reason applies, else WARN if any WARN reason
applies, else ACCEPT. The line-table reasons are only evaluated for functions
with at least one range left.
"""

from __future__ import annotations

import bisect
import os
import struct
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct.core import ConstructError
from elftools.dwarf.ranges import BaseAddressEntry, RangeEntry
from elftools.elf.elffile import ELFFile

from reforge.errors import (
    BinaryError,
    DebugInfoError,
    NotElfError,
    TruncatedBinaryError,
    UnsupportedBinaryError,
)

if TYPE_CHECKING:
    from elftools.dwarf.compileunit import CompileUnit
    from elftools.dwarf.die import DIE, AttributeValue
    from elftools.dwarf.dwarfinfo import DWARFInfo
    from elftools.dwarf.lineprogram import LineProgram
    from elftools.dwarf.ranges import RangeLists, RangeListsPair

__all__ = [
    "REASON_ORDER",
    "REJECT_REASONS",
    "SYSTEM_HEADER_PREFIXES",
    "WARN_REASONS",
    "DwarfFunction",
    "Reason",
    "Verdict",
    "iter_dwarf_functions",
    "read_dwarf_functions",
]

Verdict = Literal["ACCEPT", "WARN", "REJECT"]
Reason = Literal[
    "no_range",
    "tombstone",
    "nameless",
    "no_line_rows",
    "system_header_dominant",
    "fragmented_ranges",
    "multi_file_range",
    "artificial",
]

REASON_ORDER: tuple[Reason, ...] = (
    "no_range",
    "tombstone",
    "nameless",
    "no_line_rows",
    "system_header_dominant",
    "fragmented_ranges",
    "multi_file_range",
    "artificial",
)
REJECT_REASONS: frozenset[Reason] = frozenset(
    {"no_range", "tombstone", "nameless", "no_line_rows", "system_header_dominant"}
)
WARN_REASONS: frozenset[Reason] = frozenset({"fragmented_ranges", "multi_file_range", "artificial"})

SYSTEM_HEADER_PREFIXES: tuple[str, ...] = ("/usr/include", "/usr/lib/gcc", "/usr/local/include")
MIN_DOMINANT_FILE_SHARE = 0.5

_CONSTANT_FORMS = frozenset(
    {
        "DW_FORM_data1",
        "DW_FORM_data2",
        "DW_FORM_data4",
        "DW_FORM_data8",
        "DW_FORM_udata",
        "DW_FORM_sdata",
        "DW_FORM_implicit_const",
    }
)
_ADDRESS_FORMS = frozenset(
    {
        "DW_FORM_addr",
        "DW_FORM_addrx",
        "DW_FORM_addrx1",
        "DW_FORM_addrx2",
        "DW_FORM_addrx3",
        "DW_FORM_addrx4",
    }
)
# DIEs whose children can contain a concrete subprogram. Types and variables are
# skipped without parsing their children.
_SCOPE_TAGS = frozenset(
    {
        "DW_TAG_subprogram",
        "DW_TAG_lexical_block",
        "DW_TAG_inlined_subroutine",
        "DW_TAG_namespace",
        "DW_TAG_module",
        "DW_TAG_try_block",
        "DW_TAG_catch_block",
    }
)
_REFERENCE_ATTRIBUTES = ("DW_AT_abstract_origin", "DW_AT_specification")
_MAX_CHAIN_LENGTH = 64


@dataclass(frozen=True, slots=True)
class DwarfFunction:
    """One concrete ``DW_TAG_subprogram`` of a debug ELF and its verdict."""

    die_offset: int
    """Offset of the concrete DIE in ``.debug_info``."""
    cu_offset: int
    """Offset of the DIE's compile unit header in ``.debug_info``."""
    cu_name: str | None
    """Normalised path of the compile unit's ``DW_AT_name``: the translation unit's main file.

    Relative names are joined with ``DW_AT_comp_dir``, as for `decl_file`.
    """
    name: str | None
    """``DW_AT_name``, followed through abstract origins and specifications."""
    linkage_name: str | None
    """``DW_AT_linkage_name`` or ``DW_AT_MIPS_linkage_name``, followed likewise."""
    ranges: tuple[tuple[int, int], ...]
    """Sorted, disjoint half-open address ranges ``[lo, hi)`` without tombstones."""
    low_pc: int | None
    """Lowest address of the ranges."""
    high_pc: int | None
    """Highest address of the ranges, exclusive."""
    decl_file: str | None
    """Normalised path of ``DW_AT_decl_file`` as the line table names it."""
    decl_line: int | None
    """``DW_AT_decl_line``."""
    decl_column: int | None
    """``DW_AT_decl_column``."""
    dominant_file: str | None
    """The file with the most own line-table rows (see the module docstring)."""
    dominant_file_share: float | None
    """Share of the own rows that belong to the dominant file."""
    line_min: int | None
    """Smallest line of the dominant file's own rows."""
    line_max: int | None
    """Largest line of the dominant file's own rows."""
    line_row_count: int
    """Number of own rows, or of all rows in the ranges when there is no own row."""
    is_external: bool
    """``DW_AT_external``: the function has external linkage."""
    is_inlined_copy: bool
    """The DIE is an out-of-line instance of an inline function (has an abstract origin)."""
    is_artificial: bool
    """``DW_AT_artificial``: the compiler made the function up."""
    verdict: Verdict
    """ACCEPT, WARN or REJECT, derived from `reasons`."""
    reasons: tuple[Reason, ...]
    """Reason codes in `REASON_ORDER`."""


def read_dwarf_functions(path: str | Path) -> list[DwarfFunction]:
    """Read every concrete function of the debug ELF at `path`.

    Raises `NotElfError`, `TruncatedBinaryError` or `BinaryError` when the file
    is not a usable ELF, and `DebugInfoError` when it has no ``.debug_info`` or
    its DWARF is malformed.
    """
    return list(iter_dwarf_functions(path))


def iter_dwarf_functions(path: str | Path) -> Iterator[DwarfFunction]:
    """Yield every concrete function of the debug ELF at `path`.

    Functions with code come first, in DIE order, and functions without code
    follow. Raises like `read_dwarf_functions`, while iterating.
    """
    path = Path(path)
    _check_elf_layout(path)

    with path.open("rb") as stream, _pyelftools_errors(path) as boundary:
        elf = ELFFile(stream)
        if not (elf.has_section(".debug_info") or elf.has_section(".zdebug_info")):
            raise DebugInfoError(
                f"{path}: the ELF has no .debug_info section, so it has no DWARF "
                "to read. Build it with -g and pass the unstripped binary."
            )

        boundary.stage = "dwarf"
        reader = _DwarfReader(elf.get_dwarf_info(), path)
        yield from reader.iter_functions()


# --- error boundary and ELF layout -------------------------------------------------


class _Boundary:
    """The parsing stage that the error boundary reports, ELF headers or DWARF."""

    __slots__ = ("stage",)

    def __init__(self) -> None:
        self.stage: Literal["elf", "dwarf"] = "elf"


@contextmanager
def _pyelftools_errors(path: Path) -> Iterator[_Boundary]:
    """Translate pyelftools, construct and struct errors into the reforge tree."""
    boundary = _Boundary()
    try:
        yield boundary
    except (ELFError, DWARFError, ConstructError, struct.error) as error:
        # pyelftools wraps construct errors in ELFParseError, so the class alone
        # does not tell ELF header damage from DWARF damage. The stage does.
        if boundary.stage == "elf":
            raise BinaryError(
                f"{path}: reading the ELF headers failed ({error}). The file is damaged, "
                "so rebuild it."
            ) from error
        raise DebugInfoError(
            f"{path}: reading the DWARF debug information failed ({error}). The debug "
            "sections are malformed, so rebuild the binary with -g."
        ) from error


_ELF_MAGIC = b"\x7fELF"
_EM_X86_64 = 62
_SHT_NOBITS = 8


def _check_elf_layout(path: Path) -> None:
    """Check that `path` is an ELF whose headers and sections lie inside the file.

    Runs before pyelftools, which reads past the end of a truncated file without
    complaint or fails with an unrelated parse error.
    """
    size = path.stat().st_size
    with path.open("rb") as stream:
        ident = stream.read(16)
        if len(ident) < 4 or ident[:4] != _ELF_MAGIC:
            raise NotElfError(
                f"{path}: not an ELF file (first bytes {ident[:4]!r}, expected "
                f"{_ELF_MAGIC!r}). Pass the binary that the build produced."
            )
        if ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise BinaryError(
                f"{path}: invalid ELF identification (class {ident[4]}, data encoding "
                f"{ident[5]}). The file is damaged, so rebuild it."
            )
        is_64 = ident[4] == 2
        order = "<" if ident[5] == 1 else ">"
        header_format = order + ("16xHHIQQQIHHHHHH" if is_64 else "16xHHIIIIIHHHHHH")
        header_size = struct.calcsize(header_format)
        stream.seek(0)
        header = stream.read(header_size)
        if len(header) < header_size:
            raise TruncatedBinaryError(
                f"{path}: the file has {size} bytes, fewer than the {header_size}-byte "
                "ELF header. The file was cut short, so rebuild or copy it again."
            )
        (_, machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum, _) = (
            struct.unpack(header_format, header)
        )
        # The decompiler side reads only x86-64, so ground truth from any other
        # architecture could never be joined to a decompiled function.
        if not is_64 or order != "<" or machine != _EM_X86_64:
            raise UnsupportedBinaryError(
                f"{path}: a {32 * (1 + is_64)}-bit "
                f"{'little' if order == '<' else 'big'}-endian ELF for machine {machine}; "
                f"only x86-64 (64-bit little-endian, e_machine {_EM_X86_64}) is supported. "
                "Compile the program for x86-64, without -m32."
            )

        _require_inside(path, size, "program header table", phoff, phentsize * phnum)
        if shoff == 0:
            return
        if shentsize < struct.calcsize(_section_header_format(order, is_64)):
            raise BinaryError(
                f"{path}: invalid section header size e_shentsize={shentsize}. The file is "
                "damaged, so rebuild it."
            )
        if shnum == 0:
            # Extended numbering: the section count is sh_size of section 0.
            _require_inside(path, size, "section header 0", shoff, shentsize)
            shnum = _read_section_header(stream, order, is_64, shoff)[2]
        _require_inside(path, size, "section header table", shoff, shentsize * shnum)
        for index in range(shnum):
            sh_type, offset, length = _read_section_header(
                stream, order, is_64, shoff + index * shentsize
            )
            if sh_type != _SHT_NOBITS:
                _require_inside(path, size, f"section {index}", offset, length)


def _read_section_header(
    stream: BinaryIO, order: str, is_64: bool, offset: int
) -> tuple[int, int, int]:
    """Return ``(sh_type, sh_offset, sh_size)`` of the section header at `offset`."""
    header_format = _section_header_format(order, is_64)
    stream.seek(offset)
    data = stream.read(struct.calcsize(header_format))
    sh_type, sh_offset, sh_size = struct.unpack(header_format, data)
    return sh_type, sh_offset, sh_size


def _section_header_format(order: str, is_64: bool) -> str:
    """Return the struct format of sh_type, sh_offset and sh_size in a section header."""
    return order + ("4xI8x8xQQ" if is_64 else "4xI4x4xII")


def _require_inside(path: Path, size: int, region: str, offset: int, length: int) -> None:
    if offset + length > size:
        raise TruncatedBinaryError(
            f"{path}: the {region} at offset {offset:#x} with {length:#x} bytes ends past the "
            f"end of the file ({size:#x} bytes). The file was cut short, so rebuild or copy "
            "it again."
        )


# --- DWARF reading -------------------------------------------------------------


@dataclass(slots=True)
class _LineRows:
    """Line-table rows of one compile unit, sorted by address."""

    addresses: list[int]
    files: list[str]
    lines: list[int]
    zero_length: list[bool]
    """Whether the row's address equals the address of the next row of its sequence."""


@dataclass(frozen=True, slots=True)
class _LineSummary:
    dominant_file: str | None
    dominant_file_share: float | None
    line_min: int | None
    line_max: int | None
    row_count: int


_NO_LINES = _LineSummary(None, None, None, None, 0)


class _DwarfReader:
    """Reads the functions of one DWARF info, caching file tables per compile unit."""

    def __init__(self, dwarf: DWARFInfo, path: Path) -> None:
        self._dwarf = dwarf
        self._path = path
        self._range_lists: RangeLists | RangeListsPair | None = dwarf.range_lists()
        self._file_tables: dict[int, list[str | None]] = {}
        self._cu_names: dict[int, str | None] = {}

    def iter_functions(self) -> Iterator[DwarfFunction]:
        """Yield functions with code in DIE order, then those without code."""
        without_code: list[DIE] = []
        origins: set[int] = set()
        for cu in self._dwarf.iter_CUs():
            top = cu.get_top_DIE()
            self._reject_split_dwarf(top)
            if top.tag not in ("DW_TAG_compile_unit", "DW_TAG_partial_unit"):
                continue
            # The line program is decoded once per compile unit, and every function
            # of the unit then looks its rows up by bisection.
            rows = self._line_rows(cu)
            base_address = _attribute_value(top, "DW_AT_low_pc") or 0

            # One walk of the unit finds the concrete subprograms and the code
            # ranges of the inlined calls inside each one. A subprogram's
            # inlined calls can only be known after its whole subtree has been
            # walked, so the unit's functions are built after the walk.
            with_code: list[DIE] = []
            inlined_ranges: dict[int, list[tuple[int, int]]] = {}
            for die, owner in _iter_code_scopes(top):
                if "DW_AT_abstract_origin" in die.attributes:
                    origins.add(_reference_offset(die, "DW_AT_abstract_origin"))
                if die.tag == "DW_TAG_inlined_subroutine":
                    if owner is not None:
                        ranges, _ = self._ranges(die, cu, base_address)
                        inlined_ranges.setdefault(owner.offset, []).extend(ranges)
                    continue
                if die.tag != "DW_TAG_subprogram" or not _is_concrete(die):
                    continue
                if _has_code(die):
                    with_code.append(die)
                else:
                    without_code.append(die)

            for die in with_code:
                inlined = _merge_ranges(inlined_ranges.get(die.offset, []))
                yield self._function(die, cu, rows, base_address, inlined)

        # A DIE without code that an inlined call or an out-of-line copy names
        # as its abstract origin is an abstract instance even without
        # DW_AT_inline: gcc -flto writes such DIEs in the early-debug units.
        # The others (for example a function that identical code folding
        # turned into an alias) are reported with the no_range reason.
        empty_rows = _LineRows([], [], [], [])
        for die in without_code:
            if die.offset not in origins:
                yield self._function(die, die.cu, empty_rows, 0, ())

    def _reject_split_dwarf(self, top: DIE) -> None:
        """Raise if the unit is a skeleton whose DIEs live in a separate .dwo file."""
        dwo_name = _attribute_value(top, "DW_AT_dwo_name") or _attribute_value(
            top, "DW_AT_GNU_dwo_name"
        )
        if top.tag == "DW_TAG_skeleton_unit" or dwo_name is not None:
            raise DebugInfoError(
                f"{self._path}: the compile unit at {top.cu.cu_offset:#x} is a split-DWARF "
                f"skeleton whose functions are in {_decode(dwo_name)!r}. Reading .dwo files "
                "is not supported, so build without -gsplit-dwarf."
            )

    def _function(
        self,
        die: DIE,
        cu: CompileUnit,
        rows: _LineRows,
        base_address: int,
        inlined: tuple[tuple[int, int], ...],
    ) -> DwarfFunction:
        """Build the record of a concrete subprogram.

        `inlined` contains the merged ranges of the inlined calls in the
        subprogram's subtree, whose rows are not the function's own.
        """
        chain = self._reference_chain(die)
        ranges, declares_ranges = self._ranges(die, cu, base_address)
        decl_file = self._decl_file(chain)
        lines = _summarise_lines(rows, ranges, inlined, decl_file) if ranges else _NO_LINES
        name = _decode(_chain_value(chain, "DW_AT_name"))
        is_artificial = bool(_chain_value(chain, "DW_AT_artificial"))

        reasons = _reasons(
            ranges=ranges,
            declares_ranges=declares_ranges,
            name=name,
            lines=lines,
            is_artificial=is_artificial,
        )
        return DwarfFunction(
            die_offset=die.offset,
            cu_offset=cu.cu_offset,
            cu_name=self._cu_name(cu),
            name=name,
            linkage_name=_decode(
                _chain_value(chain, "DW_AT_linkage_name", "DW_AT_MIPS_linkage_name")
            ),
            ranges=ranges,
            low_pc=ranges[0][0] if ranges else None,
            high_pc=ranges[-1][1] if ranges else None,
            decl_file=decl_file,
            decl_line=_integer(_chain_value(chain, "DW_AT_decl_line")),
            decl_column=_integer(_chain_value(chain, "DW_AT_decl_column")),
            dominant_file=lines.dominant_file,
            dominant_file_share=lines.dominant_file_share,
            line_min=lines.line_min,
            line_max=lines.line_max,
            line_row_count=lines.row_count,
            is_external=bool(_chain_value(chain, "DW_AT_external")),
            is_inlined_copy="DW_AT_abstract_origin" in die.attributes,
            is_artificial=is_artificial,
            verdict=_verdict(reasons),
            reasons=reasons,
        )

    # --- references ---------------------------------------------------------

    def _reference_chain(self, die: DIE) -> list[DIE]:
        """Return `die` followed by the DIEs its origin and specification references reach."""
        chain = [die]
        seen = {die.offset}
        current = die
        while True:
            attribute = next((a for a in _REFERENCE_ATTRIBUTES if a in current.attributes), None)
            if attribute is None:
                return chain
            target = current.get_DIE_from_attribute(attribute)
            if target.offset in seen or len(chain) >= _MAX_CHAIN_LENGTH:
                raise DebugInfoError(
                    f"{self._path}: the {attribute} chain of the DIE at {die.offset:#x} "
                    f"reaches the DIE at {target.offset:#x} again or is longer than "
                    f"{_MAX_CHAIN_LENGTH} DIEs. The DWARF is malformed, so rebuild the binary."
                )
            seen.add(target.offset)
            chain.append(target)
            current = target

    # --- ranges -------------------------------------------------------------

    def _ranges(
        self, die: DIE, cu: CompileUnit, base_address: int
    ) -> tuple[tuple[tuple[int, int], ...], bool]:
        """Return the cleaned ranges of `die` and whether the DIE declares any range."""
        address_size = cu.header.address_size
        if "DW_AT_ranges" in die.attributes:
            raw = self._range_list(die, cu, base_address, address_size)
        elif "DW_AT_low_pc" in die.attributes and "DW_AT_high_pc" in die.attributes:
            raw = [self._low_high_range(die)]
        else:
            return (), False

        valid_ranges = [
            (lo, hi)
            for lo, hi in raw
            if lo is not None and hi > lo and not _is_tombstone(lo, address_size)
        ]
        return _merge_ranges(valid_ranges), bool(raw)

    def _low_high_range(self, die: DIE) -> tuple[int, int]:
        low = die.attributes["DW_AT_low_pc"].value
        high = die.attributes["DW_AT_high_pc"]
        if high.form in _CONSTANT_FORMS:
            return low, low + high.value
        if high.form in _ADDRESS_FORMS:
            return low, high.value
        raise DebugInfoError(
            f"{self._path}: DW_AT_high_pc of the DIE at {die.offset:#x} has form "
            f"{high.form!r}, which is neither a constant nor an address. The DWARF is "
            "malformed or uses an unsupported producer extension, so rebuild it with gcc -g."
        )

    def _range_list(
        self, die: DIE, cu: CompileUnit, base_address: int, address_size: int
    ) -> list[tuple[int | None, int]]:
        """Return the absolute ``(lo, hi)`` entries of the DIE's range list.

        ``lo`` is None for entries that are relative to a tombstone base address.
        """
        if self._range_lists is None:
            raise DebugInfoError(
                f"{self._path}: the DIE at {die.offset:#x} has DW_AT_ranges but the ELF has "
                "neither .debug_ranges nor .debug_rnglists. The DWARF is incomplete, so "
                "rebuild the binary."
            )
        # pyelftools resolves DW_FORM_rnglistx through DW_AT_rnglists_base, so the
        # value is a section offset for every form.
        offset = die.attributes["DW_AT_ranges"].value
        entries = self._range_lists.get_range_list_at_offset(offset, cu=cu)

        mask = (1 << (8 * address_size)) - 1
        base: int | None = base_address
        result: list[tuple[int | None, int]] = []
        for entry in entries:
            if isinstance(entry, BaseAddressEntry):
                base = (
                    None if _is_tombstone(entry.base_address, address_size) else entry.base_address
                )
            elif isinstance(entry, RangeEntry):
                if entry.is_absolute:
                    result.append((entry.begin_offset, entry.end_offset))
                elif base is None:
                    result.append((None, 0))
                else:
                    # pyelftools leaves offset entries relative to the base address.
                    lo = (base + entry.begin_offset) & mask
                    hi = (base + entry.end_offset) & mask
                    result.append((lo, hi))
        return result

    # --- files and lines ----------------------------------------------------

    def _file_table(self, cu: CompileUnit) -> list[str | None]:
        """Return the CU's file paths indexed the way ``DW_AT_decl_file`` and rows index them."""
        table = self._file_tables.get(cu.cu_offset)
        if table is None:
            program = self._dwarf.line_program_for_CU(cu)
            table = [] if program is None else self._build_file_table(cu, program)
            self._file_tables[cu.cu_offset] = table
        return table

    def _cu_name(self, cu: CompileUnit) -> str | None:
        """Return the unit's ``DW_AT_name`` joined with ``DW_AT_comp_dir`` and normalised."""
        if cu.cu_offset not in self._cu_names:
            top = cu.get_top_DIE()
            name = _decode(_attribute_value(top, "DW_AT_name"))
            if name is not None:
                # NOTE: under gcc -flto the concrete DIEs sit in the link-time
                # unit, which gcc 12 names "<artificial>", so the result names
                # no source file there.
                comp_dir = _decode(_attribute_value(top, "DW_AT_comp_dir")) or ""
                name = os.path.normpath(os.path.join(comp_dir, name))
            self._cu_names[cu.cu_offset] = name
        return self._cu_names[cu.cu_offset]

    def _decl_file(self, chain: list[DIE]) -> str | None:
        for die in chain:
            attribute = die.attributes.get("DW_AT_decl_file")
            if attribute is not None:
                # The index refers to the line table of the DIE's own unit, which
                # differs from the concrete DIE's unit for cross-unit origins.
                return self._file_path(die.cu, attribute.value, die.offset)
        return None

    def _file_path(self, cu: CompileUnit, index: int, die_offset: int) -> str | None:
        table = self._file_table(cu)
        if 0 <= index < len(table):
            return table[index]
        raise DebugInfoError(
            f"{self._path}: the DIE at {die_offset:#x} names file index {index}, but the "
            f"line table of its compile unit at {cu.cu_offset:#x} has {len(table)} entries. "
            "The DWARF is malformed, so rebuild the binary."
        )

    def _line_rows(self, cu: CompileUnit) -> _LineRows:
        program = self._dwarf.line_program_for_CU(cu)
        if program is None:
            return _LineRows([], [], [], [])
        states = [entry.state for entry in program.get_entries() if entry.state is not None]
        # The table is built after decoding because DW_LNE_define_file
        # (DWARF 2-4) can add files while the program runs.
        table = self._build_file_table(cu, program)
        self._file_tables[cu.cu_offset] = table

        rows: list[tuple[int, str, int, bool]] = []
        for index, state in enumerate(states):
            if state.end_sequence or state.line == 0:
                continue
            # Every sequence ends with an end_sequence row, so the next row of a
            # row that does not end its sequence belongs to the same sequence.
            zero_length = index + 1 < len(states) and states[index + 1].address == state.address
            if not 0 <= state.file < len(table):
                raise DebugInfoError(
                    f"{self._path}: a line-table row at {state.address:#x} names file index "
                    f"{state.file}, but the line table of the compile unit at {cu.cu_offset:#x} "
                    f"has {len(table)} entries. The DWARF is malformed, so rebuild the binary."
                )
            path = table[state.file]
            if path is not None:
                rows.append((state.address, path, state.line, zero_length))

        rows.sort(key=lambda row: row[0])
        return _LineRows(
            addresses=[row[0] for row in rows],
            files=[row[1] for row in rows],
            lines=[row[2] for row in rows],
            zero_length=[row[3] for row in rows],
        )

    def _build_file_table(self, cu: CompileUnit, program: LineProgram) -> list[str | None]:
        """Return the line table's file paths, joined with directories, by file index.

        DWARF 5 (section 6.2.4) numbers files and directories from 0, and entry 0
        of each is the primary file and the compilation directory. DWARF 2-4 number
        files from 1 (index 0 means no file), and directory 0 is the compilation
        directory, which the header does not list.
        """
        header = program.header
        comp_dir = _decode(_attribute_value(cu.get_top_DIE(), "DW_AT_comp_dir")) or ""
        directories = [_decode(directory) or "" for directory in header["include_directory"]]
        is_dwarf5 = header["version"] >= 5
        if not is_dwarf5:
            directories.insert(0, comp_dir)

        table: list[str | None] = [] if is_dwarf5 else [None]
        for entry in header["file_entry"]:
            if not 0 <= entry.dir_index < len(directories):
                raise DebugInfoError(
                    f"{self._path}: file {entry.name!r} of the line table of the compile unit "
                    f"at {cu.cu_offset:#x} names directory index {entry.dir_index}, but the "
                    f"table has {len(directories)} directories. The DWARF is malformed, so "
                    "rebuild the binary."
                )
            path = os.path.join(directories[entry.dir_index], _decode(entry.name) or "")
            if not os.path.isabs(path):
                path = os.path.join(comp_dir, path)
            table.append(os.path.normpath(path))
        return table


# --- helpers -----------------------------------------------------------------


def _iter_code_scopes(top: DIE) -> Iterator[tuple[DIE, DIE | None]]:
    """Yield every DIE below `top` whose tag is in `_SCOPE_TAGS`, in DIE order.

    Each DIE comes with its owner: the innermost ``DW_TAG_subprogram`` above
    it, or None. Other DIEs (types, variables, parameters) cannot contain a
    function or an inlined call, so their subtrees are skipped without being
    parsed.
    """
    stack: list[tuple[Iterator[DIE], DIE | None]] = [(top.iter_children(), None)]
    while stack:
        children, owner = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            continue
        if child.tag in _SCOPE_TAGS:
            yield child, owner
            if child.has_children:
                child_owner = child if child.tag == "DW_TAG_subprogram" else owner
                stack.append((child.iter_children(), child_owner))


def _has_code(die: DIE) -> bool:
    return "DW_AT_low_pc" in die.attributes or "DW_AT_ranges" in die.attributes


def _is_concrete(die: DIE) -> bool:
    """Tell whether a subprogram DIE is neither a declaration nor an abstract root."""
    if _attribute_value(die, "DW_AT_declaration"):
        return False
    # DWARF 5, section 3.3.8.1: a DW_AT_inline DIE without code is an abstract
    # instance root that only out-of-line copies and inlined calls refer to.
    return _has_code(die) or "DW_AT_inline" not in die.attributes


_UNIT_REFERENCE_FORMS = frozenset(
    {"DW_FORM_ref1", "DW_FORM_ref2", "DW_FORM_ref4", "DW_FORM_ref8", "DW_FORM_ref_udata"}
)


def _reference_offset(die: DIE, name: str) -> int:
    """Return the section offset that a reference attribute points at, without parsing it."""
    attribute = die.attributes[name]
    if attribute.form in _UNIT_REFERENCE_FORMS:
        return die.cu.cu_offset + attribute.raw_value
    return attribute.raw_value


def _attribute_value(die: DIE, name: str) -> object | None:
    attribute: AttributeValue | None = die.attributes.get(name)
    return None if attribute is None else attribute.value


def _chain_value(chain: list[DIE], *names: str) -> object | None:
    """Return the value of the first of `names` found along the reference chain."""
    for die in chain:
        for name in names:
            attribute = die.attributes.get(name)
            if attribute is not None:
                return attribute.value
    return None


def _decode(value: object | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace") or None
    return str(value) or None


def _integer(value: object | None) -> int | None:
    return value if isinstance(value, int) else None


def _is_tombstone(address: int, address_size: int) -> bool:
    # NOTE: address 0 is also where the first function of a relocatable object
    # (.o) starts, so this reader only suits linked executables and libraries.
    all_ones = (1 << (8 * address_size)) - 1
    return address in (0, all_ones, all_ones - 1)


def _merge_ranges(ranges: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return tuple(merged)


def _subtract_ranges(
    ranges: tuple[tuple[int, int], ...], removed: tuple[tuple[int, int], ...]
) -> list[tuple[int, int]]:
    """Return the parts of `ranges` outside `removed`. Both are sorted and disjoint."""
    result: list[tuple[int, int]] = []
    index = 0
    for lo, hi in ranges:
        while index < len(removed) and removed[index][1] <= lo:
            index += 1
        start = lo
        cursor = index
        while cursor < len(removed) and removed[cursor][0] < hi:
            removed_lo, removed_hi = removed[cursor]
            if removed_lo > start:
                result.append((start, removed_lo))
            start = max(start, removed_hi)
            cursor += 1
        if start < hi:
            result.append((start, hi))
    return result


def _rows_in(
    rows: _LineRows, ranges: Iterable[tuple[int, int]], *, skip_zero_length: bool
) -> list[int]:
    """Return the indices of the rows whose address lies in `ranges`."""
    indices: list[int] = []
    for lo, hi in ranges:
        start = bisect.bisect_left(rows.addresses, lo)
        end = bisect.bisect_left(rows.addresses, hi)
        if skip_zero_length:
            indices.extend(i for i in range(start, end) if not rows.zero_length[i])
        else:
            indices.extend(range(start, end))
    return indices


def _summarise_lines(
    rows: _LineRows,
    ranges: tuple[tuple[int, int], ...],
    inlined: tuple[tuple[int, int], ...],
    decl_file: str | None,
) -> _LineSummary:
    """Summarise the function's own rows, or all rows in `ranges` when it has none."""
    own_ranges = _subtract_ranges(ranges, inlined)
    indices = _rows_in(rows, own_ranges, skip_zero_length=True)
    if not indices:
        indices = _rows_in(rows, ranges, skip_zero_length=False)
    if not indices:
        return _NO_LINES

    counts: Counter[str] = Counter()
    lines_by_file: dict[str, list[int]] = {}
    for index in indices:
        path = rows.files[index]
        counts[path] += 1
        lines_by_file.setdefault(path, []).append(rows.lines[index])

    total = len(indices)
    # Ties go to the declaring file, then to the smallest path, so the choice
    # does not depend on row order.
    dominant = min(counts, key=lambda path: (-counts[path], path != decl_file, path))
    lines = lines_by_file[dominant]
    return _LineSummary(
        dominant_file=dominant,
        dominant_file_share=counts[dominant] / total,
        line_min=min(lines),
        line_max=max(lines),
        row_count=total,
    )


def _is_system_header(path: str) -> bool:
    return any(path == prefix or path.startswith(prefix + "/") for prefix in SYSTEM_HEADER_PREFIXES)


def _reasons(
    *,
    ranges: tuple[tuple[int, int], ...],
    declares_ranges: bool,
    name: str | None,
    lines: _LineSummary,
    is_artificial: bool,
) -> tuple[Reason, ...]:
    found: set[Reason] = set()
    if not ranges:
        found.add("tombstone" if declares_ranges else "no_range")
    if name is None:
        found.add("nameless")
    if ranges:
        if lines.row_count == 0:
            found.add("no_line_rows")
        if lines.dominant_file is not None and _is_system_header(lines.dominant_file):
            found.add("system_header_dominant")
        if len(ranges) > 1:
            found.add("fragmented_ranges")
        if (
            lines.dominant_file_share is not None
            and lines.dominant_file_share < MIN_DOMINANT_FILE_SHARE
        ):
            found.add("multi_file_range")
    if is_artificial:
        found.add("artificial")
    return tuple(reason for reason in REASON_ORDER if reason in found)


def _verdict(reasons: tuple[Reason, ...]) -> Verdict:
    if any(reason in REJECT_REASONS for reason in reasons):
        return "REJECT"
    if reasons:
        return "WARN"
    return "ACCEPT"
