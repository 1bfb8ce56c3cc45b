"""``/results``: posting batches, dry runs, listing, scoring, score rows and spend."""

from __future__ import annotations

import math

import httpx
import pytest
from sqlalchemy import func, select

from reforge.experiments import ExperimentConfig
from reforge.store.db import Store
from reforge.store.models import Result

from .corpus_store import Corpus
from .support import register, results_per_function

EXPERIMENT = ExperimentConfig(
    id="bench_gpt4o-mini_gold_O0_L0", model="openai/gpt-4o-mini", tier="GOLD", opt="O0"
)


@pytest.fixture
def experiment(client: httpx.Client) -> str:
    register(client, [EXPERIMENT])
    return EXPERIMENT.id


def _post(client: httpx.Client, results: list[dict], *, dry_run: bool = False) -> httpx.Response:
    body = {"experiment_id": EXPERIMENT.id, "results": results, "dry_run": dry_run}
    return client.post("/results/batch", json=body)


def _ok(uid: str, name: str, **fields: object) -> dict:
    return {
        "dwarf_function_id": uid,
        "status": "ok",
        "model": EXPERIMENT.model,
        "predicted_name": name,
        "parse_ok": True,
        "prompt": f"prompt of {uid}",
        "response": name,
        **fields,
    }


def _failed(uid: str, kind: str) -> dict:
    return {
        "dwarf_function_id": uid,
        "status": "failed",
        "error_kind": kind,
        "error_message": f"scripted {kind}",
    }


def _gold_o0(corpus: Corpus) -> list:
    return corpus.select(opt="O0", tier="GOLD")


def test_batch_inserts(client: httpx.Client, experiment: str, corpus: Corpus, store: Store) -> None:
    functions = _gold_o0(corpus)[:3]
    reply = _post(client, [_ok(f.uid, f.name) for f in functions]).json()
    assert reply["inserted"] == 3
    assert reply["skipped"] == 0
    assert reply["unknown_functions"] == []
    assert results_per_function(store, experiment) == {f.uid: 1 for f in functions}


def test_batch_visible_once_acknowledged(
    client: httpx.Client, experiment: str, corpus: Corpus, store: Store
) -> None:
    # A 200 must mean "stored": the commit happens before the response.
    for count, function in enumerate(_gold_o0(corpus), start=1):
        long_prompt = "x" * 100_000 + function.uid
        response = _post(client, [_ok(function.uid, "name", prompt=long_prompt)])
        assert response.status_code == 200
        with store.session() as session:
            stored = session.scalar(select(func.count()).select_from(Result))
        assert stored == count


def test_dry_run_stores_nothing(
    client: httpx.Client, experiment: str, corpus: Corpus, store: Store
) -> None:
    functions = _gold_o0(corpus)
    items = [_ok(f.uid, f.name) for f in functions] + [_ok("nobody:O0:nopie:0x1", "x")]
    reply = _post(client, items, dry_run=True).json()
    assert reply["dry_run"] is True
    assert reply["valid"] == len(functions) + 1
    assert reply["inserted"] == 0
    assert reply["unknown_functions"] == ["nobody:O0:nopie:0x1"]
    assert results_per_function(store, experiment) == {}


def test_batch_outside_selection_skipped(
    client: httpx.Client, experiment: str, corpus: Corpus, store: Store
) -> None:
    inside = _gold_o0(corpus)[0]
    other_level = corpus.select(opt="O2", tier="GOLD")[0]
    items = [_ok(inside.uid, inside.name), _ok(other_level.uid, other_level.name)]

    preview = _post(client, items, dry_run=True).json()
    reply = _post(client, items).json()

    assert preview["outside_selection"] == [other_level.uid]
    assert (reply["inserted"], reply["skipped"]) == (1, 1)
    assert reply["outside_selection"] == [other_level.uid]
    assert results_per_function(store, experiment) == {inside.uid: 1}


def test_dry_run_still_validates(client: httpx.Client, experiment: str) -> None:
    response = _post(client, [{"dwarf_function_id": "a", "status": "maybe"}], dry_run=True)
    assert response.status_code == 422


def test_final_result_never_replaced(
    client: httpx.Client, experiment: str, corpus: Corpus, store: Store
) -> None:
    function = _gold_o0(corpus)[0]
    _post(client, [_ok(function.uid, "first_answer")])
    reply = _post(client, [_ok(function.uid, "second_answer")]).json()
    assert reply["skipped"] == 1
    rows = client.get(f"/results/{experiment}").json()
    assert [row["predicted_name"] for row in rows] == ["first_answer"]


def test_retryable_failure_replaced(
    client: httpx.Client, experiment: str, corpus: Corpus, store: Store
) -> None:
    function = _gold_o0(corpus)[0]
    _post(client, [_failed(function.uid, "rate_limit")])
    reply = _post(client, [_ok(function.uid, "late_answer")]).json()
    assert reply["replaced"] == 1
    rows = client.get(f"/results/{experiment}").json()
    assert len(rows) == 1
    assert rows[0]["status"] == "ok"
    assert rows[0]["predicted_name"] == "late_answer"
    assert rows[0]["error_kind"] is None


def test_permanent_failure_is_final(client: httpx.Client, experiment: str, corpus: Corpus) -> None:
    function = _gold_o0(corpus)[0]
    _post(client, [_failed(function.uid, "permanent")])
    reply = _post(client, [_ok(function.uid, "late_answer")]).json()
    assert reply["skipped"] == 1
    rows = client.get(f"/results/{experiment}").json()
    assert rows[0]["status"] == "failed"


