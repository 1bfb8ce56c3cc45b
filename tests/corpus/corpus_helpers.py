"""Helpers shared by the corpus tests: a two-file C program, TOML writing and tarballs."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from reforge.corpus.manifest import Manifest

# A two-file program: main() prints add_twice(argc, 20), so 41 when run without arguments.
TWO_FILE_SOURCES = {
    "main.c": (
        "#include <stdio.h>\n"
        '#include "util.h"\n'
        "\n"
        "int main(int argc, char **argv)\n"
        "{\n"
        "    (void)argv;\n"
        '    printf("%d\\n", add_twice(argc, 20));\n'
        "    return 0;\n"
        "}\n"
    ),
    "util.c": ('#include "util.h"\n\nint add_twice(int a, int b)\n{\n    return a + b + b;\n}\n'),
    "util.h": "#ifndef UTIL_H\n#define UTIL_H\nint add_twice(int a, int b);\n#endif\n",
}


def toml_value(value: Any) -> str:
    """Format a string, list of strings or bool as TOML (JSON strings are valid TOML)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def manifest_text(fields: dict[str, Any], tables: dict[str, dict[str, Any]] | None = None) -> str:
    """Return a TOML manifest with `fields` at the top and each of `tables` as a [table]."""
    lines = [f"{key} = {toml_value(value)}" for key, value in fields.items()]
    for table, table_fields in (tables or {}).items():
        lines.append(f"\n[{table}]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in table_fields.items())
    return "\n".join(lines) + "\n"


def synthetic_fields(name: str, **overrides: Any) -> dict[str, Any]:
    """Return the fields of a valid synthetic manifest for the two-file program."""
    fields: dict[str, Any] = {
        "name": name,
        "kind": "synthetic",
        "description": "Adds a number twice and prints it.",
        "stresses": ["calls across translation units"],
        "sources": ["main.c", "util.c"],
        "headers": ["util.h"],
        "main_file": "main.c",
        "include_dirs": [],
        "defines": [],
        "cflags": [],
        "libs": [],
        "run_args": [],
        "stdin": "",
    }
    fields.update(overrides)
    return fields


WriteCase = Callable[..., Manifest]


def make_tarball(path: Path, members: dict[str, str]) -> Path:
    """Write a .tar.gz at `path` with one regular file per entry of `members`."""
    with tarfile.open(path, "w:gz") as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path
