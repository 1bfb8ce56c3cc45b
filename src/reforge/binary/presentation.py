"""Ghidra-style presentation of the decompiler's C text (``c_decompiler`` -> ``c_raw``).

flatline prints the decompiler core's names, while Ghidra's GUI prints the names
from its database. The rewrite maps one to the other::

    func_401196 / func_0x00401220      ->  FUN_00401196 / FUN_00401220, puts, entry
    (*pcRam0000000000403fd8)(...)      ->  __libc_start_main(...)       (import GOT slot)
    xRam0000000000404080               ->  stderr / PTR_free_00404000 / DAT_00404080
    f(0x402015)  x = 0x404070;         ->  f("fatal: %s\\n")  x = &DAT_00404070;
    xunknown8 int4 uint1 float8        ->  undefined8 int byte double
    xStack_c  axStack_8  xVar2         ->  local_c  local_8  uVar2
    goto code_r0x00401235;             ->  goto LAB_00401235;

A call to a no-return function that `reforge.binary.patching` turned into a jump
reads ``x = exit(1); return x;``; it becomes Ghidra's
``/* WARNING: Subroutine does not return */`` comment and the bare call.

The text is split into code, comments and string or character literals first, and
only code is rewritten, always on whole identifiers (word boundaries), so a comment
or a string such as ``"xunknown8_foo"`` is never changed.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from reforge.binary.patching import PatchedImage

NORETURN_COMMENT = "/* WARNING: Subroutine does not return */"
_COMMENT_INDENT = " " * 20

_DISPLAY_TYPES = {
    "xunknown1": "undefined",
    "int1": "char",
    "int2": "short",
    "int4": "int",
    "int8": "long",
    "uint1": "byte",
    "uint2": "ushort",
    "uint4": "uint",
    "uint8": "ulong",
    "float4": "float",
    "float8": "double",
    "float10": "float10",
}
_TYPE_TOKEN = re.compile(r"\b(?:xunknown(\d+)|u?int[1248]|float(?:4|8|10))\b")
_SEGMENTS = re.compile(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'", re.DOTALL)
_OWN_NAME = re.compile(r"\bfunc_([0-9a-f]+)\b")
_LABEL = re.compile(r"\bcode_r0x([0-9a-f]+)\b")
_CALL_NAME = re.compile(r"\bfunc_0x([0-9a-f]+)\b")
_GOT_CALL = re.compile(r"\(\*[a-z]{1,6}Ram([0-9a-f]{8,16})\)(?=\s*\()")
_RAM = re.compile(r"\b[a-z]{1,6}Ram([0-9a-f]{8,16})\b")
_STACK_VAR = re.compile(r"\b[a-z]{1,6}Stack_([0-9a-f]+)\b")
_UNDEFINED_PREFIX = re.compile(r"\b([pa]*)x(Var\d+)\b")
_IDENTIFIER = re.compile(r"\b[A-Za-z_]\w*\b")
_ADDRESS_CONSTANT = re.compile(
    r"(?P<before>[(,]|= |return )(?P<cast>\([\w ]+\*+\))?(?P<value>0x[0-9a-f]+)(?=[,);])"
)
_NORETURN_CALL = re.compile(
    r"^(?P<indent>[ \t]*)(?:(?P<var>\w+) = )?(?P<call>func_0x(?P<address>[0-9a-f]+)\([^;]*\));\n"
    r"(?P=indent)return(?: [^;\n]+)?;\n",
    re.MULTILINE,
)
_MAX_STRING = 4096
_STRING_ESCAPES = {
    0x0A: "\\n",
    0x09: "\\t",
    0x0D: "\\r",
    0x0B: "\\v",
    0x0C: "\\f",
    0x22: '\\"',
    0x5C: "\\\\",
    0x1B: "\\033",
}
_STRING_BYTES = frozenset(range(0x20, 0x7F)) | frozenset(_STRING_ESCAPES)


@dataclass(frozen=True, slots=True)
class Symbols:
    """Naming tables of one binary, built once and shared with the workers."""

    image: bytes
    image_base: int
    function_names: dict[int, str]
    """Ghidra address -> name of every known function (``FUN_%08x``, ``entry``, exports)."""
    plt_stubs: dict[int, str]
    got_slots: dict[int, str]
    data_symbols: dict[int, str]
    noreturn: frozenset[int]
    code_ranges: tuple[tuple[int, int], ...]
    readonly_ranges: tuple[tuple[int, int], ...]
    data_ranges: tuple[tuple[int, int], ...]
    writable_ranges: tuple[tuple[int, int], ...]
    """Writable data, where a qword holding an image address is shown as ``PTR_``."""

    def function_name(self, address: int) -> str:
        """Return the Ghidra name of a call target or function address."""
        name = self.function_names.get(address) or self.plt_stubs.get(address)
        return name if name is not None else fun_name(address)

    def data_name(self, address: int) -> str:
        """Return the Ghidra label of a data address (``DAT_``, ``PTR_``, import data)."""
        if address in self.data_symbols:
            return self.data_symbols[address]
        if address in self.got_slots:
            return f"PTR_{self.got_slots[address]}_{address:08x}"
        if address in self.function_names:
            return self.function_names[address]
        target = self._pointer_at(address)
        if target is not None:
            return f"PTR_{self._label(target)}_{address:08x}"
        return f"DAT_{address:08x}"

    def string_at(self, address: int) -> str | None:
        """Return the C literal of a NUL-terminated printable string in read-only data."""
        if not _in_ranges(address, self.readonly_ranges):
            return None
        offset = address - self.image_base
        end = self.image.find(b"\x00", offset, offset + _MAX_STRING)
        if end <= offset:
            return None
        raw = self.image[offset:end]
        if not all(byte in _STRING_BYTES for byte in raw):
            return None
        return '"' + "".join(_STRING_ESCAPES.get(byte, chr(byte)) for byte in raw) + '"'

    def in_code(self, address: int) -> bool:
        return _in_ranges(address, self.code_ranges)

    def in_data(self, address: int) -> bool:
        return _in_ranges(address, self.data_ranges)

    def _pointer_at(self, address: int) -> int | None:
        if address % 8 or not _in_ranges(address, self.writable_ranges):
            return None
        offset = address - self.image_base
        value = int.from_bytes(self.image[offset : offset + 8], "little")
        if self.image_base <= value < self.image_base + len(self.image):
            return value
        return None

    def _label(self, address: int) -> str:
        if address in self.function_names or address in self.plt_stubs:
            return self.function_name(address)
        if address in self.data_symbols:
            return self.data_symbols[address]
        literal = self.string_at(address)
        if literal is not None:
            return "s_" + re.sub(r"\W+", "_", literal[1:-1])[:24].strip("_") + f"_{address:08x}"
        return f"DAT_{address:08x}"


@dataclass(frozen=True, slots=True)
class Presentation:
    """The rewritten text and the variable renames it applied."""

    text: str
    renames: dict[str, str]
    """Decompiler variable name -> displayed name (``xStack_c`` -> ``local_c``)."""


def fun_name(address: int) -> str:
    """Return Ghidra's default name of a function at a Ghidra address."""
    return f"FUN_{address:08x}"