def test_unknown_function_skipped(client: httpx.Client, experiment: str) -> None:
    reply = _post(client, [_ok("nobody:O0:nopie:0x1", "x")]).json()
    assert reply["inserted"] == 0
    assert reply["skipped"] == 1
    assert reply["unknown_functions"] == ["nobody:O0:nopie:0x1"]


def test_results_list_fields(client: httpx.Client, experiment: str, corpus: Corpus) -> None:
    function = _gold_o0(corpus)[0]
    _post(client, [_ok(function.uid, "read_header", input_tokens=120, cost_usd=0.25)])
    rows = client.get(f"/results/{experiment}").json()
    assert len(rows) == 1
    row = rows[0]
    assert row["dwarf_function_id"] == function.uid
    assert row["experiment_id"] == experiment
    assert row["run_id"] == "main"
    assert row["predicted_name"] == "read_header"
    assert row["input_tokens"] == 120
    assert row["cost_usd"] == 0.25
    assert "prompt" not in row
    with_text = client.get(f"/results/{experiment}", params={"include_text": True}).json()
    assert with_text[0]["prompt"] == f"prompt of {function.uid}"
    assert with_text[0]["response"] == "read_header"


def test_results_filtered_by_run(client: httpx.Client, experiment: str, corpus: Corpus) -> None:
    function = _gold_o0(corpus)[0]
    _post(client, [_ok(function.uid, "a"), _ok(function.uid, "b", run_id="second")])
    assert len(client.get(f"/results/{experiment}").json()) == 2
    second = client.get(f"/results/{experiment}", params={"run_id": "second"}).json()
    assert [row["predicted_name"] for row in second] == ["b"]


def test_empty_experiment_has_no_results(client: httpx.Client, experiment: str) -> None:
    assert client.get(f"/results/{experiment}").json() == []


def test_score_and_rows(client: httpx.Client, experiment: str, corpus: Corpus) -> None:
    parse_header, read_config, checksum, free_buffer = _gold_o0(corpus)[:4]
    assert (parse_header.name, read_config.name) == ("parse_header", "read_config_file")
    _post(
        client,
        [
            _ok(parse_header.uid, "parse_header"),
            _ok(read_config.uid, "load_config"),
            _failed(checksum.uid, "permanent"),
            {**_ok(free_buffer.uid, ""), "predicted_name": None, "parse_ok": False},
        ],
    )
    scored = client.post(f"/results/{experiment}/score")
    assert scored.status_code == 200
    assert scored.json()["scored"] == 4
    assert client.post(f"/results/{experiment}/score").json()["scored"] == 0
    assert client.post(f"/results/{experiment}/score?rescore=true").json()["scored"] == 4

    scores = client.get(f"/results/{experiment}/scores").json()
    rows = {row["dwarf_function_id"]: row for row in scores["rows"]}
    assert len(rows) == 4
    assert rows[parse_header.uid]["token_f1"] == 1.0
    assert rows[parse_header.uid]["exact_match"] is True
    assert rows[parse_header.uid]["truth_name"] == "parse_header"
    # read_config_file vs load_config: precision 1/2, recall 1/3, F1 2*(1/6)/(5/6) = 0.4.
    assert math.isclose(rows[read_config.uid]["token_f1"], 0.4)
    assert rows[checksum.uid]["outcome"] == "provider_failure"
    assert rows[checksum.uid]["token_f1"] is None
    assert rows[free_buffer.uid]["outcome"] == "parse_failure"
    assert rows[free_buffer.uid]["token_f1"] is None
    assert scores["summary"]["answered"] == 2
    assert math.isclose(scores["summary"]["mean_token_f1"], 0.7)


def test_scores_paged(client: httpx.Client, experiment: str, corpus: Corpus) -> None:
    functions = _gold_o0(corpus)
    _post(client, [_ok(f.uid, f.name) for f in functions])
    client.post(f"/results/{experiment}/score")
    page = client.get(f"/results/{experiment}/scores", params={"limit": 4, "offset": 4}).json()
    assert page["total"] == len(functions)
    assert [row["dwarf_function_id"] for row in page["rows"]] == [f.uid for f in functions[4:8]]


def test_spend_sums_cost(client: httpx.Client, experiment: str, corpus: Corpus) -> None:
    first, second, third = _gold_o0(corpus)[:3]
    other = ExperimentConfig(id="other_experiment", model="openai/gpt-4o")
    register(client, [other])
    _post(client, [_ok(first.uid, "a", cost_usd=0.125), _ok(second.uid, "b", cost_usd=0.5)])
    client.post(
        "/results/batch",
        json={"experiment_id": other.id, "results": [_ok(third.uid, "c", cost_usd=2.0)]},
    )
    assert client.get("/results/spend").json()["spent_usd"] == 2.625
    per_experiment = client.get("/results/spend", params={"experiment_id": experiment}).json()
    assert per_experiment == {"experiment_id": experiment, "spent_usd": 0.625}


def test_spend_empty_store(client: httpx.Client) -> None:
    assert client.get("/results/spend").json() == {"experiment_id": None, "spent_usd": 0.0}


def test_spend_unknown_experiment_404(client: httpx.Client) -> None:
    response = client.get("/results/spend", params={"experiment_id": "bench_nobody"})
    assert response.status_code == 404
    assert "bench_nobody" in response.json()["detail"]


def test_report_page(client: httpx.Client, experiment: str, corpus: Corpus) -> None:
    functions = _gold_o0(corpus)
    _post(client, [_ok(f.uid, f.name) for f in functions])
    client.post(f"/results/{experiment}/score")
    response = client.get(f"/results/{experiment}/report")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert experiment in response.text
