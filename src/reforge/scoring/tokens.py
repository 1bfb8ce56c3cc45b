"""Name tokens: how a function name splits into words, and which names carry no information.

Every name-level metric compares tokens, and the same splitter serves both the
prediction and the ground truth, so ``parse_header``, ``parseHeader`` and
``ParseHeader`` all become ``["parse", "header"]``::

    >>> split_name_tokens("XMLHttpRequest")
    ['xml', 'http', 'request']

Splitting rules, applied in this order:

1. Every character other than an ASCII letter or digit separates tokens
   (``_``, ``-``, ``.``, ``$``, ``:``, ``@``, spaces, ...).
2. A lower-case letter followed by an upper-case one starts a new token
   (``parseHeader`` -> parse, header).
3. A run of capitals is one token (an acronym); when a capitalised word follows
   it, the acronym's last capital starts that word (``XMLHttp`` -> xml, http;
   ``parseHTTPHeader`` -> parse, http, header).
4. Digits are tokens of their own: a run of digits is split from the letters
   around it (``get_utf8_len`` -> get, utf, 8, len; ``sha256`` -> sha, 256).
   Versioned words therefore keep their number as a separate token, which the
   token metrics count like any other word.
5. Tokens are lower-cased; empty tokens never occur in the output.

NOTE: rule 3 cannot tell a plural acronym from an acronym followed by a word,
so ``URLs`` splits into ``ur``, ``ls``. The same happens on both sides of a
comparison, so it only costs a match when one side writes ``urls``.

Names that are not ASCII identifiers lose their non-ASCII characters as
separators; C function names are ASCII, so this only affects odd predictions.
"""

from __future__ import annotations

import re

# One regex alternative per token shape, tried left to right at each position:
# an acronym directly before a capitalised word, a (capitalised) lower-case
# word, a run of capitals, a run of digits.
_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")

# Names that decompilers and disassemblers invent for unnamed code and data:
# Ghidra (FUN_00401000, thunk_FUN_..., LAB_, DAT_, PTR_, SUB_, UNK_), IDA
# (sub_401000, loc_, nullsub_, j_sub_), radare2 (fcn.00401000) and the
# func_0x... form some tools print. The address part must contain a decimal
# digit or start with 0x, so that real words made of hex letters such as
# ``sub_add`` or ``dat_bad`` are not mistaken for placeholders.
_PLACEHOLDER = re.compile(
    r"^(?:thunk_|j_)?"
    r"(?:fun|func|function|fcn|sub|nullsub|loc|lab|dat|ptr|unk)[_.]"
    r"(?:0x[0-9a-f]+|(?=[0-9a-f]*[0-9])[0-9a-f]+)$",
    re.IGNORECASE,
)

# A bare address such as 0x401000 or 00401000. Without the 0x prefix it needs
# four or more hex digits including a decimal one, so ``add`` or ``cafe`` stay names.
_ADDRESS = re.compile(r"^(?:0x[0-9a-f]+|(?=[0-9a-f]*[0-9])[0-9a-f]{4,})$", re.IGNORECASE)

GENERIC_NAME_TOKENS: frozenset[str] = frozenset(
    {
        # words that name "a function" rather than what it does
        "fn",
        "fun",
        "func",
        "funct",
        "function",
        "method",
        "procedure",
        "proc",
        "routine",
        "sub",
        "subroutine",
        "stub",
        "helper",
        "helpers",
        "util",
        "utils",
        "utility",
        "code",
        # words that admit the name is unknown
        "unknown",
        "unk",
        "unnamed",
        "noname",
        "anonymous",
        "anon",
        "placeholder",
        "dummy",
        "generic",
        "misc",
        # filler verbs, nouns and determiners
        "do",
        "does",
        "something",
        "stuff",
        "thing",
        "things",
        "some",
        "my",
        "the",
        "a",
        "an",
        "tmp",
        "temp",
        # metasyntactic variables
        "foo",
        "bar",
        "baz",
        "qux",
    }
)
"""Tokens that carry no information about what a function does.

A name made only of these tokens, single letters and numbers counts as a
trivial prediction (``do_something``, ``helper``, ``func1``). ``main`` is not
in the set: predicting ``main`` is a real claim that the function is the
program's entry point, scored as right or wrong like any other name.
"""


def split_name_tokens(name: str) -> list[str]:
    """Split a function name into lower-case word tokens (rules in the module docstring)."""
    return [match.group(0).lower() for match in _TOKEN.finditer(name)]


def normalise_name(name: str) -> str:
    """Return the canonical spelling of a name, used by ``exact_match_norm``.

    The tokens of `name` joined with ``_``. Two names are equal after this
    normalisation when they differ only in case, in separators (``_``, ``-``,
    ``.``, ``$``, spaces), in camelCase versus snake_case, in leading or
    trailing underscores (``__libc_foo`` -> ``libc_foo``) or in where digits
    attach (``utf8len`` and ``utf_8_len`` both become ``utf_8_len``). Nothing
    else is folded: abbreviations, synonyms and plurals stay distinct, and
    compiler suffixes such as ``.constprop.0`` stay as tokens.
    A name without letters or digits normalises to the empty string.
    """
    return "_".join(split_name_tokens(name))


def is_trivial_prediction(name: str | None) -> bool:
    """Check whether a predicted name carries no information about the function.

    These names are trivial:

    - ``None``, empty or blank names;
    - decompiler and disassembler placeholders (``FUN_00401000``,
      ``thunk_FUN_00401000``, ``LAB_...``, ``DAT_...``, ``sub_401000``,
      ``func_0x401000``, ``fcn.00401000``) and bare addresses (``0x401000``);
    - names whose tokens, ignoring numbers, are all single letters or words
      from `GENERIC_NAME_TOKENS` (``f``, ``x1``, ``function``,
      ``do_something``, ``helper``, ``func1``, ``unknown``).

    The check looks at the name alone. `score_prediction` clears the flag when
    the prediction equals the true name after normalisation, so predicting
    ``helper`` for a function really called ``helper`` is not trivial.
    """
    if name is None:
        return True
    stripped = name.strip()
    if not stripped:
        return True
    if _PLACEHOLDER.match(stripped) or _ADDRESS.match(stripped):
        return True

    words = [token for token in split_name_tokens(stripped) if not token.isdigit()]
    return all(len(word) == 1 or word in GENERIC_NAME_TOKENS for word in words)
