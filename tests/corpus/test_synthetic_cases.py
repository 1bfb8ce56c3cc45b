"""Tests of the synthetic C test cases under src/reforge/corpus/synthetic.

Each case folder contains C sources and a manifest.toml. These tests check the
manifest schema, that every case compiles warning-free with gcc at -O0 and -O2
and runs to exit status 0, that the suite covers the required decompiler
stresses, and the binary properties that single cases exist to provide: one
static name defined in several files, a `.cold` split, a noreturn `exit()`
wrapper followed by another function, an inlined static function that keeps an
out-of-line copy, and function names leaking into `.rodata` in exactly one case.
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from elftools.elf.elffile import ELFFile

SYNTHETIC_DIR = Path(__file__).resolve().parents[2] / "src" / "reforge" / "corpus" / "synthetic"
CASE_NAMES = sorted(path.parent.name for path in SYNTHETIC_DIR.glob("*/manifest.toml"))

MANIFEST_TYPES: dict[str, type] = {
    "name": str,
    "kind": str,
    "description": str,
    "stresses": list,
    "sources": list,
    "headers": list,
    "main_file": str,
    "include_dirs": list,
    "defines": list,
    "cflags": list,
    "libs": list,
    "run_args": list,
    "stdin": str,
}

# The flags the corpus builder uses, then the stricter warnings every case must pass.
BASE_FLAGS = [
    "-g",
    "-std=c11",
    "-Wall",
    "-fno-omit-frame-pointer",
    "-mno-omit-leaf-frame-pointer",
    "-no-pie",
]
STRICT_FLAGS = ["-Wextra", "-Werror"]

# Every entry must appear verbatim in the `stresses` list of at least one case.
REQUIRED_STRESSES = [
    "calls across translation units",
    "macros in shared header",
    "static inline in shared header",
    "header-dominant code",
    "identical static names",
    "function-pointer table",
    "callbacks",
    "recursion",
    "inlined leaves",
    "tail calls",
    "out-of-line copy of inlined static",
    "jump table",
    "loop-heavy numeric code",
    "string formatting",
    "libm calls",
    "state machine",
    "goto cleanup",
    "computed goto",
    "anonymous struct",
    "anonymous union",
    "bitfields",
    "deep nesting",
    "noreturn exit",
    "abort on impossible path",
    "cold split",
    "name leak",
    "mixed stress",
]

# Cases with hand-checked properties. Names and files were read from the sources.
SAME_STATIC_NAME_CASES = [
    (
        "t04_same_static_names",
        "parse_line",
        {"config_file.c", "csv_table.c", "access_log.c"},
    ),
    ("t04_same_static_names", "print_summary", {"config_file.c", "csv_table.c"}),
    ("t17_mixed_calculator", "set_error", {"lexer.c", "parser.c"}),
]
COLD_SPLIT_CASE = "t15_noreturn_cold"
EXIT_CASE = "t15_noreturn_cold"
EXIT_FUNCTION = "die_with_usage"
ABORT_FUNCTION = "mode_label"
OUT_OF_LINE_CASE = "t06_recursion_inlining"
OUT_OF_LINE_FUNCTION = "compare_ints"
LEAK_CASE = "t16_assert_name_leak"
# report_invalid_priority prints __func__; sift_up contains an assert() that
# survives -O2 because gcc cannot prove its condition.
EXPECTED_LEAKED_NAMES = {"report_invalid_priority", "sift_up"}

# Functions that crt1.o and crtbegin.o add to every executable.
TOOLCHAIN_FUNCTIONS = {"frame_dummy", "register_tm_clones", "deregister_tm_clones", "main"}


def load_manifest(case: str) -> dict[str, Any]:
    with (SYNTHETIC_DIR / case / "manifest.toml").open("rb") as handle:
        return tomllib.load(handle)


class CaseBuilder:
    """Compiles cases on demand and reuses each (case, level) binary in the session."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.binaries: dict[tuple[str, int], Path] = {}

    def build(self, case: str, level: int) -> Path:
        key = (case, level)
        if key not in self.binaries:
            self.binaries[key] = self._compile(case, level)
        return self.binaries[key]

    def _compile(self, case: str, level: int) -> Path:
        manifest = load_manifest(case)
        case_dir = SYNTHETIC_DIR / case
        output = self.output_dir / f"{case}_O{level}"
        command = [
            "gcc",
            *BASE_FLAGS,
            f"-O{level}",
            *STRICT_FLAGS,
            f"-I{case_dir}",
            *(f"-I{case_dir / directory}" for directory in manifest["include_dirs"]),
            *(f"-D{define}" for define in manifest["defines"]),
            *manifest["cflags"],
            *(str(case_dir / source) for source in manifest["sources"]),
            "-o",
            str(output),
            *(f"-l{library}" for library in manifest["libs"]),
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            pytest.fail(f"gcc -O{level} failed for {case}:\n{' '.join(command)}\n{result.stderr}")
        return output


@pytest.fixture(scope="session")
def case_builder(tmp_path_factory: pytest.TempPathFactory) -> CaseBuilder:
    return CaseBuilder(tmp_path_factory.mktemp("synthetic_builds"))


def run_case(case: str, binary: Path) -> subprocess.CompletedProcess[str]:
    manifest = load_manifest(case)
    return subprocess.run(
        [str(binary), *manifest["run_args"]],
        input=manifest["stdin"],
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


def read_symbols(binary: Path) -> list[tuple[int, str, str, str]]:
    """Return (address, type letter, name, source location) for each defined symbol,
    sorted by address, from `nm -n -l`."""
    output = subprocess.run(
        ["nm", "-n", "-l", "--defined-only", str(binary)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    symbols = []
    for line in output.splitlines():
        fields, _, location = line.partition("\t")
        parts = fields.split()
        if len(parts) == 3:
            symbols.append((int(parts[0], 16), parts[1], parts[2], location))
    return symbols


def program_function_names(binary: Path) -> set[str]:
    return {
        name
        for _, kind, name, _ in read_symbols(binary)
        if kind in "tT" and not name.startswith("_") and name not in TOOLCHAIN_FUNCTIONS
    }


def read_rodata_strings(binary: Path) -> list[str]:
    with binary.open("rb") as handle:
        section = ELFFile(handle).get_section_by_name(".rodata")
        data = section.data() if section is not None else b""
    return [chunk.decode("latin-1") for chunk in data.split(b"\0") if chunk]


def names_found_in_strings(names: set[str], strings: list[str]) -> set[str]:
    text = "\n".join(strings)
    return {
        name
        for name in names
        if re.search(rf"(?<![A-Za-z0-9_]){re.escape(name)}(?![A-Za-z0-9_])", text)
    }


@pytest.mark.parametrize("case", CASE_NAMES)
def test_manifest_schema(case: str) -> None:
    manifest = load_manifest(case)
    case_dir = SYNTHETIC_DIR / case

    assert set(manifest) == set(MANIFEST_TYPES)
    for key, expected_type in MANIFEST_TYPES.items():
        assert isinstance(manifest[key], expected_type), key
        if expected_type is list:
            assert all(isinstance(item, str) for item in manifest[key]), key

    assert manifest["name"] == case
    assert manifest["kind"] == "synthetic"
    assert manifest["description"].strip()
    assert manifest["stresses"]
    assert manifest["sources"]
    assert all(source.endswith(".c") for source in manifest["sources"])
    assert all(header.endswith(".h") for header in manifest["headers"])
    assert manifest["main_file"] in manifest["sources"]
    for relative in [*manifest["sources"], *manifest["headers"]]:
        assert (case_dir / relative).is_file(), relative
    for directory in manifest["include_dirs"]:
        assert (case_dir / directory).is_dir(), directory


@pytest.mark.parametrize("case", CASE_NAMES)
def test_manifest_lists_every_source_file(case: str) -> None:
    manifest = load_manifest(case)
    case_dir = SYNTHETIC_DIR / case
    on_disk = {path.relative_to(case_dir).as_posix() for path in case_dir.rglob("*.[ch]")}

    assert on_disk == {*manifest["sources"], *manifest["headers"]}


@pytest.mark.parametrize("level", [0, 2])
@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_builds_and_runs(case: str, level: int, case_builder: CaseBuilder) -> None:
    result = run_case(case, case_builder.build(case, level))

    assert result.returncode == 0, result.stderr
    assert result.stdout


@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_output_same_at_o0_and_o2(case: str, case_builder: CaseBuilder) -> None:
    unoptimized = run_case(case, case_builder.build(case, 0))
    optimized = run_case(case, case_builder.build(case, 2))

    assert optimized.stdout == unoptimized.stdout


def test_suite_has_fifteen_cases() -> None:
    assert len(CASE_NAMES) >= 15
    assert "t01_crossfile_calls" in CASE_NAMES


def test_stresses_cover_required_list() -> None:
    covered = {stress for case in CASE_NAMES for stress in load_manifest(case)["stresses"]}

    missing = [stress for stress in REQUIRED_STRESSES if stress not in covered]
    assert missing == []


@pytest.mark.parametrize(("case", "function", "files"), SAME_STATIC_NAME_CASES)
def test_same_static_name_in_several_files(
    case: str, function: str, files: set[str], case_builder: CaseBuilder
) -> None:
    symbols = read_symbols(case_builder.build(case, 0))

    matches = [(kind, location) for _, kind, name, location in symbols if name == function]
    assert [kind for kind, _ in matches] == ["t"] * len(files)
    defining_files = {Path(location.rsplit(":", 1)[0]).name for _, location in matches}
    assert defining_files == files


def test_cold_split_at_o2(case_builder: CaseBuilder) -> None:
    symbols = read_symbols(case_builder.build(COLD_SPLIT_CASE, 2))

    cold_parts = {name for _, _, name, _ in symbols if name.endswith(".cold")}
    assert cold_parts
    assert {name.removesuffix(".cold") for name in cold_parts} - {"main"}


def test_exit_function_followed_by_function_at_o2(case_builder: CaseBuilder) -> None:
    binary = case_builder.build(EXIT_CASE, 2)
    functions = [
        (name, location) for _, kind, name, location in read_symbols(binary) if kind in "tT"
    ]
    names = [name for name, _ in functions]

    assert EXIT_FUNCTION in names
    following_name, following_location = functions[names.index(EXIT_FUNCTION) + 1]
    # A function from this case's own sources comes next, not the end of .text.
    assert str(SYNTHETIC_DIR / EXIT_CASE) in following_location, following_name


def test_exit_and_abort_functions_at_o0(case_builder: CaseBuilder) -> None:
    binary = case_builder.build(EXIT_CASE, 0)
    defined = program_function_names(binary)
    imported = subprocess.run(
        ["nm", "--undefined-only", str(binary)], capture_output=True, text=True, check=True
    ).stdout

    assert EXIT_FUNCTION in defined
    assert ABORT_FUNCTION in defined
    assert re.search(r"\bexit\b", imported)
    assert re.search(r"\babort\b", imported)


def test_inlined_static_kept_out_of_line(case_builder: CaseBuilder) -> None:
    binary = case_builder.build(OUT_OF_LINE_CASE, 2)
    inlined_copies = 0
    out_of_line_copies = 0
    with binary.open("rb") as handle:
        for unit in ELFFile(handle).get_dwarf_info().iter_CUs():
            for die in unit.iter_DIEs():
                if "DW_AT_abstract_origin" not in die.attributes:
                    continue
                origin = die.get_DIE_from_attribute("DW_AT_abstract_origin")
                name = origin.attributes.get("DW_AT_name")
                if name is None or name.value.decode() != OUT_OF_LINE_FUNCTION:
                    continue
                if die.tag == "DW_TAG_inlined_subroutine":
                    inlined_copies += 1
                elif die.tag == "DW_TAG_subprogram" and "DW_AT_low_pc" in die.attributes:
                    out_of_line_copies += 1

    assert inlined_copies >= 1
    assert out_of_line_copies == 1
    assert OUT_OF_LINE_FUNCTION in program_function_names(binary)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_function_names_absent_from_rodata(case: str, case_builder: CaseBuilder) -> None:
    # The -O0 build defines every function; the strings come from both levels.
    names = program_function_names(case_builder.build(case, 0))
    leaked_at_o0 = names_found_in_strings(names, read_rodata_strings(case_builder.build(case, 0)))
    leaked_at_o2 = names_found_in_strings(names, read_rodata_strings(case_builder.build(case, 2)))

    if case == LEAK_CASE:
        assert leaked_at_o0 >= EXPECTED_LEAKED_NAMES
        assert leaked_at_o2 >= EXPECTED_LEAKED_NAMES
        assert "name leak" in load_manifest(case)["stresses"]
    else:
        assert leaked_at_o0 == set()
        assert leaked_at_o2 == set()
