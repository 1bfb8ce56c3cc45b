"""Hostile and malformed requests get a 4xx with a JSON ``detail``, never a 500."""

from __future__ import annotations

import json

import httpx
import pytest

from reforge.experiments import ExperimentConfig
from reforge.store.db import Store

from .corpus_store import Corpus
from .support import register

EXPERIMENT_ID = "bench_gpt4o-mini_gold_O0_L0"
UID = "kestrel:O0:nopie:0x2d"


def _batch(*results: dict, experiment_id: str = EXPERIMENT_ID) -> bytes:
    return json.dumps({"experiment_id": experiment_id, "results": list(results)}).encode()


def _raw_result(fields: str) -> bytes:
    """A batch with one result whose JSON is written by hand (NaN and Infinity are not JSON)."""
    return (
        f'{{"experiment_id": "{EXPERIMENT_ID}", "results": '
        f'[{{"dwarf_function_id": "{UID}", "status": "ok", {fields}}}]}}'
    ).encode()


# (case id, method, path, raw JSON body or None, expected status)
CASES: list[tuple[str, str, str, bytes | None, int]] = [
    ("unknown experiment", "GET", "/data/experiments/nobody", None, 404),
    ("unknown experiment results", "GET", "/results/nobody", None, 404),
    ("unknown experiment scores", "GET", "/results/nobody/scores", None, 404),
    ("unknown experiment score", "POST", "/results/nobody/score", None, 404),
    ("unknown experiment report", "GET", "/results/nobody/report", None, 404),
    (
        "unknown experiment status",
        "POST",
        "/data/experiments/nobody/status",
        b'{"status": "ready"}',
        404,
    ),
    ("batch for unknown experiment", "POST", "/results/batch", _batch(experiment_id="nobody"), 404),
    ("traversal id", "GET", "/data/experiments/..%2F..%2Fetc%2Fpasswd", None, 404),
    ("traversal path", "GET", "/results/../../etc/passwd", None, 404),
    ("traversal job id", "GET", "/pipeline/jobs/..%2F..%2Fetc", None, 404),
    ("sql in tier", "GET", "/llm/functions?tier=GOLD'%20OR%201=1", None, 422),
    ("sql in opt", "GET", "/data/functions?opt=O0;DROP%20TABLE%20results", None, 422),
    ("negative offset", "GET", "/llm/functions?offset=-1", None, 422),
    ("offset beyond int64", "GET", "/llm/functions?offset=9223372036854775808", None, 422),
    ("huge offset", "GET", "/results/" + EXPERIMENT_ID + "?offset=1" + "0" * 30, None, 422),
    ("limit zero", "GET", "/llm/functions?limit=0", None, 422),
    ("limit above max", "GET", "/data/functions?limit=10001", None, 422),
    ("limit not a number", "GET", "/llm/functions?limit=ten", None, 422),
    ("unknown context level", "GET", "/llm/functions?context_level=L9", None, 422),
    ("unknown metadata mode", "GET", "/llm/functions?metadata_mode=ALL", None, 422),
    ("over-long test case", "GET", "/llm/functions?test_case=" + "x" * 500, None, 422),
    ("bad run id", "GET", "/results/" + EXPERIMENT_ID + "?run_id=a/b", None, 422),
    ("malformed JSON", "POST", "/results/batch", b"{not json", 422),
    ("body is a list", "POST", "/results/batch", b"[]", 422),
    (
        "results not a list",
        "POST",
        "/results/batch",
        json.dumps({"experiment_id": EXPERIMENT_ID, "results": "all"}).encode(),
        422,
    ),
    ("wrong type", "POST", "/results/batch", _batch({"dwarf_function_id": 5, "status": "ok"}), 422),
    (
        "unknown status",
        "POST",
        "/results/batch",
        _batch({"dwarf_function_id": UID, "status": "great"}),
        422,
    ),
    (
        "unknown field",
        "POST",
        "/results/batch",
        _batch({"dwarf_function_id": UID, "status": "ok", "truth_name": "x"}),
        422,
    ),
    (
        "10001 results",
        "POST",
        "/results/batch",
        _batch(*[{"dwarf_function_id": UID, "status": "ok"}] * 10_001),
        422,
    ),
    (
        "over-long name",
        "POST",
        "/results/batch",
        _batch({"dwarf_function_id": UID, "status": "ok", "predicted_name": "n" * 1000}),
        422,
    ),
    (
        "over-long prompt",
        "POST",
        "/results/batch",
        _batch({"dwarf_function_id": UID, "status": "ok", "prompt": "p" * 200_001}),
        422,
    ),
    ("negative cost", "POST", "/results/batch", _raw_result('"cost_usd": -1'), 422),
    ("NaN cost", "POST", "/results/batch", _raw_result('"cost_usd": NaN'), 422),
    ("infinite latency", "POST", "/results/batch", _raw_result('"latency_ms": Infinity'), 422),
    (
        "token count beyond int32",
        "POST",
        "/results/batch",
        _raw_result('"input_tokens": 99999999999999999999'),
        422,
    ),
    ("lone surrogate", "POST", "/results/batch", _raw_result('"response": "\\ud800"'), 422),
    ("experiment not a list", "POST", "/data/experiments/bulk", b'{"id": "x"}', 422),
    ("experiment wrong type", "POST", "/data/experiments/bulk", b'[{"id": "x", "model": 5}]', 422),
    (
        "experiment traversal id",
        "POST",
        "/data/experiments/bulk",
        b'[{"id": "../../x", "model": "m"}]',
        422,
    ),
    (
        "experiment unknown field",
        "POST",
        "/data/experiments",
        b'{"id": "x", "model": "m", "owner": "me"}',
        422,
    ),
    (
        "unknown status value",
        "POST",
        f"/data/experiments/{EXPERIMENT_ID}/status",
        b'{"status": "done"}',
        422,
    ),
    ("traversal program", "POST", "/pipeline/join", b'{"programs": ["../../etc"]}', 422),
    ("slash in program", "POST", "/pipeline/build", b'{"programs": ["a/b"]}', 422),
    ("unknown opt", "POST", "/pipeline/analyze", b'{"opts": ["O9"]}', 422),
    ("unknown route", "GET", "/admin", None, 404),
    ("wrong method", "DELETE", "/data/experiments", None, 405),
]


