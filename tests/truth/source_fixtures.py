"""C sources, build helpers and a small DWARF reader for the source oracle tests.

The DWARF reader here is deliberately independent of `reforge.truth.dwarf`: it
reads only what alignment needs, straight from pyelftools.
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.elffile import ELFFile

# A header-only static inline function, a function-like macro that defines a
# function, and prototypes shared by both translation units.
COMMON_H = """\
#ifndef COMMON_H
#define COMMON_H

int one_entry(int value);
int two_entry(int value);
int get_width(void);

static inline int clamp_add(int a, int b)
{
    int sum = a + b;
    if (sum > 100000)
        return 100000;
    return sum;
}

#define DEFINE_GETTER(field) \\
    int get_##field(void) { return field##_value * 3 + clamp_add(field##_value, 1); }

#endif
"""

ONE_C = """\
#include <stdio.h>
#include "common.h"

static int counter_value = 7;

__attribute__((noinline)) static int helper(int x)
{
    counter_value += x;
    if (counter_value > 50)
        counter_value -= 13;
    return counter_value * 2;
}

int one_entry(int value)
{
    int total = 0;
    for (int i = 0; i < value; i++)
        total = clamp_add(total, helper(i));
    return total;
}

int main(int argc, char **argv)
{
    (void)argv;
    printf("%d %d\\n", one_entry(argc + 3), two_entry(argc));
    return 0;
}
"""

TWO_C = """\
#include <string.h>
#include "common.h"

static int width_value = 5;
static char name_buffer[32];

__attribute__((noinline)) static int helper(int x)
{
    int scaled = x * width_value;
    if (scaled > 40)
        scaled /= 3;
    return scaled - 1;
}

DEFINE_GETTER(width)

__attribute__((noinline)) char *
two_name(int which)
{
    strcpy(name_buffer, which ? "two" : "zwei");
    return name_buffer;
}

static int add_op(int a, int b)
{
    return clamp_add(a, b);
}

static int sub_op(int a, int b)
{
    return a - b;
}

__attribute__((noinline)) int (*pick_op(int which))(int, int)
{
    if (which > 2)
        return sub_op;
    return add_op;
}

int two_entry(int value)
{
    int (*op)(int, int) = pick_op(value);
    return op(helper(value), get_width()) + (int)strlen(two_name(value));
}
"""

TWO_FILE_PROGRAM = {"common.h": COMMON_H, "one.c": ONE_C, "two.c": TWO_C}

# Where each function of the two-file program is defined, by file and a text
# that occurs on the line of its name and on no earlier line of that file.
TWO_FILE_DEFINITIONS = {
    ("one.c", "helper"): "static int helper(int x)",
    ("one.c", "one_entry"): "int one_entry(int value)\n{",
    ("one.c", "main"): "int main(",
    ("two.c", "helper"): "static int helper(int x)",
    ("two.c", "get_width"): "DEFINE_GETTER(width)",
    ("two.c", "two_name"): "two_name(int which)",
    ("two.c", "add_op"): "static int add_op(",
    ("two.c", "sub_op"): "static int sub_op(",
    ("two.c", "pick_op"): "(*pick_op(int which))",
    ("two.c", "two_entry"): "int two_entry(int value)\n{",
    ("common.h", "clamp_add"): "static inline int clamp_add(",
}


def write_sources(root: Path, files: dict[str, str]) -> None:
    """Write each named text under `root`, creating folders as needed."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def line_of(text: str, needle: str) -> int:
    """Return the 1-based line on which `needle` first starts in `text`."""
    index = text.index(needle)
    return text.count("\n", 0, index) + 1


def closing_brace_line(text: str, start_line: int) -> int:
    """Return the line of the brace that closes the first block opened at or after `start_line`.

    Braces inside strings and comments count too, so the fixtures keep them out of both.
    """
    lines = text.split("\n")
    depth = 0
    opened = False
    for number in range(start_line, len(lines) + 1):
        for character in lines[number - 1]:
            if character == "{":
                depth += 1
                opened = True
            elif character == "}":
                depth -= 1
                if opened and depth == 0:
                    return number
    raise AssertionError(f"no closing brace after line {start_line}")


