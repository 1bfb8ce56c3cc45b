"""The written report: files, table numbers recomputed from score rows, tests against SciPy."""

from __future__ import annotations

import json
import math
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from reforge.experiments import ExperimentConfig
from reforge.report.analysis import analyse
from reforge.report.build import write_report
from reforge.report.figures import write_report_figures
from reforge.report.frame import load_funnel_frame, load_score_frame, load_tier_frame
from reforge.scoring import SCORER_VERSION
from reforge.store.db import open_store
from reforge.store.models import Build, DwarfFunction, Experiment, JoinedFunction, Program, Result
from reforge.store.scores import score_experiment, score_rows

from .conftest import BASELINE, CORPUS, MODEL_A, MODEL_B, FilledStore, fill_store
from .test_frame import EXPECTED_FUNNEL

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TABLE_NAMES = (
    "corpus",
    "model_ranking",
    "model_ranking_gold",
    "opt_levels",
    "statistical_tests",
    "funnel",
    "tier_transitions",
    "topk",
)


def _rows_of(filled: FilledStore, model: str) -> list[dict]:
    with filled.store.session() as session:
        return [
            row
            for experiment_id in filled.experiments[model]
            for row in score_rows(session, experiment_id)["rows"]
        ]


def _ranking(report_dir: Path, name: str = "model_ranking") -> pd.DataFrame:
    return pd.read_csv(report_dir / "tables" / f"{name}.csv").set_index("model")


def _tests(report_dir: Path) -> pd.DataFrame:
    return pd.read_csv(report_dir / "tables" / "statistical_tests.csv")


def test_report_writes_every_file(report_dir: Path) -> None:
    assert (report_dir / "index.html").is_file()
    assert (report_dir / "summary.json").is_file()
    for name in TABLE_NAMES:
        assert (report_dir / "tables" / f"{name}.csv").is_file(), name
        assert (report_dir / "tables" / f"{name}.tex").is_file(), name
    pngs = sorted((report_dir / "figures").glob("*.png"))
    assert {path.stem for path in pngs} == {
        "funnel",
        "model_ranking",
        "outcomes",
        "model_opt_heatmap",
        "opt_deltas",
        "context_ladder",
        "tier_transitions",
        "topk_uplift",
        "cost",
    }
    for path in pngs:
        assert path.read_bytes()[:8] == PNG_MAGIC, path.name


@pytest.mark.parametrize("model", [MODEL_A, MODEL_B, BASELINE])
def test_ranking_mean_f1_from_score_rows(
    filled_store: FilledStore, report_dir: Path, model: str
) -> None:
    rows = _rows_of(filled_store, model)
    answered = [row for row in rows if row["outcome"] == "answered"]
    ranking = _ranking(report_dir)

    assert ranking.loc[model, "n_results"] == len(rows)
    assert ranking.loc[model, "n_answered"] == len(answered)
    assert ranking.loc[model, "mean_token_f1"] == pytest.approx(
        math.fsum(row["token_f1"] for row in answered) / len(answered), abs=1e-12
    )
    assert ranking.loc[model, "exact_match_rate"] == pytest.approx(
        sum(row["exact_match"] for row in answered) / len(answered), abs=1e-12
    )
    assert ranking.loc[model, "cost_usd"] == pytest.approx(
        math.fsum(row["cost_usd"] or 0.0 for row in rows), abs=1e-12
    )


def test_ranking_interval_contains_mean(report_dir: Path) -> None:
    ranking = _ranking(report_dir)

    for model in (MODEL_A, MODEL_B):
        row = ranking.loc[model]
        assert row["token_f1_ci_low"] <= row["mean_token_f1"] <= row["token_f1_ci_high"]
        assert row["token_f1_ci_low"] < row["token_f1_ci_high"]


def test_failures_in_own_columns(filled_store: FilledStore, report_dir: Path) -> None:
    rows = _rows_of(filled_store, MODEL_B)
    answered = [row["token_f1"] for row in rows if row["outcome"] == "answered"]
    ranking = _ranking(report_dir)

    assert filled_store.failed_b * 3 >= len(rows) - 2
    assert ranking.loc[MODEL_B, "n_provider_failures"] == filled_store.failed_b
    assert ranking.loc[MODEL_B, "n_parse_failures"] == filled_store.parse_failed_b
    assert ranking.loc[MODEL_B, "n_answered"] == (
        len(rows) - filled_store.failed_b - filled_store.parse_failed_b
    )
    assert ranking.loc[MODEL_B, "mean_token_f1"] == pytest.approx(np.mean(answered), abs=1e-12)
    # Counting failures as empty predictions (F1 0) would give a lower mean.
    assert ranking.loc[MODEL_B, "mean_token_f1"] > math.fsum(answered) / len(rows)


