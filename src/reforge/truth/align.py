"""Alignment of DWARF functions to source function definitions by line overlap.

A DWARF function's line span is ``[line_min, line_max]`` in its dominant file
(the file of most of its line-table rows). A source function's span is
``[start_line, end_line]`` in its original file. Paths are compared after
`normalise_path`. For each candidate in the same file::

    overlap = |DWARF span ∩ source span| / |DWARF span|      (inclusive line counts)

The rule, applied per DWARF function:

1. No ``line_min``/``line_max``: NO_MATCH, reason ``no_line_span``. A span but
   neither a dominant file nor a declaration file: NO_MATCH, ``no_source_file``.
2. Source rows with the same (file, start_line, name) are one definition: a
   header body parsed in several translation units counts once.
3. The declaration evidence of a definition is 2 when the DWARF ``decl_line``
   equals its ``name_line``, 1 when ``decl_line`` lies inside its span, and 0
   otherwise or when ``decl_file`` names another file.
4. Candidates are the definitions with overlap > 0, plus the definitions with
   evidence > 0 even without overlap: an optimised function whose own code
   was reduced to a callee inlined from a header has its line span in the
   header, while its declaration still points at its own name. None: NO_MATCH,
   reason ``no_overlap``.
5. Rank candidates by evidence, then by overlap. Evidence comes first because
   an optimised function's line span can also reach into callees inlined from
   the same file. Candidates of the top evidence level whose overlap is within
   0.05 of the best are tied. One left: MATCH. Several: name equality with the
   DWARF name breaks the tie (the only use of names). Still several:
   AMBIGUOUS, reason ``near_tie``, with the first-ranked candidate as
   `Alignment.source`.
6. A winning definition that was parsed from more than one translation unit is
   AMBIGUOUS, reason ``replicated_header_body``, because a DWARF function
   carries no compile unit here and so cannot identify its copy. Callers
   that know the compile unit can pass only that unit's source functions.

A MATCH carries a reason only when something beyond overlap decided it:
``declaration_only`` when the winner's overlap is 0, ``decl_line_preferred``
when a candidate of lower evidence had an overlap within 0.05 of the winner's
or higher, ``name_tie_break`` when names decided. `Alignment.overlap` is the
winner's overlap in every case, so a gate on overlap still
rejects a match that the line span does not confirm.

`make_stable_key` names a source function across optimisation levels::

    make_stable_key("lua", "/b/lua-5.4.4/src/lapi.c", 517, 14, "lua_pushinteger",
                    source_root=Path("/b/lua-5.4.4"))
    # -> "lua:src/lapi.c:517:14:lua_pushinteger"
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from reforge.truth.source import SourceFunction

__all__ = [
    "NEAR_TIE_MARGIN",
    "Alignment",
    "AlignmentKind",
    "DwarfLike",
    "align_functions",
    "make_stable_key",
    "normalise_path",
]

AlignmentKind = Literal["MATCH", "AMBIGUOUS", "NO_MATCH"]

NEAR_TIE_MARGIN = 0.05
"""Two overlaps closer than this are a tie."""

# Floating-point slack so that a difference of exactly 0.05 counts as a tie.
_EPSILON = 1e-9

_EVIDENCE_NAME_LINE = 2
_EVIDENCE_INSIDE_SPAN = 1
_EVIDENCE_NONE = 0


class DwarfLike(Protocol):
    """The DWARF facts that alignment reads from a function record."""

    @property
    def die_offset(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def decl_file(self) -> str | None: ...
    @property
    def decl_line(self) -> int | None: ...
    @property
    def decl_column(self) -> int | None: ...
    @property
    def dominant_file(self) -> str | None: ...
    @property
    def line_min(self) -> int | None: ...
    @property
    def line_max(self) -> int | None: ...


@dataclass(frozen=True, slots=True)
class Alignment:
    """The source definition aligned to one DWARF function, with the verdict."""

    die_offset: int
    kind: AlignmentKind
    source: SourceFunction | None
    """The aligned definition. For AMBIGUOUS, the first-ranked candidate. None for NO_MATCH."""
    overlap: float
    """Share of the DWARF line span covered by `source`, 0.0 to 1.0."""
    candidates: int
    """Number of distinct definitions with overlap > 0 (declaration-only candidates excluded)."""
    reason: str | None
    """Stable snake_case code: why AMBIGUOUS or NO_MATCH, or what decided a MATCH."""


@dataclass(frozen=True, slots=True)
class _Definition:
    function: SourceFunction
    file: str
    tus: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Candidate:
    definition: _Definition
    overlap: float
    evidence: int


def normalise_path(path: str, source_root: Path | None) -> str:
    """Return `path` normalised, and relative to `source_root` when inside it.

    Relative paths stay relative. They are read as relative to the source root.
    """
    normalised = os.path.normpath(path)
    if source_root is None or not os.path.isabs(normalised):
        return normalised
    root = os.path.normpath(os.fspath(source_root))
    if normalised == root:
        return "."
    if normalised.startswith(root.rstrip(os.sep) + os.sep):
        return os.path.relpath(normalised, root)
    return normalised


def make_stable_key(
    program: str,
    decl_file: str | None,
    decl_line: int | None,
    decl_column: int | None,
    name: str | None,
    *,
    source_root: Path | None = None,
) -> str:
    """Return ``program:decl_file:decl_line:decl_column:name`` with the file normalised.

    The key is the same for one source function in every optimisation level of
    a build, because the declaration attributes come from the source. Pass the
    build's `source_root` when the levels are built in different directories,
    so absolute paths reduce to the same relative path. Absent parts are empty.
    """
    file = "" if decl_file is None else normalise_path(decl_file, source_root)
    line = "" if decl_line is None else str(decl_line)
    column = "" if decl_column is None else str(decl_column)
    return f"{program}:{file}:{line}:{column}:{name or ''}"


def align_functions(
    dwarf_functions: Sequence[DwarfLike],
    source_functions: Sequence[SourceFunction],
    *,
    source_root: Path | None = None,
) -> list[Alignment]:
    """Align each DWARF function to at most one source definition, in input order.

    See the module docstring for the rule.
    """
    definitions = _deduplicate(source_functions, source_root)
    by_file: dict[str, list[_Definition]] = {}
    for definition in definitions:
        by_file.setdefault(definition.file, []).append(definition)

    return [_align_one(function, by_file, source_root) for function in dwarf_functions]


def _deduplicate(
    source_functions: Sequence[SourceFunction], source_root: Path | None
) -> list[_Definition]:
    """Merge rows of one definition parsed from several translation units."""
    first_rows: dict[tuple[str, int, str], SourceFunction] = {}
    tus: dict[tuple[str, int, str], set[str]] = {}
    for function in source_functions:
        key = (normalise_path(function.file, source_root), function.start_line, function.name)
        first_rows.setdefault(key, function)
        tus.setdefault(key, set()).add(function.tu)
    return [
        _Definition(function, key[0], frozenset(tus[key])) for key, function in first_rows.items()
    ]


def _align_one(
    function: DwarfLike, by_file: dict[str, list[_Definition]], source_root: Path | None
) -> Alignment:
    # Rule step 1: the DWARF function needs a line span in a known file.
    if function.line_min is None or function.line_max is None:
        return _no_match(function, "no_line_span")
    if function.line_min > function.line_max:
        raise ValueError(
            f"DWARF function at DIE offset {function.die_offset:#x} ({function.name!r}) has "
            f"line_min {function.line_min} > line_max {function.line_max}; "
            "fix the line span computed by the DWARF reader."
        )
    span = (function.line_min, function.line_max)
    span_file = function.dominant_file or function.decl_file
    if span_file is None:
        return _no_match(function, "no_source_file")

    # Rule steps 3 and 4: candidates in the span's file and the declaration's file.
    file = _resolve_file(normalise_path(span_file, source_root), by_file)
    decl_file = None
    if function.decl_file is not None:
        decl_file = _resolve_file(normalise_path(function.decl_file, source_root), by_file)
    candidates = _rank_candidates(function, span, file, decl_file, by_file)
    if not candidates:
        return _no_match(function, "no_overlap")
    overlapping = sum(1 for candidate in candidates if candidate.overlap > 0)

    # Rule steps 5 and 6: break near ties, then check for a body replicated from a header.
    best, kind, reason = _pick(function, candidates)
    if kind == "MATCH" and len(best.definition.tus) > 1:
        kind, reason = "AMBIGUOUS", "replicated_header_body"
    return Alignment(
        die_offset=function.die_offset,
        kind=kind,
        source=best.definition.function,
        overlap=best.overlap,
        candidates=overlapping,
        reason=reason,
    )


def _no_match(function: DwarfLike, reason: str) -> Alignment:
    return Alignment(function.die_offset, "NO_MATCH", None, 0.0, 0, reason)


def _resolve_file(path: str, by_file: dict[str, list[_Definition]]) -> str | None:
    """Return the source file that `path` names, matching whole trailing components.

    An exact match wins. Otherwise the source file sharing the longest run of
    trailing path components with `path` is taken when it is the only one with
    that run. This covers a source file recorded relative to the directory the
    preprocessor ran in (``lapi.c``) and a DWARF path relative to the source
    root (``src/lapi.c``).
    """
    if path in by_file:
        return path
    wanted = path.split(os.sep)
    best_length = 0
    best_files: list[str] = []
    for known in by_file:
        length = _common_suffix_length(wanted, known.split(os.sep))
        if length > best_length:
            best_length, best_files = length, [known]
        elif length == best_length and length > 0:
            best_files.append(known)
    # NOTE: a basename shared by two directories is left unresolved (no_overlap)
    # unless more trailing components decide it.
    return best_files[0] if len(best_files) == 1 else None


def _common_suffix_length(left: list[str], right: list[str]) -> int:
    length = 0
    for a, b in zip(reversed(left), reversed(right), strict=False):
        if a != b or a in ("", ".", ".."):
            break
        length += 1
    return length


def _rank_candidates(
    function: DwarfLike,
    span: tuple[int, int],
    span_file: str | None,
    decl_file: str | None,
    by_file: dict[str, list[_Definition]],
) -> list[_Candidate]:
    """Return the overlapping definitions and those the declaration points into, ranked."""
    line_min, line_max = span
    span_length = line_max - line_min + 1
    candidates: list[_Candidate] = []
    for definition in by_file.get(span_file, []) if span_file is not None else []:
        source = definition.function
        shared = min(line_max, source.end_line) - max(line_min, source.start_line) + 1
        evidence = _evidence(function, definition, decl_file)
        if shared > 0 or evidence > _EVIDENCE_NONE:
            candidates.append(_Candidate(definition, max(shared, 0) / span_length, evidence))

    # A span drawn from rows of code inlined from another file (a header's
    # static inline body) misses the function's own definition. Its
    # declaration still points into it, so such a definition competes with
    # overlap 0.
    if decl_file is not None and decl_file != span_file:
        for definition in by_file.get(decl_file, []):
            evidence = _evidence(function, definition, decl_file)
            if evidence > _EVIDENCE_NONE:
                candidates.append(_Candidate(definition, 0.0, evidence))

    # sorted() is stable, so equal candidates keep the order of the source rows.
    return sorted(candidates, key=lambda candidate: (-candidate.evidence, -candidate.overlap))


def _evidence(function: DwarfLike, definition: _Definition, decl_file: str | None) -> int:
    if function.decl_line is None or decl_file != definition.file:
        return _EVIDENCE_NONE
    source = definition.function
    if function.decl_line == source.name_line:
        return _EVIDENCE_NAME_LINE
    if source.start_line <= function.decl_line <= source.end_line:
        return _EVIDENCE_INSIDE_SPAN
    return _EVIDENCE_NONE


def _pick(
    function: DwarfLike, candidates: list[_Candidate]
) -> tuple[_Candidate, AlignmentKind, str | None]:
    """Apply step 5 of the rule to ranked candidates."""
    best = candidates[0]
    tied = [
        candidate
        for candidate in candidates
        if candidate.evidence == best.evidence
        and best.overlap - candidate.overlap <= NEAR_TIE_MARGIN + _EPSILON
    ]
    if len(tied) > 1:
        named = [c for c in tied if c.definition.function.name == function.name]
        if len(named) == 1:
            return named[0], "MATCH", "name_tie_break"
        return best, "AMBIGUOUS", "near_tie"

    # The winner is alone at its evidence level. Record when evidence, not
    # overlap, set it apart from a lower-evidence candidate.
    overruled = any(
        candidate.evidence < best.evidence
        and best.overlap - candidate.overlap <= NEAR_TIE_MARGIN + _EPSILON
        for candidate in candidates
    )
    if best.overlap == 0:
        return best, "MATCH", "declaration_only"
    return best, "MATCH", "decl_line_preferred" if overruled else None
