"""The source oracle: function definitions in a preprocessed translation unit.

A translation unit is the output of ``gcc -E`` run with the build's own flags.
The preprocessor keeps GNU line markers (``# 12 "lapi.c" 2``) and ``#line``
directives, so every line of the output can be mapped back to the file and line
it came from. tree-sitter-c parses the output, and every ``function_definition``
becomes a `SourceFunction` with its original file, first and last line, and the
position of its name::

    text = preprocess(Path("lapi.c"), cwd=src_dir, flags=["-DLUA_USE_LINUX", "-std=gnu99"])
    functions = find_source_functions(text, "lapi.c", cwd=src_dir)

Definitions whose declarator tree-sitter could not parse, or whose body has no
closing brace, are skipped and listed by `scan_translation_unit`. Errors inside
an otherwise complete body do not drop the definition.
"""

from __future__ import annotations

import bisect
import functools
import os
import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tree_sitter
import tree_sitter_c

from reforge.errors import BuildError

__all__ = [
    "SkippedDefinition",
    "SourceFunction",
    "SourceScan",
    "find_source_functions",
    "preprocess",
    "scan_translation_unit",
]

_C_LANGUAGE = tree_sitter.Language(tree_sitter_c.language())
_DEFINITION_QUERY = tree_sitter.Query(_C_LANGUAGE, "(function_definition) @definition")

# A GNU line marker `# 12 "file.c" 1 3` or a `#line 12 "file.c"` directive. The
# file name is a C string literal and may be absent after `#line`.
_LINE_MARKER = re.compile(
    rb"^[ \t]*#[ \t]*(?:line[ \t]+)?(?P<line>\d+)"
    rb'(?:[ \t]+"(?P<file>(?:[^"\\]|\\.)*)")?(?P<flags>(?:[ \t]+\d+)*)[ \t]*\r?$'
)
_STRING_ESCAPE = re.compile(rb"\\([0-7]{1,3}|.)", re.DOTALL)
_SIMPLE_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b"a": b"\a", b"b": b"\b"}
_SYSTEM_HEADER_FLAG = b"3"

_INLINE_SPECIFIERS = frozenset({"inline", "__inline", "__inline__"})
# Names that error recovery can leave in a declarator's identifier position.
_NOT_FUNCTION_NAMES = frozenset(
    {"__attribute__", "__attribute", "__asm__", "__asm", "asm", "__declspec", "__extension__"}
)
_DECLARATOR_WRAPPERS = frozenset(
    {"function_declarator", "pointer_declarator", "attributed_declarator", "array_declarator"}
)


@dataclass(frozen=True, slots=True)
class SourceFunction:
    """One function definition, located in the original sources."""

    name: str
    file: str
    """Original path as the line marker gives it, after `os.path.normpath`."""
    start_line: int
    """Line of the definition's first token (specifiers or declarator) in `file`."""
    end_line: int
    """Line of the closing brace in `file`."""
    start_column: int
    """1-based byte column of the name identifier, see `find_source_functions`."""
    name_line: int
    """Line of the name identifier in `file`."""
    tu: str
    """The translation unit's main file, as the caller passed it, normalised."""
    is_static: bool
    is_inline: bool
    from_header: bool
    """True when `file` differs from the main file named by the first line marker."""
    in_system_header: bool = False
    """True when the line marker flags `file` as a system header (flag 3)."""


@dataclass(frozen=True, slots=True)
class SkippedDefinition:
    """A ``function_definition`` node that tree-sitter could not parse cleanly."""

    file: str
    line: int
    reason: str
    """``broken_declarator``, ``no_name`` or ``unterminated_body``."""


@dataclass(frozen=True, slots=True)
class SourceScan:
    """Every definition found in one translation unit and the ones skipped."""

    functions: tuple[SourceFunction, ...]
    skipped: tuple[SkippedDefinition, ...]


