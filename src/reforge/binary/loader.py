"""Loading a stripped x86-64 ELF file into one flat memory image at Ghidra's addresses.

The loader is the only place that reads the ELF file, and the only boundary where
pyelftools errors are translated into `reforge.errors` (``NotElfError``,
``TruncatedBinaryError``, ``UnsupportedBinaryError``). Everything it returns is in
Ghidra addresses: the ELF's own virtual addresses for ``ET_EXEC``, and
``elf_va + 0x100000`` for ``ET_DYN`` (PIE), which is the image base Ghidra picks
for position-independent files::

    binary = load_binary("prog.stripped")
    binary.to_elf(binary.entry), binary.imports[0x401030]   # (0x401090, 'free')

The image is built the way a loader maps the file. Every ``PT_LOAD`` segment is
copied to its address, and the rest of the segment up to ``p_memsz`` (``.bss``)
and the gaps between segments are zeros. ``R_X86_64_RELATIVE`` relocations are
applied with the Ghidra offset, so pointer tables contain Ghidra addresses.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, field
from pathlib import Path

from elftools.common.exceptions import DWARFError, ELFError, ELFParseError
from elftools.construct.core import ConstructError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from reforge.binary.frames import Fde, read_fdes
from reforge.binary.plt import PLT_SECTION_NAMES, find_plt_stubs
from reforge.errors import BinaryError, NotElfError, TruncatedBinaryError, UnsupportedBinaryError

PIE_GHIDRA_OFFSET = 0x100000
"""Ghidra's default image base for ``ET_DYN`` files, added to every ELF address."""

SHF_WRITE = 0x1
SHF_ALLOC = 0x2
SHF_EXECINSTR = 0x4

_ELF_MAGIC = b"\x7fELF"
_ELFCLASS64 = 2
_ELFDATA2LSB = 1
_EM_X86_64 = 62
_ET_EXEC = 2
_ET_DYN = 3
_ELF64_HEADER_SIZE = 64

_R_X86_64_64 = 1
_R_X86_64_COPY = 5
_R_X86_64_GLOB_DAT = 6
_R_X86_64_JUMP_SLOT = 7
_R_X86_64_RELATIVE = 8

# Alloc sections that hold loader metadata rather than program data; a constant
# pointing into them is never shown as a string or a DAT_ label.
_METADATA_SECTIONS = frozenset({".interp", ".eh_frame", ".eh_frame_hdr", ".dynamic"})
_POINTER_ARRAY_SECTIONS = (".preinit_array", ".init_array", ".fini_array")


@dataclass(frozen=True, slots=True)
class Section:
    """One allocated ELF section, in Ghidra addresses (``end`` is exclusive)."""

    name: str
    start: int
    end: int
    flags: int
    """The ``sh_flags`` bits (``SHF_WRITE``, ``SHF_ALLOC``, ``SHF_EXECINSTR``...)."""
    kind: str
    """The ``sh_type`` name from pyelftools, e.g. ``SHT_PROGBITS`` or ``SHT_NOBITS``."""

    @property
    def is_executable(self) -> bool:
        return bool(self.flags & SHF_EXECINSTR)

    @property
    def is_writable(self) -> bool:
        return bool(self.flags & SHF_WRITE)

    def contains(self, address: int) -> bool:
        return self.start <= address < self.end