def compile_program(root: Path, sources: Sequence[str], opt: str, output: str) -> Path:
    """Compile and link `sources` in `root` with ``gcc -g <opt>``."""
    binary = root / output
    subprocess.run(["gcc", "-g", opt, "-o", str(binary), *sources], cwd=root, check=True)
    return binary


@dataclass(frozen=True, slots=True)
class DwarfFunction:
    """The DwarfLike attributes of one concrete DW_TAG_subprogram."""

    die_offset: int
    name: str | None
    decl_file: str | None
    decl_line: int | None
    decl_column: int | None
    dominant_file: str | None
    line_min: int | None
    line_max: int | None


def read_dwarf_functions(binary: Path) -> list[DwarfFunction]:
    """Read every DW_TAG_subprogram with a low_pc and its line rows from `binary`."""
    functions: list[DwarfFunction] = []
    with binary.open("rb") as stream:
        dwarf = ELFFile(stream).get_dwarf_info()
        for cu in dwarf.iter_CUs():
            line_program = dwarf.line_program_for_CU(cu)
            files = _file_names(cu, line_program)
            rows = _line_rows(line_program, files)
            for die in cu.iter_DIEs():
                if die.tag == "DW_TAG_subprogram" and "DW_AT_low_pc" in die.attributes:
                    functions.append(_read_subprogram(die, files, rows))
    return functions


def _file_names(cu, line_program) -> list[str]:
    """Return absolute paths indexed as DW_AT_decl_file and line rows index them."""
    comp_dir = cu.get_top_DIE().attributes["DW_AT_comp_dir"].value.decode()
    header = line_program.header
    directories = [
        entry.decode() if isinstance(entry, bytes) else entry.DW_LNCT_path.decode()
        for entry in header["include_directory"]
    ]
    names: list[str] = []
    for entry in header["file_entry"]:
        name = entry.name.decode()
        directory = (
            directories[entry.dir_index]
            if header["version"] >= 5
            else (directories[entry.dir_index - 1] if entry.dir_index > 0 else comp_dir)
        )
        names.append(os.path.normpath(os.path.join(comp_dir, directory, name)))
    if header["version"] < 5:
        # DWARF 2-4 number files from 1; index 0 means no file.
        names.insert(0, "")
    return names


def _line_rows(line_program, files: list[str]) -> list[tuple[int, str, int]]:
    rows: list[tuple[int, str, int]] = []
    for entry in line_program.get_entries():
        state = entry.state
        if state is None or state.end_sequence or state.line == 0:
            continue
        rows.append((state.address, files[state.file], state.line))
    return rows


def _read_subprogram(die, files: list[str], rows: list[tuple[int, str, int]]) -> DwarfFunction:
    low = die.attributes["DW_AT_low_pc"].value
    high_attribute = die.attributes["DW_AT_high_pc"]
    high = high_attribute.value
    if high_attribute.form != "DW_FORM_addr":
        high += low

    origin = die
    while "DW_AT_name" not in origin.attributes:
        for link in ("DW_AT_abstract_origin", "DW_AT_specification"):
            if link in origin.attributes:
                origin = origin.get_DIE_from_attribute(link)
                break
        else:
            break

    def attribute(name: str) -> int | None:
        value = die.attributes.get(name) or origin.attributes.get(name)
        return None if value is None else value.value

    inside = [(file, line) for address, file, line in rows if low <= address < high]
    dominant = Counter(file for file, _ in inside).most_common(1)[0][0] if inside else None
    lines = [line for file, line in inside if file == dominant]
    name = origin.attributes.get("DW_AT_name")
    decl_file = attribute("DW_AT_decl_file")
    return DwarfFunction(
        die_offset=die.offset,
        name=None if name is None else name.value.decode(),
        decl_file=None if decl_file is None else files[decl_file],
        decl_line=attribute("DW_AT_decl_line"),
        decl_column=attribute("DW_AT_decl_column"),
        dominant_file=dominant,
        line_min=min(lines) if lines else None,
        line_max=max(lines) if lines else None,
    )
