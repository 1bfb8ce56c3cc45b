"""Binary analysis of stripped x86-64 ELF files: discovery, decompilation, Ghidra-style views.

Only the stripped binary is read here; ground truth lives elsewhere. The entry
point is `analyze_binary`::

    from reforge.binary import analyze_binary

    if __name__ == "__main__":  # worker processes re-import the calling script
        analysis = analyze_binary("prog.O2.stripped", workers=2)
        print(analysis.functions[0].c_raw)
"""

from __future__ import annotations

from reforge.binary.analysis import analyze_binary
from reforge.binary.calls import add_callers
from reforge.binary.decompiler import FunctionDecompileError
from reforge.binary.discovery import (
    DiscoveredFunction,
    Discovery,
    DiscoveryStats,
    discover_functions,
)
from reforge.binary.frames import Fde
from reforge.binary.loader import PIE_GHIDRA_OFFSET, LoadedBinary, Section, load_binary
from reforge.binary.noreturn import NORETURN_IMPORTS, find_noreturn
from reforge.binary.records import BinaryAnalysis, DecompiledFunction
from reforge.binary.warning_codes import (
    WARNING_CODES,
    WarningCode,
    cfg_completeness,
    classify_warning,
)

__all__ = [
    "NORETURN_IMPORTS",
    "PIE_GHIDRA_OFFSET",
    "WARNING_CODES",
    "BinaryAnalysis",
    "DecompiledFunction",
    "DiscoveredFunction",
    "Discovery",
    "DiscoveryStats",
    "Fde",
    "FunctionDecompileError",
    "LoadedBinary",
    "Section",
    "WarningCode",
    "add_callers",
    "analyze_binary",
    "cfg_completeness",
    "classify_warning",
    "discover_functions",
    "find_noreturn",
    "load_binary",
]