def test_gold_ranking_only_gold_functions(filled_store: FilledStore, report_dir: Path) -> None:
    rows = _rows_of(filled_store, MODEL_A)
    gold = [
        row["token_f1"]
        for row in rows
        if row["outcome"] == "answered"
        and filled_store.uid_to_tier[row["dwarf_function_id"]] == "GOLD"
    ]
    ranking = _ranking(report_dir, "model_ranking_gold")

    assert ranking.loc[MODEL_A, "n_answered"] == len(gold)
    assert ranking.loc[MODEL_A, "mean_token_f1"] == pytest.approx(np.mean(gold), abs=1e-12)


def test_opt_table_from_score_rows(filled_store: FilledStore, report_dir: Path) -> None:
    rows = _rows_of(filled_store, MODEL_A)
    by_opt: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        if row["outcome"] == "answered":
            by_opt[filled_store.uid_to_opt[row["dwarf_function_id"]]].append(row["token_f1"])
    table = pd.read_csv(report_dir / "tables" / "opt_levels.csv")
    table = table[table["model"] == MODEL_A].set_index("opt")

    assert list(table.index) == ["O0", "O1", "O2", "O3"]
    for opt, values in by_opt.items():
        assert table.loc[opt, "n_answered"] == len(values)
        assert table.loc[opt, "mean_token_f1"] == pytest.approx(np.mean(values), abs=1e-12)


def test_corpus_table_from_fixture_rows(report_dir: Path) -> None:
    table = pd.read_csv(report_dir / "tables" / "corpus.csv")

    # One row per nopie build; the PIE build of alpha is another variant.
    assert list(zip(table["program"], table["opt"], strict=True)) == sorted(CORPUS)
    assert set(table["kind"]) == {"synthetic"}
    for _, row in table.iterrows():
        rows = CORPUS[(row["program"], row["opt"])]
        assert row["dwarf_functions"] == len(rows)
        assert row["with_range"] == sum(1 for r in rows if r[2])
        assert row["decompiled"] == sum(1 for r in rows if r[2] and r[5])
        for tier in ("GOLD", "SILVER", "BRONZE"):
            assert row[tier.lower()] == sum(1 for r in rows if r[4] == tier and r[5]), tier


def test_summary_lists_programs(report_dir: Path) -> None:
    summary = json.loads((report_dir / "summary.json").read_text())
    assert summary["programs"] == ["alpha", "beta"]
    assert summary["builds"] == len(CORPUS)
    assert summary["tables"][0] == "corpus.csv"


def test_funnel_table_by_hand(report_dir: Path) -> None:
    funnel = pd.read_csv(report_dir / "tables" / "funnel.csv").set_index("opt")

    for opt, expected in EXPECTED_FUNNEL.items():
        assert funnel.loc[opt].to_dict() == expected, opt


def test_tier_transitions_by_hand(report_dir: Path) -> None:
    table = pd.read_csv(report_dir / "tables" / "tier_transitions.csv")
    o3 = table[table["to_opt"] == "O3"]
    counts = {(row.from_tier, row.to_tier): row.stable_keys for row in o3.itertuples()}

    # From CORPUS: free_buffer vanishes at O3, unjoined_fn appears without a tier,
    # init_table drops to SILVER, list_append to BRONZE, weak_match rises to SILVER.
    assert counts == {
        ("GOLD", "GOLD"): 4,
        ("GOLD", "SILVER"): 1,
        ("GOLD", "absent"): 1,
        ("SILVER", "SILVER"): 2,
        ("SILVER", "BRONZE"): 1,
        ("BRONZE", "SILVER"): 1,
        ("none", "none"): 1,
        ("absent", "none"): 1,
    }


def test_topk_table_from_score_rows(filled_store: FilledStore, report_dir: Path) -> None:
    with filled_store.store.session() as session:
        rows = score_rows(session, "a_O0_topk")["rows"]
    table = pd.read_csv(report_dir / "tables" / "topk.csv").set_index("model")

    assert table.loc[MODEL_A, "n_answered"] == len(rows)
    assert table.loc[MODEL_A, "mean_topk_best_f1"] == pytest.approx(
        np.mean([row["topk_best_f1"] for row in rows]), abs=1e-12
    )
    assert table.loc[MODEL_A, "mean_topk_uplift"] == pytest.approx(
        table.loc[MODEL_A, "mean_topk_best_f1"] - table.loc[MODEL_A, "mean_token_f1"], abs=1e-12
    )


