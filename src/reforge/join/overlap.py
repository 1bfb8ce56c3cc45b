"""Join DWARF address ranges to decompiled function bodies by overlap.

All ranges are half-open ``[start, end)`` ELF virtual addresses. A DWARF
function's *coverage* by a decompiled function is the number of its bytes
that the decompiled body also covers, divided by its own size::

    match = join_ranges([(0x401000, 0x401040)], candidates)
    match.kind  # "JOINED_STRONG" when one body covers >= 90 % of the range

Rules: the best candidate covers >= 0.90 -> ``JOINED_STRONG``; 0.30 to 0.90
-> ``JOINED_WEAK``; a runner-up within 0.05 of the best coverage (and the
best at least 0.30) -> ``MULTI_MATCH``; otherwise ``NO_MATCH``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

MatchKind = Literal["JOINED_STRONG", "JOINED_WEAK", "MULTI_MATCH", "NO_MATCH"]

STRONG_COVERAGE = 0.90
WEAK_COVERAGE = 0.30
TIE_MARGIN = 0.05
# Absorbs rounding in the difference of two coverages, so that a gap of exactly
# TIE_MARGIN (0.55 - 0.50 is 0.05000000000000004 in binary floating point)
# counts as a tie like any other gap within the margin.
_TIE_TOLERANCE = 1e-9

Range = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A decompiled function that may join: its key and its body ranges."""

    key: int
    ranges: Sequence[Range]


@dataclass(frozen=True, slots=True)
class RangeMatch:
    """The outcome of joining one DWARF function."""

    kind: MatchKind
    best_key: int | None
    coverage: float
    candidates: int
    runner_up_coverage: float


def range_size(ranges: Iterable[Range]) -> int:
    """Return the number of bytes covered by `ranges` (assumed disjoint)."""
    return sum(max(0, end - start) for start, end in ranges)


def overlap_bytes(left: Sequence[Range], right: Sequence[Range]) -> int:
    """Return the number of bytes that two disjoint range lists share."""
    total = 0
    for left_start, left_end in left:
        for right_start, right_end in right:
            start = max(left_start, right_start)
            end = min(left_end, right_end)
            if end > start:
                total += end - start
    return total


def join_ranges(dwarf_ranges: Sequence[Range], candidates: Sequence[Candidate]) -> RangeMatch:
    """Join one DWARF function's ranges to the best decompiled body."""
    size = range_size(dwarf_ranges)
    if size == 0:
        return RangeMatch("NO_MATCH", None, 0.0, 0, 0.0)

    scored = sorted(
        (
            (overlap_bytes(dwarf_ranges, candidate.ranges) / size, candidate.key)
            for candidate in candidates
        ),
        key=lambda item: (-item[0], item[1]),
    )
    scored = [item for item in scored if item[0] > 0]
    if not scored:
        return RangeMatch("NO_MATCH", None, 0.0, 0, 0.0)

    best_coverage, best_key = scored[0]
    runner_up = scored[1][0] if len(scored) > 1 else 0.0
    if best_coverage < WEAK_COVERAGE:
        kind: MatchKind = "NO_MATCH"
    elif len(scored) > 1 and best_coverage - runner_up <= TIE_MARGIN + _TIE_TOLERANCE:
        kind = "MULTI_MATCH"
    elif best_coverage >= STRONG_COVERAGE:
        kind = "JOINED_STRONG"
    else:
        kind = "JOINED_WEAK"
    return RangeMatch(kind, best_key, best_coverage, len(scored), runner_up)


class RangeIndex:
    """Find decompiled bodies that overlap an address range without a full scan."""

    def __init__(self, candidates: Iterable[Candidate]) -> None:
        pieces = sorted(
            (
                (start, end, candidate)
                for candidate in candidates
                for start, end in candidate.ranges
                if end > start
            ),
            key=lambda piece: (piece[0], piece[1], piece[2].key),
        )
        self._pieces = pieces
        self._starts = [piece[0] for piece in pieces]
        self._max_length = max((end - start for start, end, _ in pieces), default=0)

    def overlapping(self, ranges: Sequence[Range]) -> list[Candidate]:
        """Return the candidates with at least one byte inside `ranges`."""
        found: dict[int, Candidate] = {}
        for start, end in ranges:
            # A piece that starts more than the longest piece's length before
            # `start` cannot reach it, so the scan begins there.
            index = bisect_left(self._starts, start - self._max_length)
            while index < len(self._pieces) and self._pieces[index][0] < end:
                _, piece_end, candidate = self._pieces[index]
                if piece_end > start:
                    found[candidate.key] = candidate
                index += 1
        return list(found.values())