def ghidra_type_name(name: str) -> str:
    """Map a decompiler type name (``xunknown8 *``, ``int4``) to Ghidra's display name."""
    return _TYPE_TOKEN.sub(_display_type, name)


def present(code: str, symbols: Symbols, patched: PatchedImage | None = None) -> Presentation:
    """Rewrite the decompiler's text of one function into Ghidra's style."""
    resolve: Callable[[int], int] = patched.resolve_call_target if patched else (lambda a: a)
    text = _mark_noreturn_calls(code, symbols, resolve)
    renames = _variable_renames(text)
    rewrite_code = _code_rewriter(symbols, patched, resolve, renames)
    return Presentation(text=_map_code_segments(text, rewrite_code), renames=renames)


def _code_rewriter(
    symbols: Symbols,
    patched: PatchedImage | None,
    resolve: Callable[[int], int],
    renames: Mapping[str, str],
) -> Callable[[str], str]:
    def function_ref(match: re.Match[str]) -> str:
        return symbols.function_name(resolve(int(match.group(1), 16)))

    def own_or_other(match: re.Match[str]) -> str:
        address = int(match.group(1), 16)
        return symbols.function_names.get(address) or fun_name(address)

    def got_call(match: re.Match[str]) -> str:
        address = int(match.group(1), 16)
        if address in symbols.got_slots:
            return symbols.got_slots[address]
        return f"(*(code *){symbols.data_name(address)})"

    def label(match: re.Match[str]) -> str:
        address = int(match.group(1), 16)
        stub = patched.stub_at(address) if patched is not None else None
        return f"LAB_{stub.site if stub is not None else address:08x}"

    def ram(match: re.Match[str]) -> str:
        return symbols.data_name(int(match.group(1), 16))

    def variable(match: re.Match[str]) -> str:
        return renames.get(match.group(0), match.group(0))

    def constant(match: re.Match[str]) -> str:
        replacement = _constant_name(int(match.group("value"), 16), symbols, match.group("cast"))
        if replacement is None:
            return match.group(0)
        return match.group("before") + replacement

    def rewrite(segment: str) -> str:
        segment = _CALL_NAME.sub(function_ref, segment)
        segment = _OWN_NAME.sub(own_or_other, segment)
        segment = _LABEL.sub(label, segment)
        segment = _GOT_CALL.sub(got_call, segment)
        segment = _RAM.sub(ram, segment)
        segment = _IDENTIFIER.sub(variable, segment)
        segment = _TYPE_TOKEN.sub(_display_type, segment)
        return _ADDRESS_CONSTANT.sub(constant, segment)

    return rewrite