def _opt_cohort(filled: FilledStore) -> dict[str, dict[str, float]]:
    """Model A's L0 token F1 per stable key and opt level, keys present at all four levels."""
    values: dict[str, dict[str, float]] = defaultdict(dict)
    with filled.store.session() as session:
        for opt in ("O0", "O1", "O2", "O3"):
            for row in score_rows(session, f"a_{opt}_L0")["rows"]:
                values[filled.uid_to_key[row["dwarf_function_id"]]][opt] = row["token_f1"]
    return {key: levels for key, levels in values.items() if len(levels) == 4}


def test_wilcoxon_equals_scipy(filled_store: FilledStore, report_dir: Path) -> None:
    cohort = _opt_cohort(filled_store)
    keys = sorted(cohort)
    o0 = [cohort[key]["O0"] for key in keys]
    o3 = [cohort[key]["O3"] for key in keys]
    expected = stats.wilcoxon(o0, o3, zero_method="wilcox", alternative="greater")
    tests = _tests(report_dir)
    row = tests[(tests["test"] == "wilcoxon_opt") & (tests["model"] == MODEL_A)].iloc[0]

    assert len(keys) == 7
    assert row["n"] == len(keys)
    assert row["p_value"] == pytest.approx(float(expected.pvalue), rel=1e-12)
    assert row["statistic"] == pytest.approx(float(expected.statistic))
    assert row["mean_diff"] == pytest.approx(np.mean(np.subtract(o0, o3)), abs=1e-12)


def test_wilcoxon_holm_over_models(report_dir: Path) -> None:
    tests = _tests(report_dir)
    rows = tests[tests["test"] == "wilcoxon_opt"].set_index("model")
    p_a, p_b = rows.loc[MODEL_A, "p_value"], rows.loc[MODEL_B, "p_value"]

    # Two defined tests (the baseline has no O3 results): Holm multiplies the
    # smaller p by 2 and takes max(2 * p_min, p_max) for the larger one.
    assert math.isnan(rows.loc[BASELINE, "p_value"])
    assert "O3" in rows.loc[BASELINE, "note"]
    assert rows.loc[MODEL_A, "p_holm"] == pytest.approx(min(1.0, 2 * min(p_a, p_b)))
    assert rows.loc[MODEL_B, "p_holm"] == pytest.approx(min(1.0, max(2 * min(p_a, p_b), p_b)))


def test_friedman_equals_scipy(filled_store: FilledStore, report_dir: Path) -> None:
    cohort = _opt_cohort(filled_store)
    columns = [[cohort[key][opt] for key in sorted(cohort)] for opt in ("O0", "O1", "O2", "O3")]
    expected = stats.friedmanchisquare(*columns)
    tests = _tests(report_dir)
    row = tests[(tests["test"] == "friedman_opt") & (tests["model"] == MODEL_A)].iloc[0]

    assert row["p_value"] == pytest.approx(float(expected.pvalue), rel=1e-9)
    assert row["effect_size"] == pytest.approx(float(expected.statistic) / (len(cohort) * 3))


def test_context_ladder_equals_scipy(filled_store: FilledStore, report_dir: Path) -> None:
    with filled_store.store.session() as session:
        l0 = {
            row["dwarf_function_id"]: row["token_f1"]
            for row in score_rows(session, "a_O0_L0")["rows"]
        }
        l1 = {
            row["dwarf_function_id"]: row["token_f1"]
            for row in score_rows(session, "a_O0_L1")["rows"]
        }
    uids = sorted(l0.keys() & l1.keys())
    expected = stats.wilcoxon(
        [l1[uid] for uid in uids], [l0[uid] for uid in uids], alternative="greater"
    )
    tests = _tests(report_dir)
    row = tests[(tests["test"] == "wilcoxon_context") & (tests["comparison"] == "L1 > L0")].iloc[0]

    assert row["n"] == len(uids)
    assert row["p_value"] == pytest.approx(float(expected.pvalue), rel=1e-12)


