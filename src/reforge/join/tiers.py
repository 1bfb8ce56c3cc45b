"""Confidence tiers GOLD / SILVER / BRONZE for joined functions.

GOLD gates, checked in this order; the first that fails is recorded as
``gold_reject_reason`` (the confidence funnel plots how many rows pass each):

1. ``dwarf_verdict`` - the DWARF oracle's verdict is ACCEPT;
2. ``source_alignment`` - the source oracle found a unique MATCH with overlap >= 0.95;
3. ``join_strength`` - the join is JOINED_STRONG;
4. ``decompiled`` - the decompiler produced code for the function;
5. ``noise`` - it is not a thunk, PLT stub or C runtime helper;
6. ``cfg_completeness`` - its CFG completeness is not LOW;
7. ``fatal_warning`` - the decompiler raised no fatal warning.

SILVER: JOINED_STRONG with an ACCEPT verdict (eligible for GOLD by its DWARF
record) that failed a later gate. BRONZE: any other named function joined
strongly or weakly. No tier: no range, NO_MATCH or MULTI_MATCH.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Tier = Literal["GOLD", "SILVER", "BRONZE"]

GOLD_GATES = (
    "dwarf_verdict",
    "source_alignment",
    "join_strength",
    "decompiled",
    "noise",
    "cfg_completeness",
    "fatal_warning",
)
SOURCE_OVERLAP_FOR_GOLD = 0.95


@dataclass(frozen=True, slots=True)
class TierInput:
    """The facts a tier depends on, gathered from both sides of the join."""

    name: str | None
    verdict: str
    alignment_kind: str | None
    alignment_overlap: float
    match_kind: str
    decompiled_ok: bool
    noise_reason: str | None
    cfg_completeness: str | None
    fatal_warning: bool


@dataclass(frozen=True, slots=True)
class TierDecision:
    """A row's tier (None for no tier) and the first GOLD gate it failed."""

    tier: Tier | None
    gold_reject_reason: str | None


def first_failed_gate(facts: TierInput) -> str | None:
    """Return the first GOLD gate that `facts` fail, or None when all pass."""
    checks = (
        facts.verdict == "ACCEPT",
        facts.alignment_kind == "MATCH" and facts.alignment_overlap >= SOURCE_OVERLAP_FOR_GOLD,
        facts.match_kind == "JOINED_STRONG",
        facts.decompiled_ok,
        facts.noise_reason is None,
        facts.cfg_completeness != "LOW",
        not facts.fatal_warning,
    )
    for gate, passed in zip(GOLD_GATES, checks, strict=True):
        if not passed:
            return gate
    return None


def assign_tier(facts: TierInput) -> TierDecision:
    """Assign GOLD, SILVER, BRONZE or no tier to one joined row."""
    failed = first_failed_gate(facts)
    if not facts.name or facts.match_kind not in ("JOINED_STRONG", "JOINED_WEAK"):
        return TierDecision(None, failed)
    if failed is None:
        return TierDecision("GOLD", None)
    if facts.match_kind == "JOINED_STRONG" and facts.verdict == "ACCEPT":
        return TierDecision("SILVER", failed)
    return TierDecision("BRONZE", failed)