def _constant_name(value: int, symbols: Symbols, cast: str | None) -> str | None:
    """Return what Ghidra shows for an address constant, or None to keep the number."""
    if symbols.in_code(value):
        if value in symbols.function_names or value in symbols.plt_stubs:
            return symbols.function_name(value)
        return None
    literal = symbols.string_at(value)
    if literal is not None:
        return literal
    if symbols.in_data(value):
        shown_cast = ghidra_type_name(cast) if cast else ""
        return f"{shown_cast}&{symbols.data_name(value)}"
    return None


def _mark_noreturn_calls(code: str, symbols: Symbols, resolve: Callable[[int], int]) -> str:
    """Turn ``v = f(...); return v;`` after a no-return call into Ghidra's bare call."""
    dropped: list[str] = []

    def replace(match: re.Match[str]) -> str:
        target = resolve(int(match.group("address"), 16))
        if target not in symbols.noreturn:
            return match.group(0)
        if match.group("var"):
            dropped.append(match.group("var"))
        indent = match.group("indent")
        return f"{_COMMENT_INDENT}{NORETURN_COMMENT}\n{indent}{match.group('call')};\n"

    text = _NORETURN_CALL.sub(replace, code)
    for name in dropped:
        text = _drop_unused_declaration(text, name)
    return text


def _drop_unused_declaration(text: str, name: str) -> str:
    """Remove ``  type name;`` when `name` is used nowhere else in the function."""
    uses = re.findall(rf"\b{re.escape(name)}\b", text)
    if len(uses) != 1:
        return text
    return re.sub(
        rf"^[ \t]+[\w ]+?[ *]+{re.escape(name)};\n", "", text, count=1, flags=re.MULTILINE
    )


def _variable_renames(text: str) -> dict[str, str]:
    """Choose Ghidra names for stack (``local_XX``) and undefined-typed (``uVarN``) variables."""
    code_only = "".join(_code_segments(text))
    taken = set(_IDENTIFIER.findall(code_only))
    renames: dict[str, str] = {}
    for match in _STACK_VAR.finditer(code_only):
        old = match.group(0)
        if old not in renames:
            renames[old] = _fresh(f"local_{match.group(1)}", taken)
    for match in _UNDEFINED_PREFIX.finditer(code_only):
        old = match.group(0)
        if old not in renames:
            renames[old] = _fresh(f"{match.group(1)}u{match.group(2)}", taken)
    return renames


def _fresh(name: str, taken: set[str]) -> str:
    """Return `name`, or `name_1`, `name_2`... if it is already used, and reserve it."""
    candidate, suffix = name, 0
    while candidate in taken:
        suffix += 1
        candidate = f"{name}_{suffix}"
    taken.add(candidate)
    return candidate


def _display_type(match: re.Match[str]) -> str:
    token = match.group(0)
    if token in _DISPLAY_TYPES:
        return _DISPLAY_TYPES[token]
    if match.group(1) is not None:
        return f"undefined{match.group(1)}"
    return token


def _map_code_segments(text: str, rewrite: Callable[[str], str]) -> str:
    parts: list[str] = []
    position = 0
    for match in _SEGMENTS.finditer(text):
        parts.append(rewrite(text[position : match.start()]))
        parts.append(match.group(0))
        position = match.end()
    parts.append(rewrite(text[position:]))
    return "".join(parts)


def _code_segments(text: str) -> Iterable[str]:
    position = 0
    for match in _SEGMENTS.finditer(text):
        yield text[position : match.start()]
        yield " "
        position = match.end()
    yield text[position:]


def _in_ranges(address: int, ranges: tuple[tuple[int, int], ...]) -> bool:
    index = bisect_right(ranges, (address, float("inf"))) - 1
    return index >= 0 and ranges[index][0] <= address < ranges[index][1]