def test_mcnemar_default_models(filled_store: FilledStore, report_dir: Path) -> None:
    summary = json.loads((report_dir / "summary.json").read_text())
    with filled_store.store.session() as session:
        a = {}
        b = {}
        for opt in ("O0", "O3"):
            for row in score_rows(session, f"a_{opt}_L0")["rows"]:
                a[row["dwarf_function_id"]] = row["exact_match"]
            for row in score_rows(session, f"b_{opt}_L0")["rows"]:
                if row["outcome"] == "answered":
                    b[row["dwarf_function_id"]] = row["exact_match"]
    shared = a.keys() & b.keys()
    only_a = sum(a[uid] and not b[uid] for uid in shared)
    only_b = sum(b[uid] and not a[uid] for uid in shared)
    tests = _tests(report_dir)
    row = tests[tests["test"] == "mcnemar_exact"].iloc[0]

    # The baseline ranks last and is never picked while two real models share data.
    assert summary["mcnemar_models"] == [MODEL_A, MODEL_B]
    assert row["n"] == len(shared)
    assert f"b01 = {only_b} " in row["detail"]
    assert f"b10 = {only_a} " in row["detail"]
    assert row["p_value"] == pytest.approx(
        stats.binomtest(only_b, only_a + only_b, 0.5).pvalue, rel=1e-12
    )


def test_figure_captions_state_n(filled_store: FilledStore, tmp_path: Path) -> None:
    with filled_store.store.session() as session:
        analysis = analyse(
            load_score_frame(session), load_funnel_frame(session), load_tier_frame(session)
        )
    figures = write_report_figures(analysis, tmp_path)

    assert len(figures) == 9
    for figure in figures:
        assert re.search(r"\bn = \d+", figure.caption), figure.name
        assert figure.n_functions > 0, figure.name
        assert figure.path.read_bytes()[:8] == PNG_MAGIC
    funnel = next(figure for figure in figures if figure.name == "funnel")
    assert "n = 36 functions with a range" in funnel.caption
    assert funnel.n_functions == 10 + 8 + 8 + 10


def test_latex_escapes_underscores(report_dir: Path) -> None:
    tex = (report_dir / "tables" / "model_ranking.tex").read_text()

    assert r"mean\_token\_f1" in tex
    assert r"baseline-trivial" in tex
    assert re.search(r"(?<!\\)_", tex.replace(r"\_", "")) is None
    assert r"\begin{tabular}" in tex


def test_index_html_content(report_dir: Path) -> None:
    html = (report_dir / "index.html").read_text()

    assert f"scorer version {SCORER_VERSION}" in html
    assert "10 experiments" in html
    assert "3 models" in html
    assert "How failures are counted" in html
    assert 'src="figures/model_ranking.png"' in html
    assert 'id="tab-statistical_tests"' in html
    assert "No model results exist" not in html


def test_summary_json_headline(filled_store: FilledStore, report_dir: Path) -> None:
    summary = json.loads((report_dir / "summary.json").read_text())
    ranking = _ranking(report_dir)

    assert summary["scorer_version"] == SCORER_VERSION
    assert summary["models"] == 3
    assert summary["best_model"]["model"] == ranking.index[0] == MODEL_A
    assert summary["best_model"]["mean_token_f1"] == pytest.approx(
        ranking.loc[MODEL_A, "mean_token_f1"], abs=1e-12
    )
    baseline = next(model for model in summary["ranking"] if model["model"] == BASELINE)
    assert baseline["is_baseline"] is True
    assert summary["gold_functions"] == {"O0": 6, "O1": 5, "O2": 5, "O3": 4}


