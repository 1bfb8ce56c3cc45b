"""``GET /llm/functions``: filters, pages, context shaping and the allow-list of the LLM view."""

from __future__ import annotations

import httpx
import pytest

from reforge.llm.view import BOOKKEEPING_FIELDS, PROMPT_FIELDS

from .corpus_store import FUNCTIONS, LEAK_FUNCTION, Corpus

# Written out here on purpose: widening the view must change this test too.
ALLOWED_FIELDS = {
    "dwarf_function_id",
    "ghidra_func_id",
    "test_case",
    "opt",
    "ghidra_name",
    "ghidra_entry_va",
    "size",
    "c_raw",
    "calls_text",
    "cfg_text",
    "variables_text",
    "loc_decompiled",
    "bb_count",
    "cyclomatic",
    "instruction_count",
    "cfg_completeness",
    "warning_codes",
}
GROUND_TRUTH_FIELDS = {
    "name",
    "linkage_name",
    "decl_file",
    "decl_line",
    "decl_column",
    "dominant_file",
    "verdict",
    "reasons",
    "tier",
    "confidence_tier",
    "gold_reject_reason",
    "stable_key",
    "alignment",
    "match_kind",
    "leak",
    "leak_tokens",
    "source",
    "source_function",
    "program",
}
ANALYST_FIELDS = {"instruction_count", "cfg_completeness"}
ANALYST_FULL_FIELDS = {"warning_codes", "ghidra_entry_va", "size"}


