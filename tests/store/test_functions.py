"""Function queries: the LLM view rows, the ground-truth listing, training rows, summaries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from api.corpus_store import FUNCTIONS, PROGRAMS, Corpus, fill_corpus
from reforge.llm.view import LLMFunction
from reforge.store.db import Store
from reforge.store.functions import (
    count_llm_functions,
    iter_llm_functions,
    training_rows,
    truth_rows,
)
from reforge.store.models import BinaryFunction, Build, DwarfFunction, JoinedFunction
from reforge.store.summary import build_counts, corpus_summary


@pytest.fixture
def corpus(store: Store) -> Corpus:
    return fill_corpus(store)


@pytest.mark.parametrize(
    "selection",
    [
        {},
        {"opt": "O2"},
        {"tier": "SILVER"},
        {"opt": "O0", "tier": "GOLD"},
        {"test_case": "osprey"},
        {"test_case": "kestrel", "opt": "O2", "tier": "BRONZE"},
    ],
)
def test_llm_rows_match_fixture(store: Store, corpus: Corpus, selection: dict) -> None:
    program = selection.get("test_case")
    expected = corpus.select(opt=selection.get("opt"), tier=selection.get("tier"), program=program)
    with store.session() as session:
        views = list(iter_llm_functions(session, **selection))
        count = count_llm_functions(session, **selection)
    assert [v.dwarf_function_id for v in views] == [f.uid for f in expected]
    assert count == len(expected)
    assert all(isinstance(v, LLMFunction) for v in views)


def test_llm_rows_paged(store: Store, corpus: Corpus) -> None:
    with store.session() as session:
        everything = [v.dwarf_function_id for v in iter_llm_functions(session)]
        paged = [
            v.dwarf_function_id
            for offset in range(0, 30, 4)
            for v in iter_llm_functions(session, limit=4, offset=offset)
        ]
    assert paged == everything
    assert len(everything) == 24


def test_llm_rows_skip_failed_decompilation(store: Store, corpus: Corpus) -> None:
    target = corpus.select(opt="O0", tier="GOLD")[0]
    with store.session() as session:
        binary = session.scalar(
            select(BinaryFunction)
            .join(JoinedFunction, JoinedFunction.binary_function_id == BinaryFunction.id)
            .join(DwarfFunction, DwarfFunction.id == JoinedFunction.dwarf_function_id)
            .where(DwarfFunction.uid == target.uid)
        )
        binary.status = "error"
    with store.session() as session:
        uids = [v.dwarf_function_id for v in iter_llm_functions(session, opt="O0")]
    assert target.uid not in uids
    assert len(uids) == len(corpus.select(opt="O0")) - 1


def test_pie_rows_only_on_request(store: Store, corpus: Corpus) -> None:
    with store.session() as session:
        pie = [v.dwarf_function_id for v in iter_llm_functions(session, variant="pie")]
        both = count_llm_functions(session, variant=None)
    assert pie == ["kestrel:O0:pie:0x2d"]
    assert both == 25


def test_truth_rows_every_dwarf_function(store: Store, corpus: Corpus) -> None:
    with store.session() as session:
        rows = truth_rows(session, program="kestrel", opt="O2")
    assert [row["name"] for row in rows] == [spec.name for spec in FUNCTIONS["kestrel"]]
    by_name = {row["name"]: row for row in rows}
    assert by_name["inlined_everywhere"]["match_kind"] == "NO_MATCH"
    assert by_name["inlined_everywhere"]["ghidra_name"] is None
    assert by_name["untiered_helper"]["confidence_tier"] is None
    assert by_name["log_message"]["leak"] is True
    assert "fprintf" in by_name["log_message"]["c_raw"]


def test_truth_rows_with_unjoined_binary(store: Store, corpus: Corpus) -> None:
    with store.session() as session:
        build = session.scalar(select(Build).where(Build.opt == "O2").order_by(Build.id))
        orphan = BinaryFunction(
            build_id=build.id,
            entry_va=0x409000,
            ghidra_entry_va=0x409000,
            ghidra_name="FUN_00409000",
            status="ok",
        )
        session.add(orphan)
        session.flush()
        session.add(
            JoinedFunction(build_id=build.id, binary_function_id=orphan.id, match_kind="NO_MATCH")
        )
    with store.session() as session:
        rows = truth_rows(session, program="kestrel", opt="O2")
        tiered = truth_rows(session, program="kestrel", opt="O2", tier="GOLD")
    assert rows[-1]["dwarf_function_id"] is None
    assert rows[-1]["ghidra_name"] == "FUN_00409000"
    assert len(rows) == len(FUNCTIONS["kestrel"]) + 1
    assert len(tiered) == 6


def test_training_rows_by_opt(store: Store, corpus: Corpus) -> None:
    with store.session() as session:
        rows = training_rows(session, opt="O2")
        limited = training_rows(session, limit=3)
    tiered = [f for f in corpus.select(opt="O2")]
    assert sorted((r["name"], r["group"]) for r in rows) == sorted(
        (f.name, f.program) for f in tiered
    )
    assert {r["text"] for r in rows} == {f.c_raw for f in tiered}
    assert len(limited) == 3


def test_build_counts(store: Store, corpus: Corpus) -> None:
    with store.session() as session:
        counts = {(c["program"], c["opt"], c["variant"]): c for c in build_counts(session).values()}
    osprey = counts[("osprey", "O2", "nopie")]
    assert osprey["dwarf_functions"] == 4
    assert osprey["with_range"] == 4
    assert osprey["verdicts"] == {"ACCEPT": 4}
    assert osprey["tiers"] == {"GOLD": 3, "SILVER": 1}
    assert counts[("kestrel", "O0", "pie")]["tiers"] == {"GOLD": 1}


def test_summary_ignores_pie_totals(store: Store, corpus: Corpus) -> None:
    with store.session() as session:
        summary = corpus_summary(session)
    gold = sum(1 for p in PROGRAMS for spec in FUNCTIONS[p] if spec.tier == "GOLD")
    assert summary["tiers_by_opt"]["O0"]["GOLD"] == gold == 9
    assert len(summary["builds"]) == 5
