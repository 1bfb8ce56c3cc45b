"""Result records of the binary-analysis stage: one per function, one per binary.

Everything here is derived from the stripped binary alone. Addresses named ``*_va``
without ``ghidra`` are ELF virtual addresses; ``ghidra_*`` ones add Ghidra's image
offset (0x100000 for PIE, 0 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from reforge.binary.discovery import DiscoveryStats, FunctionSource
from reforge.binary.warning_codes import CfgCompleteness

FunctionStatus = Literal["ok", "error"]


@dataclass(slots=True)
class DecompiledFunction:
    """One function of a stripped binary: its decompiled text and derived views."""

    entry_va: int
    """ELF virtual address of the entry."""
    ghidra_entry_va: int
    ghidra_name: str
    """``FUN_%08x`` of `ghidra_entry_va`, ``entry`` for the ELF entry point, or the
    ``.dynsym`` name of an exported function."""
    body_ranges: tuple[tuple[int, int], ...]
    """ELF address ranges (half-open): the FDE range, then fragments (``.cold``
    parts); for a function without an FDE, the ranges its decoded instructions cover."""
    size: int
    """Bytes in `body_ranges`."""
    source: FunctionSource
    """Discovery source of the function (``fde``, ``call``, ``entry``...)."""
    status: FunctionStatus = "ok"
    error_code: str | None = None
    """Stable failure code: ``budget_exceeded``, ``decompile_failed``, ``invalid_address``,
    ``internal_error``, ``worker_crash``, ``worker_exception``..."""
    error_message: str | None = None
    c_raw: str = ""
    """Ghidra-style C text: ``FUN_`` names, imports, string literals, Ghidra types."""
    c_decompiler: str = ""
    """The decompiler's own C text, unchanged."""
    calls_text: str = ""
    cfg_text: str = ""
    variables_text: str = ""
    loc_decompiled: int = 0
    """Non-blank lines of `c_raw`."""
    bb_count: int = 0
    edge_count: int = 0
    cyclomatic: int = 0
    instruction_count: int = 0
    """Distinct instruction addresses in the P-code that lie inside `body_ranges`."""
    call_count: int = 0
    """Call sites, counting tail calls, no-return calls and indirect calls."""
    warning_codes: tuple[str, ...] = ()
    warning_messages: tuple[str, ...] = ()
    fatal_warning: bool = False
    cfg_completeness: CfgCompleteness = "LOW"
    is_thunk: bool = False
    """The body is a single jump to another function or an import."""
    is_noreturn: bool = False
    """The no-return analysis found that the function never returns."""
    callees: tuple[int | str, ...] = ()
    """Direct callees in call-site order: Ghidra entry addresses of functions and
    names of imports."""
    seconds: float = 0.0
    """Wall time of this function in its worker (decompile and post-processing)."""


@dataclass(slots=True)
class BinaryAnalysis:
    """Every function of one stripped binary, with what the stage learned about the file."""

    path: Path
    elf_type: str
    image_base: int
    ghidra_offset: int
    entry_va: int
    """ELF virtual address of the entry point."""
    functions: list[DecompiledFunction]
    """Sorted by entry address."""
    imports: dict[int, str]
    """Ghidra address of every PLT stub and import GOT slot -> import name."""
    strings_count: int
    """NUL-terminated printable strings of at least 4 characters in read-only data."""
    discovery: DiscoveryStats
    noreturn_count: int
    """Functions and imports the no-return analysis marked."""
    workers: int
    seconds: float
    worker_peak_rss: dict[int, int] = field(default_factory=dict)
    """Worker process id -> peak resident set size in bytes."""
    worker_cpu_seconds: dict[int, float] = field(default_factory=dict)
    """Worker process id -> user and system CPU seconds it used (including start-up)."""

    @property
    def ok_count(self) -> int:
        return sum(1 for function in self.functions if function.status == "ok")
