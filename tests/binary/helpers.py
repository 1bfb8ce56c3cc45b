"""Helpers for the binary-analysis tests: compiling the sample program and reading nm/objdump."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from reforge.binary import BinaryAnalysis, DecompiledFunction

PROGRAMS = Path(__file__).parent / "programs"
COMMON_FLAGS = ["-g", "-fno-omit-frame-pointer", "-mno-omit-leaf-frame-pointer"]
PIE_OFFSET = 0x100000


@dataclass(frozen=True)
class Build:
    """One compiled variant of a test program."""

    debug: Path
    stripped: Path
    opt: str
    pie: bool

    @property
    def ghidra_offset(self) -> int:
        return PIE_OFFSET if self.pie else 0

    def symbols(self) -> dict[str, int]:
        """Return ``nm`` text symbols of the debug binary: name -> ELF address."""
        output = subprocess.run(
            ["nm", "--defined-only", str(self.debug)], check=True, capture_output=True, text=True
        ).stdout
        symbols: dict[str, int] = {}
        for line in output.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "tT":
                symbols[parts[2]] = int(parts[0], 16)
        return symbols

    def plt_stubs(self) -> dict[str, int]:
        """Return ``objdump -d`` PLT stub labels of the debug binary: import -> ELF address."""
        output = subprocess.run(
            ["objdump", "-d", str(self.debug)], check=True, capture_output=True, text=True
        ).stdout
        return {
            name: int(address, 16)
            for address, name in re.findall(r"^([0-9a-f]+) <(\w+)@plt>:", output, re.MULTILINE)
        }

    def ghidra(self, name: str) -> int:
        """Return the Ghidra address of a function of the program."""
        return self.symbols()[name] + self.ghidra_offset


def compile_program(source: Path, output: Path, opt: str, *, pie: bool) -> Build:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    pie_flags = ["-fpie", "-pie"] if pie else ["-no-pie"]
    command = ["gcc", *COMMON_FLAGS, f"-{opt}", *pie_flags, "-o", str(output), str(source)]
    subprocess.run(command, check=True, capture_output=True)
    stripped = output.with_suffix(".stripped")
    subprocess.run(["strip", "--strip-all", "-o", str(stripped), str(output)], check=True)
    return Build(debug=output, stripped=stripped, opt=opt, pie=pie)


def function_at(analysis: BinaryAnalysis, ghidra_address: int) -> DecompiledFunction:
    """Return the record of the function at a Ghidra address (fails the test if absent)."""
    for function in analysis.functions:
        if function.ghidra_entry_va == ghidra_address:
            return function
    raise AssertionError(f"no function discovered at {ghidra_address:#x}")