@dataclass(frozen=True, slots=True)
class LoadedBinary:
    """A stripped ELF file mapped into one image, with its import tables and FDEs.

    Every address field is a Ghidra address; `to_elf` converts back.
    """

    path: Path
    elf_type: str
    """``ET_EXEC`` or ``ET_DYN``."""
    image: bytes
    """The ``PT_LOAD`` segments mapped from `image_base`; ``.bss`` and gaps are zeros."""
    image_base: int
    ghidra_offset: int
    """0 for ``ET_EXEC``, 0x100000 for ``ET_DYN``: Ghidra address minus ELF address."""
    entry: int
    sections: tuple[Section, ...]
    readonly_ranges: tuple[tuple[int, int], ...]
    """Read-only program data (``.rodata`` and friends), where string literals live."""
    data_ranges: tuple[tuple[int, int], ...]
    """Every non-executable program data section (read-only, writable and ``.bss``)."""
    plt_stubs: dict[int, str]
    """Stub address in ``.plt`` / ``.plt.sec`` / ``.plt.got`` -> import name."""
    got_slots: dict[int, str]
    """GOT or data slot filled by the dynamic loader -> import name."""
    data_symbols: dict[int, str]
    """Imported data copied into the executable (``R_X86_64_COPY``: ``stderr``, ``optarg``)
    and other data objects defined in ``.dynsym``."""
    exports: dict[int, str]
    """Functions defined in the file and named in ``.dynsym`` (``-rdynamic`` builds, libraries)."""
    init_functions: tuple[int, ...]
    """Function pointers stored in ``.preinit_array``, ``.init_array`` and ``.fini_array``."""
    fdes: tuple[Fde, ...]
    imports: dict[int, str] = field(init=False)
    """`plt_stubs` and `got_slots` together: every address that stands for an import."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "imports", {**self.got_slots, **self.plt_stubs})

    @property
    def image_end(self) -> int:
        return self.image_base + len(self.image)

    def to_elf(self, address: int) -> int:
        """Convert a Ghidra address to the ELF virtual address."""
        return address - self.ghidra_offset

    def to_ghidra(self, elf_address: int) -> int:
        """Convert an ELF virtual address to the Ghidra address."""
        return elf_address + self.ghidra_offset

    def section_at(self, address: int) -> Section | None:
        """Return the section containing a Ghidra address, or None."""
        for section in self.sections:
            if section.contains(address):
                return section
        return None

    def code_sections(self) -> tuple[Section, ...]:
        """Return the executable sections except the PLT stub sections."""
        return tuple(
            section
            for section in self.sections
            if section.is_executable and section.name not in PLT_SECTION_NAMES
        )

    def read(self, address: int, size: int) -> bytes:
        """Return image bytes at a Ghidra address; bytes outside the image are cut off."""
        offset = address - self.image_base
        if offset < 0 or offset >= len(self.image):
            return b""
        return self.image[offset : offset + size]


def load_binary(path: str | Path) -> LoadedBinary:
    """Validate an x86-64 ELF file and map it into a `LoadedBinary`.

    Raises:
        NotElfError: the file does not start with the ELF magic bytes.
        TruncatedBinaryError: a header, segment or section points past the end of the file.
        UnsupportedBinaryError: 32-bit, big-endian, non-x86-64, or not an executable
            or shared object.
        BinaryError: the file cannot be read (missing, a folder, no permission).
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BinaryError(
            f"Cannot read {str(path)!r}: {exc.strerror or exc}. Check the path; "
            "`reforge builds` lists the binaries that the build stage produced."
        ) from exc
    _check_identification(path, data)
    try:
        return _parse(path, data)
    except (ELFError, ELFParseError, DWARFError, ConstructError, struct.error) as exc:
        raise TruncatedBinaryError(
            f"Cannot parse ELF file {str(path)!r}: {exc}. The file is probably truncated "
            "or corrupt; rebuild it or copy it again."
        ) from exc


def _check_identification(path: Path, data: bytes) -> None:
    """Check the ELF identification bytes and header fields before pyelftools parses the file."""
    name = str(path)

    # Identification: magic, size, class, byte order.
    if not data.startswith(_ELF_MAGIC):
        raise NotElfError(
            f"Cannot load {name!r}: not an ELF file (first bytes {data[:4]!r}). "
            "Pass a compiled x86-64 ELF executable."
        )
    if len(data) < _ELF64_HEADER_SIZE:
        raise TruncatedBinaryError(
            f"Cannot load {name!r}: the file has {len(data)} bytes, fewer than the "
            f"{_ELF64_HEADER_SIZE}-byte ELF64 header. Rebuild the binary or copy it again."
        )
    if data[4] != _ELFCLASS64:
        raise UnsupportedBinaryError(
            f"Cannot load {name!r}: EI_CLASS is {data[4]}"
            f"{' (32-bit)' if data[4] == 1 else ''}, not 2 (64-bit). "
            "Only x86-64 binaries are supported; compile without -m32."
        )
    if data[5] != _ELFDATA2LSB:
        raise UnsupportedBinaryError(
            f"Cannot load {name!r}: EI_DATA={data[5]} is not little-endian. "
            "Only x86-64 binaries are supported."
        )

    # Header fields: machine, file type, and the header tables' extent.
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    if e_machine != _EM_X86_64:
        raise UnsupportedBinaryError(
            f"Cannot load {name!r}: e_machine={e_machine} is not x86-64 (62). "
            "Compile the program for x86-64."
        )
    if e_type not in (_ET_EXEC, _ET_DYN):
        raise UnsupportedBinaryError(
            f"Cannot load {name!r}: e_type={e_type} is neither ET_EXEC (2) nor ET_DYN (3). "
            "Pass a linked executable, not an object file or core dump."
        )
    e_phoff, e_shoff = struct.unpack_from("<QQ", data, 32)
    e_phentsize, e_phnum, e_shentsize, e_shnum = struct.unpack_from("<HHHH", data, 54)
    if e_phoff + e_phnum * e_phentsize > len(data):
        raise TruncatedBinaryError(
            f"Cannot load {name!r}: the program header table ends at "
            f"{e_phoff + e_phnum * e_phentsize:#x}, past the file size {len(data):#x}. "
            "The file is truncated; rebuild it or copy it again."
        )
    if e_shnum and e_shoff + e_shnum * e_shentsize > len(data):
        raise TruncatedBinaryError(
            f"Cannot load {name!r}: the section header table ends at "
            f"{e_shoff + e_shnum * e_shentsize:#x}, past the file size {len(data):#x}. "
            "The file is truncated; rebuild it or copy it again."
        )


