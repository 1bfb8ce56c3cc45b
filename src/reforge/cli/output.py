"""Terminal output of the CLI: JSON lines for scripts and plain tables for people."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def print_json_lines(rows: Iterable[Mapping[str, Any]]) -> None:
    """Print one compact JSON object per line (stable keys, no ANSI)."""
    write = sys.stdout.write
    for row in rows:
        write(json.dumps(row, default=str, separators=(",", ":")) + "\n")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Return a left-aligned text table with a rule under the header."""
    cells = [[str(header) for header in headers]]
    cells.extend([("" if value is None else str(value)) for value in row] for row in rows)
    widths = [max(len(row[index]) for row in cells) for index in range(len(headers))]
    lines = ["  ".join(value.ljust(width) for value, width in zip(cells[0], widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines.extend(
        "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip()
        for row in cells[1:]
    )
    return "\n".join(lines)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print `format_table` output."""
    print(format_table(headers, rows))