@dataclass(frozen=True, slots=True)
class _Location:
    file: str
    line: int
    in_system_header: bool


class _LineMap:
    """Maps 0-based rows of preprocessed text to original (file, line) pairs.

    `rows[i]` is the first preprocessed row that entry `i` describes. A row `r`
    from there up to the next entry is line `lines[i] + (r - rows[i])` of `files[i]`.
    """

    def __init__(self, tu: str) -> None:
        # Rows before the first marker, or all rows of text without markers,
        # belong to the translation unit itself.
        self.main_file = tu
        self.rows: list[int] = [0]
        self.files: list[str] = [tu]
        self.lines: list[int] = [1]
        self.system: list[bool] = [False]
        self._seen_file_marker = False

    def add_marker(self, row: int, file: str | None, line: int, flags: bytes) -> None:
        if file is not None and not self._seen_file_marker:
            # gcc's first marker names the main file as it was given on the command line.
            self.main_file = file
            self._seen_file_marker = True
        if file is None:
            # `#line N` without a file name stays in the current file.
            current_file, system = self.files[-1], self.system[-1]
        else:
            current_file, system = file, _SYSTEM_HEADER_FLAG in flags.split()
        if self.rows[-1] == row + 1:
            # Consecutive markers: the later one describes the same next row.
            self.files[-1], self.lines[-1], self.system[-1] = current_file, line, system
            return
        self.rows.append(row + 1)
        self.files.append(current_file)
        self.lines.append(line)
        self.system.append(system)

    def locate(self, row: int) -> _Location:
        index = bisect.bisect_right(self.rows, row) - 1
        line = self.lines[index] + (row - self.rows[index])
        return _Location(self.files[index], line, self.system[index])


def preprocess(source: Path, *, cwd: Path, compiler: str = "gcc", flags: Sequence[str]) -> str:
    """Run ``<compiler> -E <flags> source`` in `cwd` and return the preprocessed text.

    `flags` are the build's compile flags. ``-o FILE`` is dropped because it
    would send the output to a file, and ``-c`` and ``-S`` because they select
    a later stage than ``-E``. Bytes that are not UTF-8 survive as surrogate
    escapes, so `find_source_functions` gets the same byte columns that gcc
    counted.

    Raises `BuildError` naming the file and gcc's first error line.
    """
    command = [compiler, "-E", *_preprocessing_flags(flags), str(source)]
    try:
        completed = subprocess.run(command, cwd=cwd, capture_output=True, check=False)
    except OSError as error:
        raise BuildError(
            f"Running the preprocessor {compiler!r} on {str(source)!r} in {str(cwd)!r} failed: "
            f"{error}. Install the compiler or pass another one with `compiler`.",
            command=command,
            first_error=str(error),
        ) from error

    if completed.returncode != 0:
        stderr = completed.stderr.decode("utf-8", errors="replace")
        first_error = _first_error_line(stderr)
        raise BuildError(
            f"Preprocessing {str(source)!r} with {compiler} -E failed "
            f"(exit status {completed.returncode}): {first_error}. "
            "Check the include paths and -D flags passed as `flags`.",
            command=command,
            first_error=first_error,
        )
    return completed.stdout.decode("utf-8", errors="surrogateescape")


def _preprocessing_flags(flags: Sequence[str]) -> list[str]:
    kept: list[str] = []
    skip_next = False
    for flag in flags:
        if skip_next:
            skip_next = False
        elif flag == "-o":
            skip_next = True
        elif flag in ("-c", "-S") or flag.startswith("-o"):
            continue
        else:
            kept.append(flag)
    return kept


