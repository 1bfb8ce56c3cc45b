"""Independent readings of ELF files with binutils: symbols, strings and dynamic symbols."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Symbol:
    """One ``nm`` line: address, size (None when nm prints none), type letter and name."""

    address: int
    size: int | None
    kind: str
    name: str


def nm_symbols(binary: Path) -> list[Symbol]:
    """Return the symbols of `binary` sorted by address (``nm -n -S``)."""
    output = _run(["nm", "-n", "-S", str(binary)])
    symbols = []
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 4:
            symbols.append(Symbol(int(parts[0], 16), int(parts[1], 16), parts[2], parts[3]))
        elif len(parts) == 3:
            symbols.append(Symbol(int(parts[0], 16), None, parts[1], parts[2]))
    return symbols


def text_symbols(binary: Path) -> list[Symbol]:
    """Return the code symbols (nm type ``T`` or ``t``) sorted by address."""
    return [symbol for symbol in nm_symbols(binary) if symbol.kind in ("T", "t")]


_SYMTAB_LINE = re.compile(r"^\s*\d+:\s+([0-9a-f]+)\s+\d+\s+(\w+)\s+(\w+)\s+\w+\s+(\w+)\s+(\S+)\s*$")


def local_functions_by_file(binary: Path) -> dict[str, dict[str, int]]:
    """Map each source file to its local functions' addresses, from ``readelf -sW``.

    In the ELF symbol table the local symbols of one object file follow an
    ``STT_FILE`` symbol that names its source file.
    """
    by_file: dict[str, dict[str, int]] = {}
    current: str | None = None
    for line in _run(["readelf", "-sW", str(binary)]).splitlines():
        match = _SYMTAB_LINE.match(line)
        if match is None:
            continue
        value, kind, bind, _section, name = match.groups()
        if kind == "FILE":
            current = name
            by_file.setdefault(name, {})
        elif kind == "FUNC" and bind == "LOCAL" and current is not None:
            by_file[current][name] = int(value, 16)
    return by_file


def printable_strings(binary: Path) -> str:
    """Return ``strings -a -n 4`` of `binary`, one string per line."""
    return _run(["strings", "-a", "-n", "4", str(binary)])


def dynamic_symbol_names(binary: Path) -> set[str]:
    """Return the names in ``.dynsym`` (``readelf --dyn-syms``), without version suffixes."""
    names = set()
    for line in _run(["readelf", "--dyn-syms", "-W", str(binary)]).splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0].rstrip(":").isdigit():
            names.add(parts[7].split("@")[0])
    return names


def _run(command: list[str]) -> str:
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    return completed.stdout