@pytest.fixture
def hostile_client(client: httpx.Client, corpus: Corpus) -> httpx.Client:
    register(client, [ExperimentConfig(id=EXPERIMENT_ID, model="openai/gpt-4o-mini")])
    return client


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_hostile_request(
    hostile_client: httpx.Client, method: str, path: str, body: bytes | None, status: int
) -> None:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    response = hostile_client.request(method, path, content=body, headers=headers)
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("application/json")
    assert "detail" in response.json()


def test_validation_detail_is_short(hostile_client: httpx.Client) -> None:
    body = _batch(*[{"dwarf_function_id": UID, "status": "ok"}] * 10_001)
    response = hostile_client.post(
        "/results/batch", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert len(response.content) < 2000
    assert response.json()["detail"][0]["loc"] == ["body", "results"]


def test_nul_character_by_backend(hostile_client: httpx.Client, store: Store) -> None:
    # SQLite stores a NUL character; PostgreSQL text cannot hold one, which must be a 422.
    response = hostile_client.post(
        "/results/batch",
        content=_raw_result('"response": "a\\u0000b"'),
        headers={"Content-Type": "application/json"},
    )
    if store.dialect == "postgresql":
        assert response.status_code == 422
        assert "NUL" in response.json()["detail"]
    else:
        assert response.status_code == 200
        assert response.json()["inserted"] == 1


def test_server_survives_hostile_requests(hostile_client: httpx.Client) -> None:
    for _case, method, path, body, _status in CASES:
        hostile_client.request(method, path, content=body)
    assert hostile_client.get("/health").status_code == 200
    assert hostile_client.get(f"/data/experiments/{EXPERIMENT_ID}").status_code == 200


def test_body_above_limit_is_413(hostile_client: httpx.Client) -> None:
    from reforge.api.app import MAX_BODY_BYTES

    body = b'{"experiment_id": "x", "results": [], "pad": "' + b"x" * MAX_BODY_BYTES + b'"}'
    response = hostile_client.post(
        "/results/batch", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
