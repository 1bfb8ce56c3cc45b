"""Lexical features of decompiled C code as it appears inside a prompt.

Offline baselines and the scripted test server read the same prompt text a
model reads. They take the code out of its ```` ```c ```` fence and reduce it
to tokens: names of called functions, words of string literals, constants,
operators and control-flow keywords. Names the decompiler made up
(``FUN_00401136``, ``param_1``, ``uVar3``, ``DAT_00404010``) and addresses carry
no meaning, so they are dropped::

    code = extract_code(prompt)
    tokens = code_tokens(code)    # ["call:strlen", "word:usage", "op:<<", ...]
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_C_LANGUAGES = frozenset({"c", "cpp", "c++", "h"})

_STRING_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_CHAR_LITERAL = re.compile(r"'(?:[^'\\\n]|\\.){1,4}'")
_COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.DOTALL)
_IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*")
_CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*\(")
_NUMBER = re.compile(r"\b(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_OPERATORS = ("<<=", ">>=", "<<", ">>", "->", "==", "!=", "<=", ">=", "&&", "||", "++", "--")
_SINGLE_OPERATORS = "^~%|&!?*/+-<>["

# Names the decompiler invents; they carry an address or a counter, not meaning.
_GENERATED_NAME = re.compile(
    r"""^(?:
        (?:FUN|DAT|LAB|PTR|SUB|UNK|OFF|BYTE|WORD|DWORD|QWORD|thunk_FUN|switchD|caseD
           |code_r0x|joined_r0x|s|u|stack|in|extraout|unaff|local|param)_\w*
      | [a-z]{1,5}Var\d+
      | [a-z]*Stack_?\w*
      | local_res\w*
      | auStack\w*
      | _?[0-9a-fA-F]{6,}
    )$""",
    re.VERBOSE,
)

# Ghidra names string data "s_<text>_<address>"; the text in the middle is real content.
_GHIDRA_STRING_LABEL = re.compile(r"^s_(\w+?)_[0-9a-fA-F]{6,}$")

_C_KEYWORDS_TEXT = """
    auto break case char const continue default do double else enum extern float for goto
    if inline int long register restrict return short signed sizeof static struct switch
    typedef union unsigned void volatile while bool true false NULL undefined undefined1
    undefined2 undefined4 undefined8 byte uint ulong ushort uchar longlong ulonglong code
    int8_t int16_t int32_t int64_t uint8_t uint16_t uint32_t uint64_t size_t ssize_t"""
_C_KEYWORDS = frozenset(_C_KEYWORDS_TEXT.split())
_CONTROL_KEYWORDS = frozenset({"for", "while", "do", "switch", "goto", "return", "break"})

# Constants this large are almost always addresses, which differ between builds.
_MAX_CONSTANT = 0xFFFF


def extract_code(prompt: str) -> str:
    """Return the decompiled code inside `prompt`.

    Take the first fenced block tagged as C, else the first fenced block of any
    language, else the whole prompt. An unclosed fence runs to the end of the text.
    """
    blocks = [(match.group(1).lower(), match.group(2)) for match in _FENCE.finditer(prompt)]
    for language, body in blocks:
        if language in _C_LANGUAGES:
            return body
    if blocks:
        return blocks[0][1]
    return prompt


def is_generated_name(name: str) -> bool:
    """Return True for names the decompiler made up, such as ``FUN_00401136`` or ``uVar3``."""
    return bool(_GENERATED_NAME.match(name))


def split_identifier(name: str) -> list[str]:
    """Split an identifier into lower-case words at underscores, case changes and digits."""
    words: list[str] = []
    for part in name.split("_"):
        words.extend(word.lower() for word in _WORD.findall(part))
    return words


def string_literal_words(code: str) -> list[str]:
    """Return the lower-case words of the string literals in `code`, in order."""
    words: list[str] = []
    for literal in _STRING_LITERAL.findall(code):
        text = re.sub(r"\\.", " ", literal)
        words.extend(word.lower() for word in re.findall(r"[A-Za-z]{2,}", text))
    return words


def called_functions(code: str) -> list[str]:
    """Return names of called functions that are not decompiler-made, in order of first call."""
    seen: dict[str, None] = {}
    stripped = _strip_literals(code)
    for name in _CALL.findall(stripped):
        if name in _C_KEYWORDS or name in seen or is_generated_name(name):
            continue
        seen[name] = None
    return list(seen)


def code_tokens(code: str) -> list[str]:
    """Return the prefixed feature tokens of `code` for retrieval.

    Prefixes: ``call:`` called function, ``id:`` other meaningful identifier,
    ``word:`` word of a string literal or identifier, ``num:`` small constant,
    ``op:`` operator, ``kw:`` control-flow keyword.
    """
    tokens = [f"word:{word}" for word in string_literal_words(code)]
    stripped = _strip_literals(code)
    calls = set(called_functions(code))
    for name in _IDENTIFIER.findall(stripped):
        tokens.extend(_identifier_tokens(name, calls))
    for number in _NUMBER.findall(stripped):
        value = int(number.rstrip("uUlL"), 0)
        if value <= _MAX_CONSTANT:
            tokens.append(f"num:{value}")
    tokens.extend(f"op:{operator}" for operator in _operators(stripped))
    return tokens


def _identifier_tokens(name: str, calls: set[str]) -> list[str]:
    if name in _CONTROL_KEYWORDS:
        return [f"kw:{name}"]
    label = _GHIDRA_STRING_LABEL.match(name)
    if label:
        return [f"word:{word}" for word in split_identifier(label.group(1))]
    if name in _C_KEYWORDS or is_generated_name(name) or name.isdigit():
        return []
    prefix = "call" if name in calls else "id"
    return [f"{prefix}:{name}", *(f"word:{word}" for word in split_identifier(name))]


def _operators(code: str) -> list[str]:
    found: list[str] = []
    index = 0
    while index < len(code):
        for operator in _OPERATORS:
            if code.startswith(operator, index):
                found.append(operator)
                index += len(operator)
                break
        else:
            if code[index] in _SINGLE_OPERATORS:
                found.append(code[index])
            index += 1
    return found


def _strip_literals(code: str) -> str:
    code = _COMMENT.sub(" ", code)
    code = _STRING_LITERAL.sub(" ", code)
    return _CHAR_LITERAL.sub(" ", code)