def _parse(path: Path, data: bytes) -> LoadedBinary:
    elf = ELFFile(io.BytesIO(data))
    offset = PIE_GHIDRA_OFFSET if elf["e_type"] == "ET_DYN" else 0

    # Map the segments, then fix up RELATIVE relocations to Ghidra addresses.
    image_base_elf, image = _map_segments(path, elf, len(data))
    image_base = image_base_elf + offset
    relocations = list(_iter_relocations(elf))
    if offset:
        _apply_relative_relocations(image, image_base_elf, relocations, offset)
    image_bytes = bytes(image)

    sections = _read_sections(path, elf, offset, len(data))
    got_slots, data_symbols = _read_relocation_symbols(relocations, offset)
    exports, defined_objects = _read_dynamic_definitions(elf, offset)
    for address, name in defined_objects.items():
        data_symbols.setdefault(address, name)
    plt_stubs = find_plt_stubs(
        image_bytes,
        image_base,
        [(s.name, s.start, s.end) for s in sections if s.name in PLT_SECTION_NAMES],
        got_slots,
    )
    return LoadedBinary(
        path=path,
        elf_type=elf["e_type"],
        image=image_bytes,
        image_base=image_base,
        ghidra_offset=offset,
        entry=elf["e_entry"] + offset,
        sections=sections,
        readonly_ranges=_data_ranges(sections, writable=False),
        data_ranges=_data_ranges(sections, writable=None),
        plt_stubs=plt_stubs,
        got_slots=got_slots,
        data_symbols=data_symbols,
        exports=exports,
        init_functions=_read_pointer_arrays(image_bytes, image_base, sections),
        fdes=read_fdes(elf, offset),
    )


def _map_segments(path: Path, elf: ELFFile, file_size: int) -> tuple[int, bytearray]:
    segments = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    if not segments:
        raise UnsupportedBinaryError(
            f"Cannot load {str(path)!r}: the file has no PT_LOAD segment, so there is no "
            "code to decompile. Pass a linked executable."
        )
    low = min(s["p_vaddr"] for s in segments)
    high = max(s["p_vaddr"] + s["p_memsz"] for s in segments)
    image = bytearray(high - low)
    for segment in segments:
        end = segment["p_offset"] + segment["p_filesz"]
        if end > file_size:
            raise TruncatedBinaryError(
                f"Cannot load {str(path)!r}: the PT_LOAD segment at {segment['p_vaddr']:#x} "
                f"ends at file offset {end:#x}, past the file size {file_size:#x}. "
                "The file is truncated; rebuild it or copy it again."
            )
        start = segment["p_vaddr"] - low
        image[start : start + segment["p_filesz"]] = segment.data()
    return low, image