def _functions(client: httpx.Client, **params: object) -> list[dict]:
    response = client.get("/llm/functions", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _uids(items: list[dict]) -> list[str]:
    return [item["dwarf_function_id"] for item in items]


def test_allow_list_constant() -> None:
    assert PROMPT_FIELDS | BOOKKEEPING_FIELDS == ALLOWED_FIELDS
    assert not (PROMPT_FIELDS & BOOKKEEPING_FIELDS)
    assert not (ALLOWED_FIELDS & GROUND_TRUTH_FIELDS)


@pytest.mark.parametrize("mode", ["STRICT", "ANALYST", "ANALYST_FULL"])
@pytest.mark.parametrize("level", ["L0", "L1", "L2"])
def test_keys_within_allow_list(client: httpx.Client, level: str, mode: str) -> None:
    items = _functions(client, context_level=level, metadata_mode=mode)
    assert items
    for item in items:
        assert set(item) <= ALLOWED_FIELDS
        assert not set(item) & GROUND_TRUTH_FIELDS


def test_values_hold_no_ground_truth(client: httpx.Client, corpus: Corpus) -> None:
    items = _functions(client, metadata_mode="ANALYST_FULL")
    truth = corpus.names() | {f.decl_file for f in corpus.functions}
    for item in items:
        own = corpus.by_uid(item["dwarf_function_id"])
        text = " ".join(str(value) for key, value in item.items() if key not in BOOKKEEPING_FIELDS)
        leaked = {identifier for identifier in truth if identifier in text}
        expected = {LEAK_FUNCTION} if own.name == LEAK_FUNCTION else set()
        assert leaked == expected, own.uid


def test_default_lists_every_tiered_function(client: httpx.Client, corpus: Corpus) -> None:
    items = _functions(client)
    assert _uids(items) == [f.uid for f in corpus.select()]
    # kestrel: 8 tiered functions with code per opt level; osprey: 4; two opt levels.
    assert len(items) == 24


def test_view_values_match_stored_code(client: httpx.Client, corpus: Corpus) -> None:
    for item in _functions(client, metadata_mode="ANALYST_FULL"):
        function = corpus.by_uid(item["dwarf_function_id"])
        assert item["c_raw"] == function.c_raw
        assert item["ghidra_name"] == function.ghidra_name
        assert item["ghidra_entry_va"] == function.entry_va
        assert item["test_case"] == function.program
        assert item["opt"] == function.opt
        assert item["size"] == 0x80


@pytest.mark.parametrize(
    ("params", "selection"),
    [
        ({"opt": "O0", "tier": "GOLD"}, {"opt": "O0", "tier": "GOLD"}),
        ({"opt": "O2", "tier": "SILVER"}, {"opt": "O2", "tier": "SILVER"}),
        ({"tier": "BRONZE"}, {"tier": "BRONZE"}),
        ({"test_case": "osprey", "opt": "O0"}, {"program": "osprey", "opt": "O0"}),
        ({"test_case": "kestrel", "tier": "GOLD"}, {"program": "kestrel", "tier": "GOLD"}),
        ({"variant": "pie"}, {"variant": "pie"}),
    ],
)
def test_filters(client: httpx.Client, corpus: Corpus, params: dict, selection: dict) -> None:
    expected = [f.uid for f in corpus.select(**selection)]
    assert expected
    assert _uids(_functions(client, **params)) == expected


def test_filter_counts_by_hand(client: httpx.Client) -> None:
    assert len(_functions(client, opt="O0", tier="GOLD")) == 9
    assert len(_functions(client, opt="O2", tier="SILVER")) == 2
    assert len(_functions(client, tier="BRONZE")) == 2
    assert len(_functions(client, test_case="osprey", opt="O0")) == 4
    assert len(_functions(client, variant="pie")) == 1


def test_unknown_test_case_is_empty(client: httpx.Client) -> None:
    assert _functions(client, test_case="no_such_program") == []


def test_pages_concatenate(client: httpx.Client) -> None:
    everything = _uids(_functions(client))
    pages: list[str] = []
    for offset in range(0, 30, 5):
        pages += _uids(_functions(client, limit=5, offset=offset))
    assert pages == everything


def test_offset_past_end_is_empty(client: httpx.Client) -> None:
    assert _functions(client, offset=24) == []
    assert _functions(client, offset=10_000) == []


def test_limit_above_max_is_422(client: httpx.Client) -> None:
    response = client.get("/llm/functions", params={"limit": 10_001})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


def test_limit_at_max_is_accepted(client: httpx.Client) -> None:
    assert len(_functions(client, limit=10_000)) == 24


def test_level_l0_has_code_only(client: httpx.Client) -> None:
    for item in _functions(client, context_level="L0"):
        assert item["c_raw"]
        assert item.get("calls_text") is None
        assert item.get("cfg_text") is None
        assert item.get("variables_text") is None


def test_level_l1_adds_calls(client: httpx.Client, corpus: Corpus) -> None:
    items = _functions(client, context_level="L1", opt="O0", tier="GOLD")
    calls = {item["dwarf_function_id"]: item["calls_text"] for item in items}
    assert calls["kestrel:O0:nopie:0x2d"] == "fread, memcmp, fputs"
    for item in items:
        assert item.get("cfg_text") is None
        assert item.get("variables_text") is None


def test_level_l2_adds_cfg_and_variables(client: httpx.Client) -> None:
    items = _functions(client, context_level="L2", opt="O0", tier="GOLD")
    first = next(i for i in items if i["dwarf_function_id"] == "kestrel:O0:nopie:0x2d")
    assert first["calls_text"] == "fread, memcmp, fputs"
    assert first["cfg_text"] == "blocks 5, edges 6, cyclomatic 3"
    assert first["variables_text"].startswith("param_1: FILE *")


def test_default_level_is_l2(client: httpx.Client) -> None:
    assert _functions(client) == _functions(client, context_level="L2")


def test_strict_hides_analyst_metrics(client: httpx.Client) -> None:
    for item in _functions(client, metadata_mode="STRICT"):
        assert not set(item) & (ANALYST_FIELDS | ANALYST_FULL_FIELDS)
        # The seed notebook prints these three in every mode.
        assert {"loc_decompiled", "cyclomatic", "bb_count"} <= set(item)


def test_analyst_shows_metrics(client: httpx.Client) -> None:
    for item in _functions(client, metadata_mode="ANALYST"):
        assert set(item) >= ANALYST_FIELDS
        assert not set(item) & ANALYST_FULL_FIELDS
        assert item["cfg_completeness"] == "HIGH"


def test_analyst_full_shows_everything(client: httpx.Client) -> None:
    items = _functions(client, metadata_mode="ANALYST_FULL")
    for item in items:
        assert set(item) >= ANALYST_FIELDS | ANALYST_FULL_FIELDS
    warnings = {i["dwarf_function_id"]: i["warning_codes"] for i in items}
    assert warnings["kestrel:O0:nopie:0xad"] == ["W_UNREACHABLE"]
    assert warnings["kestrel:O0:nopie:0x2d"] == []


def test_fixture_spec_counts() -> None:
    tiered = [s for s in FUNCTIONS["kestrel"] if s.tier is not None and s.c_raw is not None]
    assert len(tiered) == 8
    assert len(FUNCTIONS["osprey"]) == 4
