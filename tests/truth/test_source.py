"""Tests for the source oracle: definitions in preprocessed C mapped back to their lines."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest
from source_fixtures import (
    COMMON_H,
    ONE_C,
    TWO_C,
    TWO_FILE_PROGRAM,
    closing_brace_line,
    line_of,
    write_sources,
)

from reforge.errors import BuildError
from reforge.truth.source import (
    SourceFunction,
    find_source_functions,
    preprocess,
    scan_translation_unit,
)

LUA_TARBALL = Path("/work/shared/corpus/debian/lua5.4_5.4.4.orig.tar.gz")

SHAPES_C = """\
#include <stddef.h>

static int twice(int x) { return 2 * x; }

char *
duplicate_name(const char *name)
{
    (void)name;
    return NULL;
}

int (*choose_handler(int which))(int)
{
    (void)which;
    return twice;
}

__attribute__((noinline, cold)) static int
rarely_called(int code)
{
    return code + 1;
}

int old_style(a, b)
    int a;
    long b;
{
    return a + (int)b;
}

static inline unsigned   spaced_out   (unsigned value)
{
\treturn value << 1;
}

\tint tab_indented(void) { return 4; }
"""

# name -> (text that starts on the definition's first line, text on the name's line)
SHAPES_DEFINITIONS = {
    "twice": ("static int twice(", "static int twice("),
    "duplicate_name": ("char *\nduplicate_name", "duplicate_name(const char"),
    "choose_handler": ("int (*choose_handler(", "int (*choose_handler("),
    "rarely_called": ("__attribute__((noinline, cold))", "rarely_called(int code)"),
    "old_style": ("int old_style(a, b)", "int old_style(a, b)"),
    "spaced_out": ("static inline unsigned   spaced_out", "static inline unsigned   spaced_out"),
    "tab_indented": ("\tint tab_indented", "\tint tab_indented"),
}


def _by_name(functions: list[SourceFunction]) -> dict[str, SourceFunction]:
    return {function.name: function for function in functions}


def _column_of(text: str, line: int, name: str) -> int:
    """Return the 1-based column of `name` followed by ``(`` or a blank on `line` of `text`."""
    line_text = text.split("\n")[line - 1]
    index = line_text.index(name + "(") if name + "(" in line_text else line_text.index(name + " ")
    return index + 1


def _preprocess_and_find(
    root: Path, tu: str, flags: list[str] | None = None
) -> list[SourceFunction]:
    text = preprocess(Path(tu), cwd=root, flags=flags or [])
    return find_source_functions(text, tu, cwd=root)


@pytest.mark.parametrize("name", sorted(SHAPES_DEFINITIONS))
def test_definition_lines_match_source(tmp_path: Path, name: str) -> None:
    write_sources(tmp_path, {"shapes.c": SHAPES_C})
    function = _by_name(_preprocess_and_find(tmp_path, "shapes.c"))[name]
    first_text, name_text = SHAPES_DEFINITIONS[name]

    start_line = line_of(SHAPES_C, first_text)
    name_line = line_of(SHAPES_C, name_text)
    assert function.file == "shapes.c"
    assert function.start_line == start_line
    assert function.name_line == name_line
    assert function.end_line == closing_brace_line(SHAPES_C, name_line)
    assert function.start_column == _column_of(SHAPES_C, name_line, name)
    assert function.tu == "shapes.c"
    assert function.from_header is False


def test_specifier_flags(tmp_path: Path) -> None:
    write_sources(tmp_path, {"shapes.c": SHAPES_C})
    functions = _by_name(_preprocess_and_find(tmp_path, "shapes.c"))

    statics = {name for name, function in functions.items() if function.is_static}
    inlines = {name for name, function in functions.items() if function.is_inline}
    assert statics == {"twice", "rarely_called", "spaced_out"}
    assert inlines == {"spaced_out"}
    assert set(functions) == set(SHAPES_DEFINITIONS)


def test_column_without_cwd_is_preprocessed_column(tmp_path: Path) -> None:
    write_sources(tmp_path, {"shapes.c": SHAPES_C})
    text = preprocess(Path("shapes.c"), cwd=tmp_path, flags=[])
    function = _by_name(find_source_functions(text, "shapes.c"))["spaced_out"]

    # gcc -E writes `static inline unsigned spaced_out (` with single spaces.
    assert function.start_column == len("static inline unsigned ") + 1


def test_header_static_inline_in_two_units(tmp_path: Path) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    expected_line = line_of(COMMON_H, "static inline int clamp_add(")

    copies = [
        _by_name(_preprocess_and_find(tmp_path, tu))["clamp_add"] for tu in ("one.c", "two.c")
    ]
    assert [copy.tu for copy in copies] == ["one.c", "two.c"]
    for copy in copies:
        assert copy.file == "common.h"
        assert copy.from_header is True
        assert copy.in_system_header is False
        assert copy.is_static is True
        assert copy.is_inline is True
        assert copy.start_line == expected_line
        assert copy.end_line == closing_brace_line(COMMON_H, expected_line)


def test_macro_generated_name(tmp_path: Path) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    function = _by_name(_preprocess_and_find(tmp_path, "two.c"))["get_width"]

    invocation_line = line_of(TWO_C, "DEFINE_GETTER(width)")
    assert function.file == "two.c"
    assert function.from_header is False
    assert function.start_line == invocation_line
    assert function.name_line == invocation_line
    assert function.end_line == invocation_line


def test_pointer_returning_functions(tmp_path: Path) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    functions = _by_name(_preprocess_and_find(tmp_path, "two.c"))

    two_name = functions["two_name"]
    assert two_name.start_line == line_of(TWO_C, "__attribute__((noinline)) char *")
    assert two_name.name_line == line_of(TWO_C, "two_name(int which)")
    pick_op = functions["pick_op"]
    assert pick_op.name_line == line_of(TWO_C, "(*pick_op(int which))")
    assert pick_op.start_column == TWO_C.split("\n")[pick_op.name_line - 1].index("pick_op") + 1


def test_same_static_name_in_two_files(tmp_path: Path) -> None:
    write_sources(tmp_path, TWO_FILE_PROGRAM)
    helpers = [
        function
        for tu in ("one.c", "two.c")
        for function in _preprocess_and_find(tmp_path, tu)
        if function.name == "helper"
    ]

    assert [(helper.file, helper.start_line) for helper in helpers] == [
        ("one.c", line_of(ONE_C, "__attribute__((noinline)) static int helper")),
        ("two.c", line_of(TWO_C, "__attribute__((noinline)) static int helper")),
    ]
    assert all(helper.is_static for helper in helpers)


def test_line_directive_names_other_file(tmp_path: Path) -> None:
    source = (
        "int before(void) { return 1; }\n"
        '#line 500 "grammar.y"\n'
        "int generated(void)\n{\n  return 2;\n}\n"
    )
    write_sources(tmp_path, {"parser.c": source})
    functions = _by_name(_preprocess_and_find(tmp_path, "parser.c"))

    assert (functions["before"].file, functions["before"].start_line) == ("parser.c", 1)
    generated = functions["generated"]
    assert (generated.file, generated.start_line, generated.end_line) == ("grammar.y", 500, 503)
    assert generated.from_header is True


def test_system_header_definition(tmp_path: Path) -> None:
    header = "static inline int sys_helper(int x)\n{\n    return x + 1;\n}\n"
    write_sources(
        tmp_path,
        {
            "sys/vendor.h": header,
            "main.c": "#include <vendor.h>\nint main(void) { return sys_helper(1); }\n",
        },
    )
    functions = _by_name(_preprocess_and_find(tmp_path, "main.c", ["-isystem", "sys"]))

    helper = functions["sys_helper"]
    assert helper.file == "sys/vendor.h"
    assert helper.in_system_header is True
    assert helper.from_header is True
    assert (helper.start_line, helper.end_line) == (1, 4)
    assert functions["main"].in_system_header is False


def test_glibc_inline_definition_kept(tmp_path: Path) -> None:
    # glibc defines getchar as an extern inline function in bits/stdio.h when
    # optimising; the definition lies in a system-header region of the output.
    write_sources(
        tmp_path, {"main.c": "#include <stdio.h>\nint main(void) { return getchar(); }\n"}
    )
    functions = _preprocess_and_find(tmp_path, "main.c", ["-O2"])
    getchar = next((function for function in functions if function.name == "getchar"), None)
    if getchar is None:
        pytest.skip("this glibc does not define getchar inline in <stdio.h>")

    assert getchar.file.startswith("/usr/include/")
    assert getchar.from_header is True
    assert getchar.in_system_header is True
    header_lines = Path(getchar.file).read_text().split("\n")
    assert header_lines[getchar.name_line - 1].startswith("getchar (void)")
    assert header_lines[getchar.end_line - 1].startswith("}")


def test_line_markers_parsed_without_gcc() -> None:
    text = (
        '# 0 "main.c"\n'
        '# 1 "/usr/include/x.h" 1 3 4\n'
        "int sys_one(void) { return 1; }\n"
        '# 10 "main.c" 2\n'
        "\n"
        "int local(void)\n"
        "{\n"
        "  return 2;\n"
        "}\n"
        '# 7 "dir\\\\quoted \\"name\\".c"\n'
        "int quoted(void) { return 3; }\n"
        "#line 40\n"
        "int same_file(void) { return 4; }\n"
    )
    functions = _by_name(find_source_functions(text, "main.c"))

    assert (functions["sys_one"].file, functions["sys_one"].start_line) == ("/usr/include/x.h", 1)
    assert functions["sys_one"].in_system_header is True
    assert (functions["local"].file, functions["local"].start_line) == ("main.c", 11)
    assert functions["local"].end_line == 14
    assert functions["local"].from_header is False
    assert (functions["quoted"].file, functions["quoted"].start_line) == ('dir\\quoted "name".c', 7)
    assert (functions["same_file"].file, functions["same_file"].start_line) == (
        'dir\\quoted "name".c',
        40,
    )


def test_text_without_markers_belongs_to_unit() -> None:
    functions = find_source_functions("\n\nint f(void) { return 0; }\n", "./dir/../unit.c")

    assert [(f.name, f.file, f.start_line, f.tu) for f in functions] == [
        ("f", "unit.c", 3, "unit.c")
    ]
    assert functions[0].from_header is False


def test_broken_definitions_skipped_rest_kept() -> None:
    text = (
        "int first(void) { return 1; }\n"
        "int (* __attribute__((noinline)) broken(void))(int) { return 0; }\n"
        "int bad_body(void) { return 1 +; }\n"
        "int last(void) { return 2; }\n"
        "int unterminated(void) { return 3;\n"
    )
    scan = scan_translation_unit(text, "broken.c")

    found = {function.name: function.start_line for function in scan.functions}
    assert found == {"first": 1, "bad_body": 3, "last": 4}
    skipped = {(entry.line, entry.reason) for entry in scan.skipped}
    assert (2, "broken_declarator") in skipped
    assert (5, "unterminated_body") in skipped


def test_preprocess_error_names_file(tmp_path: Path) -> None:
    write_sources(tmp_path, {"needs.c": '#include "missing_header.h"\nint f(void) { return 0; }\n'})

    with pytest.raises(BuildError) as caught:
        preprocess(Path("needs.c"), cwd=tmp_path, flags=[])
    assert "needs.c" in str(caught.value)
    assert "missing_header.h" in caught.value.first_error
    assert caught.value.command[:2] == ["gcc", "-E"]


def test_preprocess_drops_output_flags(tmp_path: Path) -> None:
    write_sources(tmp_path, {"plain.c": "int f(void) { return 0; }\n"})

    text = preprocess(Path("plain.c"), cwd=tmp_path, flags=["-c", "-o", "plain.o", "-O2"])
    assert "int f(void)" in text
    assert not (tmp_path / "plain.o").exists()


def test_preprocess_missing_compiler(tmp_path: Path) -> None:
    write_sources(tmp_path, {"plain.c": "int f(void) { return 0; }\n"})

    with pytest.raises(BuildError, match="no-such-compiler"):
        preprocess(Path("plain.c"), cwd=tmp_path, compiler="no-such-compiler", flags=[])


@pytest.mark.realworld
@pytest.mark.skipif(not LUA_TARBALL.exists(), reason="lua tarball not in the corpus folder")
def test_lua_lapi_pushinteger_line(tmp_path: Path) -> None:
    with tarfile.open(LUA_TARBALL) as archive:
        members = [
            member
            for member in archive.getmembers()
            if member.name.startswith("lua-5.4.4/src/")
            and (member.name.endswith(".h") or member.name == "lua-5.4.4/src/lapi.c")
        ]
        archive.extractall(tmp_path, members=members, filter="data")
    src = tmp_path / "lua-5.4.4" / "src"
    grep = subprocess.run(
        ["grep", "-n", "^LUA_API void lua_pushinteger", "lapi.c"],
        cwd=src,
        capture_output=True,
        text=True,
        check=True,
    )
    grep_line = int(grep.stdout.split(":", 1)[0])

    functions = _preprocess_and_find(src, "lapi.c", ["-DLUA_USE_LINUX", "-std=gnu99"])
    pushinteger = _by_name(functions)["lua_pushinteger"]
    assert pushinteger.file == "lapi.c"
    assert pushinteger.start_line == grep_line
    assert pushinteger.name_line == grep_line
    lapi = (src / "lapi.c").read_text()
    assert pushinteger.end_line == closing_brace_line(lapi, grep_line)
    assert pushinteger.from_header is False