def _read_sections(path: Path, elf: ELFFile, offset: int, file_size: int) -> tuple[Section, ...]:
    sections: list[Section] = []
    for section in elf.iter_sections():
        header = section.header
        if (
            section["sh_type"] != "SHT_NOBITS"
            and header["sh_offset"] + header["sh_size"] > file_size
        ):
            raise TruncatedBinaryError(
                f"Cannot load {str(path)!r}: section {section.name!r} ends at file offset "
                f"{header['sh_offset'] + header['sh_size']:#x}, past the file size "
                f"{file_size:#x}. The file is truncated; rebuild it or copy it again."
            )
        if not header["sh_flags"] & SHF_ALLOC or header["sh_size"] == 0:
            continue
        start = header["sh_addr"] + offset
        sections.append(
            Section(
                name=section.name,
                start=start,
                end=start + header["sh_size"],
                flags=header["sh_flags"],
                kind=section["sh_type"],
            )
        )
    return tuple(sorted(sections, key=lambda s: s.start))


def _data_ranges(
    sections: tuple[Section, ...], *, writable: bool | None
) -> tuple[tuple[int, int], ...]:
    """Return program data ranges; `writable` False keeps read-only ones, None keeps all."""
    kinds = {"SHT_PROGBITS", "SHT_NOBITS", "SHT_INIT_ARRAY", "SHT_FINI_ARRAY", "SHT_PREINIT_ARRAY"}
    ranges = []
    for section in sections:
        if section.is_executable or section.kind not in kinds or section.name in _METADATA_SECTIONS:
            continue
        if writable is not None and section.is_writable != writable:
            continue
        ranges.append((section.start, section.end))
    return tuple(ranges)


def _iter_relocations(elf: ELFFile):
    """Yield ``(offset, type, symbol name or None, addend)`` for every dynamic relocation."""
    for section in elf.iter_sections():
        if not isinstance(section, RelocationSection) or not section.is_RELA():
            continue
        if section["sh_link"] == 0:
            continue
        symbols = elf.get_section(section["sh_link"])
        for relocation in section.iter_relocations():
            index = relocation["r_info_sym"]
            name = None
            if index and isinstance(symbols, SymbolTableSection):
                name = symbols.get_symbol(index).name or None
            yield (
                relocation["r_offset"],
                relocation["r_info_type"],
                name,
                relocation["r_addend"],
            )


def _apply_relative_relocations(
    image: bytearray, image_base_elf: int, relocations: list, offset: int
) -> None:
    for address, kind, _name, addend in relocations:
        position = address - image_base_elf
        if kind == _R_X86_64_RELATIVE and 0 <= position <= len(image) - 8:
            struct.pack_into("<Q", image, position, (addend + offset) & 0xFFFF_FFFF_FFFF_FFFF)


def _read_relocation_symbols(
    relocations: list, offset: int
) -> tuple[dict[int, str], dict[int, str]]:
    got_slots: dict[int, str] = {}
    copies: dict[int, str] = {}
    for address, kind, name, addend in relocations:
        if not name:
            continue
        if kind in (_R_X86_64_JUMP_SLOT, _R_X86_64_GLOB_DAT) or (
            kind == _R_X86_64_64 and addend == 0
        ):
            got_slots[address + offset] = name
        elif kind == _R_X86_64_COPY:
            copies[address + offset] = name
    return got_slots, copies


def _read_dynamic_definitions(elf: ELFFile, offset: int) -> tuple[dict[int, str], dict[int, str]]:
    """Return the functions and data objects that ``.dynsym`` defines in this file."""
    functions: dict[int, str] = {}
    objects: dict[int, str] = {}
    dynsym = elf.get_section_by_name(".dynsym")
    if not isinstance(dynsym, SymbolTableSection):
        return functions, objects
    for symbol in dynsym.iter_symbols():
        if symbol["st_shndx"] == "SHN_UNDEF" or not symbol.name or symbol["st_value"] == 0:
            continue
        kind = symbol["st_info"]["type"]
        if kind == "STT_FUNC":
            functions.setdefault(symbol["st_value"] + offset, symbol.name)
        elif kind == "STT_OBJECT":
            objects.setdefault(symbol["st_value"] + offset, symbol.name)
    return functions, objects


def _read_pointer_arrays(
    image: bytes, image_base: int, sections: tuple[Section, ...]
) -> tuple[int, ...]:
    pointers: list[int] = []
    for section in sections:
        if section.name not in _POINTER_ARRAY_SECTIONS or section.kind == "SHT_NOBITS":
            continue
        start = section.start - image_base
        for position in range(start, section.end - image_base - 7, 8):
            (value,) = struct.unpack_from("<Q", image, position)
            if value not in (0, 0xFFFF_FFFF_FFFF_FFFF):
                pointers.append(value)
    return tuple(pointers)
