"""Join by address overlap: half-open ranges, coverage thresholds, ties and the range index."""

from __future__ import annotations

import pytest

from reforge.join.overlap import (
    Candidate,
    RangeIndex,
    join_ranges,
    overlap_bytes,
    range_size,
)

DWARF_100 = [(0x401000, 0x401064)]  # 100 bytes


def covering(key: int, covered_bytes: int, start: int = 0x401000) -> Candidate:
    """A candidate whose single piece covers the first `covered_bytes` of `start`."""
    return Candidate(key, [(start, start + covered_bytes)])


def test_touching_ranges_share_no_byte() -> None:
    assert overlap_bytes([(0x10, 0x20)], [(0x20, 0x30)]) == 0
    assert overlap_bytes([(0x10, 0x21)], [(0x20, 0x30)]) == 1


def test_range_size_counts_half_open() -> None:
    assert range_size([(0x10, 0x20), (0x30, 0x31)]) == 17
    assert range_size([(0x10, 0x10)]) == 0


def test_adjacent_body_is_no_match() -> None:
    match = join_ranges(DWARF_100, [Candidate(1, [(0x401064, 0x401100)])])

    assert match.kind == "NO_MATCH"
    assert match.best_key is None
    assert match.candidates == 0


@pytest.mark.parametrize(
    ("covered", "kind"),
    [
        (100, "JOINED_STRONG"),
        (90, "JOINED_STRONG"),
        (89, "JOINED_WEAK"),
        (30, "JOINED_WEAK"),
        (29, "NO_MATCH"),
        (1, "NO_MATCH"),
    ],
    ids=["full", "exactly-90", "just-below-90", "exactly-30", "just-below-30", "one-byte"],
)
def test_coverage_thresholds(covered: int, kind: str) -> None:
    match = join_ranges(DWARF_100, [covering(7, covered)])

    assert match.kind == kind
    assert match.coverage == pytest.approx(covered / 100)


def test_exactly_ninety_percent_of_large_range() -> None:
    # 0.9 of 1000 bytes is 900 bytes; 899 bytes fall just below.
    dwarf = [(0x500000, 0x500000 + 1000)]

    assert join_ranges(dwarf, [covering(1, 900, 0x500000)]).kind == "JOINED_STRONG"
    assert join_ranges(dwarf, [covering(1, 899, 0x500000)]).kind == "JOINED_WEAK"


def test_strong_match_names_best_candidate() -> None:
    candidates = [covering(3, 95), Candidate(4, [(0x401060, 0x401080)])]

    match = join_ranges(DWARF_100, candidates)

    assert match.kind == "JOINED_STRONG"
    assert match.best_key == 3
    assert match.candidates == 2
    assert match.runner_up_coverage == pytest.approx(0.04)


@pytest.mark.parametrize(
    ("first", "second", "kind"),
    [
        (50, 46, "MULTI_MATCH"),
        (50, 45, "MULTI_MATCH"),
        (50, 44, "JOINED_WEAK"),
        (55, 50, "MULTI_MATCH"),
        (56, 50, "JOINED_WEAK"),
        (100, 98, "MULTI_MATCH"),
        (100, 94, "JOINED_STRONG"),
    ],
    ids=["gap-4", "gap-5", "gap-6", "gap-5-rounded-up", "gap-6-above", "two-full", "strong-gap-6"],
)
def test_near_tie_is_multi_match(first: int, second: int, kind: str) -> None:
    # The second body covers the tail of the range, so both can overlap it.
    end = 0x401064
    candidates = [covering(1, first), Candidate(2, [(end - second, end)])]

    match = join_ranges(DWARF_100, candidates)

    assert match.kind == kind
    assert match.best_key == 1


def test_tie_below_weak_threshold_is_no_match() -> None:
    end = 0x401064
    candidates = [covering(1, 20), Candidate(2, [(end - 20, end)])]

    assert join_ranges(DWARF_100, candidates).kind == "NO_MATCH"


def test_empty_dwarf_range_is_no_match() -> None:
    assert join_ranges([], [covering(1, 100)]).kind == "NO_MATCH"
    assert join_ranges([(0x401000, 0x401000)], [covering(1, 100)]).kind == "NO_MATCH"


def test_cold_split_function_joins_strong() -> None:
    # gcc -O2 moves unlikely branches into `.text.unlikely` as `name.cold`; DWARF
    # then lists two ranges, and the decompiled body follows the jump into both.
    hot = (0x401530, 0x4015B5)
    cold = (0x4010DF, 0x4010ED)
    body = Candidate(10, [hot, cold])
    neighbour = Candidate(11, [(0x4010C0, 0x4010DF)])

    match = join_ranges([hot, cold], [neighbour, body])

    assert match.kind == "JOINED_STRONG"
    assert match.best_key == 10
    assert match.coverage == pytest.approx(1.0)


def test_cold_split_missing_large_cold_part_is_weak() -> None:
    hot = (0x401000, 0x401040)
    cold = (0x400800, 0x400840)

    match = join_ranges([hot, cold], [Candidate(1, [hot])])

    assert match.kind == "JOINED_WEAK"
    assert match.coverage == pytest.approx(0.5)


def test_index_finds_piece_starting_long_before() -> None:
    long_body = Candidate(1, [(0x401000, 0x409000)])
    small = [Candidate(key, [(0x409000 + key * 16, 0x409010 + key * 16)]) for key in range(2, 50)]
    index = RangeIndex([*small, long_body])

    found = index.overlapping([(0x408FF0, 0x408FF8)])

    assert [candidate.key for candidate in found] == [1]


def test_index_finds_every_piece_of_query() -> None:
    body = Candidate(1, [(0x401100, 0x401180), (0x400F00, 0x400F10)])
    other = Candidate(2, [(0x401180, 0x401200)])
    index = RangeIndex([body, other])

    assert {c.key for c in index.overlapping([(0x400F08, 0x400F09)])} == {1}
    assert {c.key for c in index.overlapping([(0x401170, 0x401190)])} == {1, 2}
    assert index.overlapping([(0x401200, 0x401300)]) == []
    assert index.overlapping([(0x400000, 0x400F00)]) == []


def test_index_matches_full_scan() -> None:
    candidates = [
        Candidate(key, [(0x1000 + key * 40, 0x1000 + key * 40 + length)])
        for key, length in enumerate([8, 400, 16, 3, 90, 1, 250, 12])
    ]
    index = RangeIndex(candidates)

    for start in range(0x1000, 0x1400, 7):
        query = [(start, start + 5)]
        expected = {c.key for c in candidates if overlap_bytes(query, c.ranges) > 0}
        assert {c.key for c in index.overlapping(query)} == expected, hex(start)
