"""Leak audit: does the text a model reads already contain the true name?

Stripping removes symbols, but some identifiers survive in the binary: an
``assert`` message carries ``__func__``, an error string names its function,
an exported or imported symbol keeps its name. A model that reads such text
can copy the answer, so every joined function gets a ``leak`` flag and the
report splits results by it.

Only text that can carry a surviving identifier is searched: the contents of
string literals and the names that are not decompiler vocabulary (import
names such as ``deflateInit_``, data symbols such as ``stderr``). Skipped are
comments (the decompiler's ``/* WARNING: ... */`` lines), C keywords, Ghidra's
type names (``undefined8``, ``uint``, ``byte``, ``code``), its P-code operators
(``CONCAT44``, ``SUB84``) and generated names (``FUN_``, ``DAT_``,
``param_N``, ``local_XX``, ``uVarN``). The function leaks when its whole name
occurs there, or when one of its name tokens of three or more characters
(tokens as the scorer splits them, minus the generic words in
`GENERIC_TOKENS`) occurs as a token there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from reforge.scoring.tokens import split_name_tokens

MIN_TOKEN_LENGTH = 3
GENERIC_TOKENS = frozenset(
    {"get", "set", "new", "the", "and", "for", "not", "with", "from", "main", "func", "function"}
)

# One pass over comments, string literals and character literals, so that a
# quote inside a comment or a comment marker inside a literal is not misread.
# Group 1 is the content of a string literal.
_SEGMENT = re.compile(
    r"/\*.*?\*/"  # block comment
    r"|//[^\n]*"  # line comment
    r'|"((?:[^"\\\n]|\\.)*)"'  # string literal
    r"|'(?:[^'\\\n]|\\.)*'",  # character literal
    re.DOTALL,
)
# The look-behind keeps the ``x10`` of ``0x10`` from reading as an identifier.
_IDENTIFIER = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*")
C_KEYWORDS = frozenset(
    {
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double",
        "else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
        "register", "restrict", "return", "short", "signed", "sizeof", "static", "struct",
        "switch", "typedef", "union", "unsigned", "void", "volatile", "while", "_Bool",
        "bool", "true", "false", "NULL",
    }
)  # fmt: skip
# Type names and built-in operators that Ghidra's C output uses on its own.
GHIDRA_WORDS = frozenset(
    {
        "undefined", "byte", "sbyte", "uchar", "ushort", "uint", "ulong", "longlong",
        "ulonglong", "word", "dword", "qword", "code", "float10", "wchar_t", "wchar16",
        "wchar32", "NAN", "ABS", "SQRT", "ROUND", "TRUNC", "CEIL", "FLOOR", "POPCOUNT",
        "LZCOUNT", "halt_baddata", "halt_unimplemented", "software_interrupt",
    }
)  # fmt: skip
_GHIDRA_SIZED = re.compile(
    r"^(?:undefined|unkbyte|unkuint|unkint|u?int|float|CONCAT|SUB|ZEXT|SEXT|CARRY|SCARRY"
    r"|SBORROW)\d+$"
)
_GENERATED = re.compile(
    r"^(?:FUN|DAT|PTR|LAB|SUB|UNK|thunk_FUN|switchD|caseD|code_r0x)_[0-9a-fA-F_x]*"
    r"|^(?:param|local|in|extraout|unaff|stack|auStack|uStack|iStack|lStack|pcStack)_\w+$"
    r"|^[a-z]{1,3}Var\d+$|^(?:bVar|cVar|uVar|iVar|lVar|pVar|sVar|fVar|dVar)\d+$"
)


@dataclass(frozen=True, slots=True)
class LeakReport:
    """Whether a function's true name is visible in its LLM-facing text."""

    leak: bool
    full_name: bool
    tokens: tuple[str, ...]


def is_decompiler_word(word: str) -> bool:
    """Check whether an identifier comes from the decompiler, not from the binary."""
    return (
        word in C_KEYWORDS
        or word in GHIDRA_WORDS
        or _GHIDRA_SIZED.match(word) is not None
        or _GENERATED.match(word) is not None
    )


def surviving_text(texts: Iterable[str | None]) -> tuple[list[str], list[str]]:
    """Split texts into string-literal contents and identifiers that may come from the binary."""
    literals: list[str] = []
    identifiers: list[str] = []
    for text in texts:
        if not text:
            continue
        literals.extend(
            match.group(1) for match in _SEGMENT.finditer(text) if match.group(1) is not None
        )
        code = _SEGMENT.sub(" ", text)
        identifiers.extend(
            word for word in _IDENTIFIER.findall(code) if not is_decompiler_word(word)
        )
    return literals, identifiers


def audit_leak(true_name: str | None, texts: Iterable[str | None]) -> LeakReport:
    """Check whether `true_name` or one of its tokens occurs in surviving text."""
    if not true_name:
        return LeakReport(False, False, ())
    literals, identifiers = surviving_text(texts)

    name_pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(true_name)}(?![A-Za-z0-9_])")
    full_name = true_name in identifiers or any(name_pattern.search(text) for text in literals)

    visible_tokens: set[str] = set()
    for fragment in [*literals, *identifiers]:
        for word in _IDENTIFIER.findall(fragment):
            visible_tokens.update(split_name_tokens(word))
    wanted = [
        token
        for token in dict.fromkeys(split_name_tokens(true_name))
        if len(token) >= MIN_TOKEN_LENGTH and token not in GENERIC_TOKENS and not token.isdigit()
    ]
    tokens = tuple(token for token in wanted if token in visible_tokens)
    return LeakReport(full_name or bool(tokens), full_name, tokens)