def _first_error_line(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    for line in lines:
        if "error" in line:
            return line
    return lines[0] if lines else "no message on stderr"


def find_source_functions(
    preprocessed_text: str, tu: str, *, cwd: Path | None = None
) -> list[SourceFunction]:
    """Return every function definition in `preprocessed_text`, in text order.

    `tu` is the translation unit's main file. `cwd` is the directory the
    preprocessor ran in. When it is given and the original file is readable,
    `start_column` is read from the original line. Otherwise it is the column in
    the preprocessed text, which is the original column only when no run of
    several blanks precedes the name on its line, because ``gcc -E`` collapses
    such runs to one space.
    """
    return list(scan_translation_unit(preprocessed_text, tu, cwd=cwd).functions)


def scan_translation_unit(
    preprocessed_text: str, tu: str, *, cwd: Path | None = None
) -> SourceScan:
    """Parse one preprocessed translation unit; see `find_source_functions`."""
    data = preprocessed_text.encode("utf-8", errors="surrogateescape")
    line_map, parse_input = _strip_line_markers(data, os.path.normpath(tu))
    tree = tree_sitter.Parser(_C_LANGUAGE).parse(parse_input)
    columns = _ColumnFinder(cwd)

    # The query cursor does not return captures in text order.
    cursor = tree_sitter.QueryCursor(_DEFINITION_QUERY)
    nodes = cursor.captures(tree.root_node).get("definition", [])
    nodes.sort(key=lambda node: node.start_byte)

    functions: list[SourceFunction] = []
    skipped: list[SkippedDefinition] = []
    source_lines = parse_input.split(b"\n")
    for node in nodes:
        result = _read_definition(node, line_map, os.path.normpath(tu), source_lines, columns)
        if isinstance(result, SourceFunction):
            functions.append(result)
        else:
            skipped.append(result)
    return SourceScan(tuple(functions), tuple(skipped))


def _strip_line_markers(data: bytes, tu: str) -> tuple[_LineMap, bytes]:
    """Build the line map and blank the marker lines, keeping every row in place.

    tree-sitter-c has no rule for GNU markers, so leaving them in would add an
    ERROR node for each one.
    """
    line_map = _LineMap(tu)
    lines = data.split(b"\n")
    for row, line in enumerate(lines):
        if not line.lstrip(b" \t").startswith(b"#"):
            continue
        match = _LINE_MARKER.match(line)
        if match is None:
            continue
        raw_file = match.group("file")
        file = None if raw_file is None else os.path.normpath(_unescape_c_string(raw_file))
        line_map.add_marker(row, file, int(match.group("line")), match.group("flags"))
        lines[row] = b""
    return line_map, b"\n".join(lines)


def _unescape_c_string(raw: bytes) -> str:
    """Decode the body of a C string literal as gcc writes it in line markers."""

    def replace(match: re.Match[bytes]) -> bytes:
        escape = match.group(1)
        if escape[:1].isdigit():
            return bytes([int(escape, 8) & 0xFF])
        return _SIMPLE_ESCAPES.get(escape, escape)

    return _STRING_ESCAPE.sub(replace, raw).decode("utf-8", errors="surrogateescape")


def _read_definition(
    node: tree_sitter.Node,
    line_map: _LineMap,
    tu: str,
    source_lines: list[bytes],
    columns: _ColumnFinder,
) -> SourceFunction | SkippedDefinition:
    start = line_map.locate(node.start_point.row)
    declarator = node.child_by_field_name("declarator")
    body = node.child_by_field_name("body")

    if declarator is None or declarator.has_error:
        return SkippedDefinition(start.file, start.line, "broken_declarator")
    name_node = _declared_name(declarator)
    if name_node is None or name_node.text is None:
        return SkippedDefinition(start.file, start.line, "no_name")
    name = name_node.text.decode("utf-8", errors="surrogateescape")
    if name in _NOT_FUNCTION_NAMES:
        return SkippedDefinition(start.file, start.line, "no_name")
    if body is None or not _has_closing_brace(body):
        return SkippedDefinition(start.file, start.line, "unterminated_body")

    name_location = line_map.locate(name_node.start_point.row)
    end = line_map.locate(body.end_point.row)
    specifiers = _storage_class_specifiers(node)
    column = columns.find(
        name_location,
        name.encode("utf-8", errors="surrogateescape"),
        source_lines[name_node.start_point.row],
        name_node.start_point.column,
    )
    return SourceFunction(
        name=name,
        file=start.file,
        start_line=start.line,
        end_line=end.line,
        start_column=column,
        name_line=name_location.line,
        tu=tu,
        is_static="static" in specifiers,
        is_inline=bool(specifiers & _INLINE_SPECIFIERS),
        from_header=start.file != line_map.main_file,
        in_system_header=start.in_system_header,
    )


def _declared_name(declarator: tree_sitter.Node) -> tree_sitter.Node | None:
    """Follow the declarator chain to the identifier of the function's name.

    ``char *f(void)`` is pointer -> function -> identifier, and
    ``int (*f(void))(int)`` is function -> parenthesized -> pointer -> function
    -> identifier. The identifier counts only below a function declarator.
    """
    node: tree_sitter.Node | None = declarator
    below_function = False
    while node is not None:
        if node.type == "identifier":
            return node if below_function else None
        if node.type == "function_declarator":
            below_function = True
        if node.type in _DECLARATOR_WRAPPERS:
            node = node.child_by_field_name("declarator")
        elif node.type == "parenthesized_declarator":
            node = next(
                (
                    child
                    for child in node.named_children
                    if child.type == "identifier" or child.type.endswith("_declarator")
                ),
                None,
            )
        else:
            return None
    return None


def _has_closing_brace(body: tree_sitter.Node) -> bool:
    if body.type != "compound_statement" or body.child_count == 0:
        return False
    last = body.children[-1]
    return last.type == "}" and not last.is_missing


def _storage_class_specifiers(node: tree_sitter.Node) -> set[str]:
    return {
        child.text.decode("ascii", errors="replace")
        for child in node.children
        if child.type == "storage_class_specifier" and child.text is not None
    }


@functools.lru_cache(maxsize=4096)
def _whole_word(name: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"(?<![A-Za-z0-9_$])" + re.escape(name) + rb"(?![A-Za-z0-9_$])")


class _ColumnFinder:
    """Finds the original column of a function name, reading original files once each."""

    def __init__(self, cwd: Path | None) -> None:
        self._cwd = cwd
        self._files: dict[str, list[bytes] | None] = {}

    def find(
        self, location: _Location, name: bytes, preprocessed_line: bytes, preprocessed_column: int
    ) -> int:
        """Return the 1-based column of the name, falling back to the preprocessed one.

        The name is the k-th whole-word occurrence of itself in the preprocessed
        line. The k-th occurrence in the original line is taken as the same
        token. A name produced by macro expansion does not occur in the
        original line, so it keeps the preprocessed column.

        NOTE: for a name that comes out of a macro expansion, whether the macro
        builds it or passes its argument through (``BZ_API(f)``), gcc 12 writes
        the column of the macro invocation as DW_AT_decl_column, so the two differ.
        """
        original_line = self._original_line(location)
        if original_line is None:
            return preprocessed_column + 1
        word = _whole_word(name)
        before = sum(
            1 for match in word.finditer(preprocessed_line) if match.start() < preprocessed_column
        )
        original = [match.start() for match in word.finditer(original_line)]
        if before < len(original):
            return original[before] + 1
        return preprocessed_column + 1

    def _original_line(self, location: _Location) -> bytes | None:
        if self._cwd is None:
            return None
        if location.file not in self._files:
            self._files[location.file] = self._read_lines(self._cwd / location.file)
        lines = self._files[location.file]
        if lines is None or not 1 <= location.line <= len(lines):
            return None
        return lines[location.line - 1]

    @staticmethod
    def _read_lines(path: Path) -> list[bytes] | None:
        try:
            return path.read_bytes().split(b"\n")
        except OSError:
            return None