def test_report_on_empty_store(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        with store.session() as session:
            index = write_report(session, tmp_path / "report")
    finally:
        store.dispose()

    html = index.read_text()
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert "No model results exist" in html
    assert summary["has_results"] is False
    assert summary["best_model"] is None
    assert list((tmp_path / "report" / "figures").glob("*.png")) == []
    assert (tmp_path / "report" / "tables" / "model_ranking.csv").is_file()


def test_report_corpus_without_results(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        fill_store(store, with_results=False)
        with store.session() as session:
            index = write_report(session, tmp_path / "report")
    finally:
        store.dispose()

    html = index.read_text()
    figures = {path.stem for path in (tmp_path / "report" / "figures").glob("*.png")}
    assert "No model results exist" in html
    assert figures == {"funnel", "tier_transitions"}
    assert 'id="tab-funnel"' in html
    assert 'id="tab-model_ranking"' not in html


def _single_function_store(path: Path, opts: tuple[str, ...], functions: int) -> None:
    store = open_store(f"sqlite:///{path}")
    try:
        with store.session() as session:
            program = Program(name="solo", kind="synthetic")
            session.add(program)
            config = ExperimentConfig(id="solo_exp", model=MODEL_A)
            session.add(
                Experiment(id=config.id, model=config.model, config=config.model_dump(mode="json"))
            )
            session.flush()
            for opt in opts:
                build = Build(program_id=program.id, opt=opt, ok=True)
                session.add(build)
                session.flush()
                for index in range(functions):
                    dwarf = DwarfFunction(
                        build_id=build.id,
                        uid=f"solo:{opt}:{index}",
                        die_offset=0x30 + index,
                        cu_offset=0x0B,
                        name=f"solve_puzzle_{index}",
                        low_pc=0x1000 + 0x40 * index,
                        high_pc=0x1020 + 0x40 * index,
                        ranges=[[0x1000 + 0x40 * index, 0x1020 + 0x40 * index]],
                        verdict="ACCEPT",
                    )
                    session.add(dwarf)
                    session.flush()
                    session.add(
                        JoinedFunction(
                            build_id=build.id,
                            dwarf_function_id=dwarf.id,
                            match_kind="JOINED_STRONG",
                            confidence_tier="GOLD",
                            stable_key=f"solo:solo.c:{index}:1:solve_puzzle_{index}",
                        )
                    )
                    session.add(
                        Result(
                            experiment_id="solo_exp",
                            dwarf_function_id=dwarf.id,
                            function_uid=dwarf.uid,
                            status="ok",
                            parse_ok=True,
                            predicted_name="solve_maze",
                            cost_usd=0.01,
                        )
                    )
            session.flush()
            score_experiment(session, "solo_exp")
    finally:
        store.dispose()


def test_report_single_function(tmp_path: Path) -> None:
    _single_function_store(tmp_path / "s.sqlite", ("O0",), 1)
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        with store.session() as session:
            write_report(session, tmp_path / "report")
    finally:
        store.dispose()

    ranking = pd.read_csv(tmp_path / "report" / "tables" / "model_ranking.csv")
    tests = pd.read_csv(tmp_path / "report" / "tables" / "statistical_tests.csv")
    assert ranking["n_answered"].tolist() == [1]
    # "solve_maze" against "solve_puzzle_0": 1 shared token of 2 and 3, F1 = 2 * 1/2 * 1/3 / (5/6).
    assert ranking["mean_token_f1"].iloc[0] == pytest.approx(0.4)
    assert math.isnan(ranking["token_f1_ci_low"].iloc[0])
    assert set(tests["test"]) == {"wilcoxon_opt", "friedman_opt"}
    assert tests["p_value"].isna().all()
    assert tests["note"].notna().all()


def test_report_one_model_two_levels(tmp_path: Path) -> None:
    _single_function_store(tmp_path / "s.sqlite", ("O0", "O3"), 3)
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    try:
        with store.session() as session:
            write_report(session, tmp_path / "report")
    finally:
        store.dispose()

    tests = pd.read_csv(tmp_path / "report" / "tables" / "statistical_tests.csv")
    wilcoxon = tests[tests["test"] == "wilcoxon_opt"].iloc[0]
    # Same prediction at both levels: every difference is zero.
    assert wilcoxon["n"] == 3
    assert math.isnan(wilcoxon["p_value"])
    assert "zero" in wilcoxon["note"]
    assert (tmp_path / "report" / "figures" / "opt_deltas.png").is_file()


def test_mcnemar_requested_models(filled_store: FilledStore) -> None:
    with filled_store.store.session() as session:
        frames = (
            load_score_frame(session),
            load_funnel_frame(session),
            load_tier_frame(session),
        )

    first_only = analyse(*frames, mcnemar_models=(MODEL_B, None))
    second_only = analyse(*frames, mcnemar_models=(None, BASELINE))
    assert first_only.paired.mcnemar_models == (MODEL_B, MODEL_A)
    assert second_only.paired.mcnemar_models == (MODEL_A, BASELINE)


def test_mcnemar_models_by_label(filled_store: FilledStore, tmp_path: Path) -> None:
    with filled_store.store.session() as session:
        write_report(session, tmp_path, mcnemar_models=("claude35sonnet", "baseline-trivial"))
    summary = json.loads((tmp_path / "summary.json").read_text())
    tests = _tests(tmp_path)

    assert summary["mcnemar_models"] == [MODEL_B, BASELINE]
    assert tests.loc[tests["test"] == "mcnemar_exact", "comparison"].tolist() == [
        "claude35sonnet vs baseline-trivial"
    ]
