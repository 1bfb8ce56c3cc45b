"""Synonym table: groups of name tokens that count as the same word.

Function names abbreviate freely (``buf``/``buffer``, ``init``/``initialize``,
``len``/``length``), so plain token overlap undercounts predictions that use a
different spelling of the right word. The synonym-aware metric maps every
token to the canonical word of its group before counting overlap::

    table = load_synonym_table()
    table.canonicalise(["init", "buf"])  # ['initialize', 'buffer']

Source of the idea: SymLM (Jin et al., CCS 2022) scores predictions with a
public evaluation script, ``training_evaluation/evaluation.py`` in the
OSUSecLab/SymLM repository. That script replaces a predicted word by a true
word when both fall in the same CodeWordNet cluster, and only then counts word
overlap. The evaluation script
of Shang et al., "An Empirical Study on the Effectiveness of Large Language
Models for Binary Code Understanding" (arXiv 2504.21803), likewise extends
each true word with a list of related words. CodeWordNet is a learned embedding; reforge uses a
short hand-written table instead (``synonyms.toml`` next to this module), so
that a score never depends on a trained model and every equivalence can be
reviewed. The table's contents are reforge's own.

The table is read once per path and cached for the life of the process; call
``load_synonym_table.cache_clear()`` after editing a table file in place.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from types import MappingProxyType

from reforge.errors import ConfigError
from reforge.scoring.tokens import split_name_tokens

DEFAULT_TABLE_NAME = "synonyms.toml"


class SynonymTableError(ConfigError):
    """A synonym table file is missing, is not valid TOML or breaks the table rules."""


@dataclass(frozen=True, slots=True, eq=False)
class SynonymTable:
    """Groups of interchangeable name tokens, keyed by their canonical word."""

    groups: Mapping[str, frozenset[str]]
    """Canonical word -> every word of its group, the canonical word included."""
    source: str
    """Origin of the table: a file path, or ``<built-in synonyms.toml>``."""
    sha256: str
    """SHA-256 of the table text, to record which table produced a score."""
    _canonical: dict[str, str] = field(repr=False, compare=False)

    def canonical_token(self, token: str) -> str:
        """Return the canonical word of `token`'s group, or `token` when it is in no group."""
        return self._canonical.get(token, token)

    def canonicalise(self, tokens: Iterable[str]) -> list[str]:
        """Map every token to its canonical word, keeping order and repeats."""
        return [self._canonical.get(token, token) for token in tokens]


def parse_synonym_table(text: str, *, source: str) -> SynonymTable:
    """Build a table from TOML text with a ``[groups]`` table of ``word = [variants]``.

    Raises `SynonymTableError` when the text is not TOML, has no ``[groups]``
    table, contains an entry that is not a single lower-case name token, or puts
    one word into two groups. `source` only appears in error messages and in
    `SynonymTable.source`.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SynonymTableError(
            f"synonym table {source} is not valid TOML ({error}); fix the syntax at that line"
        ) from error

    raw_groups = document.get("groups")
    if not isinstance(raw_groups, dict):
        raise SynonymTableError(
            f"synonym table {source} has no [groups] table; "
            'write one line per group, e.g. buffer = ["buf", "buff"]'
        )

    groups: dict[str, frozenset[str]] = {}
    canonical: dict[str, str] = {}
    for key, variants in raw_groups.items():
        words = _group_words(key, variants, source)
        for word in words:
            if word in canonical:
                raise SynonymTableError(
                    f"synonym table {source}: word {word!r} is in group {canonical[word]!r} "
                    f"and in group {key!r}; a word may belong to one group only"
                )
            canonical[word] = key
        groups[key] = frozenset(words)

    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return SynonymTable(
        groups=MappingProxyType(groups), source=source, sha256=digest, _canonical=canonical
    )


@functools.cache
def load_synonym_table(path: str | Path | None = None) -> SynonymTable:
    """Load a synonym table file, or the built-in ``synonyms.toml`` when `path` is None.

    Cached per `path`, so repeated scoring reads each file once.
    Raises `SynonymTableError` when the file cannot be read or is invalid.
    """
    if path is None:
        resource = resources.files("reforge.scoring").joinpath(DEFAULT_TABLE_NAME)
        return parse_synonym_table(
            resource.read_text(encoding="utf-8"), source=f"<built-in {DEFAULT_TABLE_NAME}>"
        )

    table_path = Path(path)
    try:
        text = table_path.read_text(encoding="utf-8")
    except OSError as error:
        raise SynonymTableError(
            f"cannot read synonym table {str(table_path)!r} ({error.strerror}); "
            "pass the path of an existing TOML file, or None for the built-in table"
        ) from error
    return parse_synonym_table(text, source=str(table_path))


def _group_words(key: str, variants: object, source: str) -> list[str]:
    """Validate one ``key = [variants]`` entry and return its words, key first."""
    if not isinstance(variants, list) or not all(isinstance(item, str) for item in variants):
        raise SynonymTableError(
            f"synonym table {source}: group {key!r} must be a list of strings, got {variants!r}"
        )

    words = [key, *variants]
    for word in words:
        if split_name_tokens(word) != [word]:
            raise SynonymTableError(
                f"synonym table {source}: {word!r} in group {key!r} is not a single "
                f"lower-case name token (it splits into {split_name_tokens(word)!r}); "
                "use lower-case letters only, or digits only"
            )
    if len(set(words)) != len(words):
        raise SynonymTableError(
            f"synonym table {source}: group {key!r} lists a word twice: {words!r}"
        )
    return words
