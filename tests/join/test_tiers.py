"""Tiers: each GOLD gate failing alone, and the SILVER / BRONZE / no-tier rules."""

from __future__ import annotations

import dataclasses

import pytest

from reforge.join.tiers import GOLD_GATES, TierInput, assign_tier, first_failed_gate

GOLD_FACTS = TierInput(
    name="parse_header",
    verdict="ACCEPT",
    alignment_kind="MATCH",
    alignment_overlap=1.0,
    match_kind="JOINED_STRONG",
    decompiled_ok=True,
    noise_reason=None,
    cfg_completeness="HIGH",
    fatal_warning=False,
)

# (case id, changed facts, expected gold_reject_reason, expected tier)
CASES = [
    ("all-gates-pass", {}, None, "GOLD"),
    ("verdict-warn", {"verdict": "WARN"}, "dwarf_verdict", "BRONZE"),
    ("verdict-reject", {"verdict": "REJECT"}, "dwarf_verdict", "BRONZE"),
    ("alignment-ambiguous", {"alignment_kind": "AMBIGUOUS"}, "source_alignment", "SILVER"),
    ("alignment-no-match", {"alignment_kind": "NO_MATCH"}, "source_alignment", "SILVER"),
    ("alignment-missing", {"alignment_kind": None}, "source_alignment", "SILVER"),
    ("alignment-overlap-0.94", {"alignment_overlap": 0.94}, "source_alignment", "SILVER"),
    ("alignment-overlap-0.95", {"alignment_overlap": 0.95}, None, "GOLD"),
    ("join-weak", {"match_kind": "JOINED_WEAK"}, "join_strength", "BRONZE"),
    ("join-multi", {"match_kind": "MULTI_MATCH"}, "join_strength", None),
    ("join-none", {"match_kind": "NO_MATCH"}, "join_strength", None),
    ("not-decompiled", {"decompiled_ok": False}, "decompiled", "SILVER"),
    ("thunk", {"noise_reason": "thunk"}, "noise", "SILVER"),
    ("crt-helper", {"noise_reason": "crt_helper"}, "noise", "SILVER"),
    ("cfg-low", {"cfg_completeness": "LOW"}, "cfg_completeness", "SILVER"),
    ("cfg-medium", {"cfg_completeness": "MEDIUM"}, None, "GOLD"),
    ("cfg-unknown", {"cfg_completeness": None}, None, "GOLD"),
    ("fatal-warning", {"fatal_warning": True}, "fatal_warning", "SILVER"),
    ("nameless-strong", {"name": None}, None, None),
    ("nameless-weak", {"name": None, "match_kind": "JOINED_WEAK"}, "join_strength", None),
    ("warn-and-weak", {"verdict": "WARN", "match_kind": "JOINED_WEAK"}, "dwarf_verdict", "BRONZE"),
    ("warn-and-thunk", {"verdict": "WARN", "noise_reason": "thunk"}, "dwarf_verdict", "BRONZE"),
    ("ambiguous-and-low", {"alignment_kind": "AMBIGUOUS", "cfg_completeness": "LOW"},
     "source_alignment", "SILVER"),
    ("weak-and-fatal", {"match_kind": "JOINED_WEAK", "fatal_warning": True}, "join_strength",
     "BRONZE"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "reason", "tier"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_tier_table(changes: dict[str, object], reason: str | None, tier: str | None) -> None:
    facts = dataclasses.replace(GOLD_FACTS, **changes)

    decision = assign_tier(facts)

    assert decision.gold_reject_reason == reason
    assert decision.tier == tier


def test_every_gate_has_a_single_failure_case() -> None:
    # Each gate, in order, is the reported reason of some case that fails it alone.
    single = {
        "dwarf_verdict": {"verdict": "WARN"},
        "source_alignment": {"alignment_kind": "AMBIGUOUS"},
        "join_strength": {"match_kind": "JOINED_WEAK"},
        "decompiled": {"decompiled_ok": False},
        "noise": {"noise_reason": "thunk"},
        "cfg_completeness": {"cfg_completeness": "LOW"},
        "fatal_warning": {"fatal_warning": True},
    }

    assert tuple(single) == GOLD_GATES
    for gate, changes in single.items():
        assert first_failed_gate(dataclasses.replace(GOLD_FACTS, **changes)) == gate


def test_gold_row_has_no_reject_reason() -> None:
    assert first_failed_gate(GOLD_FACTS) is None
