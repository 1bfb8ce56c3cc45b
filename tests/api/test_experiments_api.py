"""``/health`` and ``/data/experiments``: the seed's registration flow over real HTTP."""

from __future__ import annotations

import httpx

from reforge import __version__
from reforge.experiments import ExperimentConfig, build_benchmark_matrix

from .support import GPT4O_MINI, register


def _matrix() -> list[ExperimentConfig]:
    return build_benchmark_matrix(
        models=GPT4O_MINI, tiers=["GOLD"], opts=["O0", "O3"], context_levels=["L0", "L2"]
    )


def test_health_body(client: httpx.Client) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "healthy",
        "service": "reforge-api",
        "version": __version__,
    }


def test_bulk_counts_created(client: httpx.Client) -> None:
    reply = register(client, _matrix())
    assert reply == {"registered": 4, "created": 4, "updated": 0}


def test_bulk_is_idempotent(client: httpx.Client) -> None:
    register(client, _matrix())
    again = register(client, _matrix())
    assert again == {"registered": 4, "created": 0, "updated": 0}


def test_bulk_counts_updated(client: httpx.Client) -> None:
    matrix = _matrix()
    register(client, matrix)
    changed = [matrix[0].replace(temperature=0.7), *matrix[1:]]
    reply = register(client, changed)
    assert reply == {"registered": 4, "created": 0, "updated": 1}
    served = client.get(f"/data/experiments/{matrix[0].id}").json()
    assert served["temperature"] == 0.7


def test_bulk_keeps_completed_status(client: httpx.Client) -> None:
    matrix = _matrix()
    register(client, matrix)
    done = matrix[0].id
    marked = client.post(f"/data/experiments/{done}/status", json={"status": "completed"})
    assert marked.status_code == 200

    reply = register(client, matrix)

    assert reply == {"registered": 4, "created": 0, "updated": 0}
    assert client.get(f"/data/experiments/{done}").json()["status"] == "completed"
    assert client.get(f"/data/experiments/{matrix[1].id}").json()["status"] == "ready"


def test_list_round_trips_configs(client: httpx.Client) -> None:
    matrix = _matrix()
    register(client, matrix)
    served = client.get("/data/experiments").json()
    assert sorted(served, key=lambda e: e["id"]) == sorted(
        (c.model_dump() for c in matrix), key=lambda e: e["id"]
    )


def test_get_one_round_trips_config(client: httpx.Client) -> None:
    matrix = _matrix()
    register(client, matrix)
    for config in matrix:
        response = client.get(f"/data/experiments/{config.id}")
        assert response.status_code == 200
        assert response.json() == config.model_dump()
        assert ExperimentConfig.model_validate(response.json()) == config


def test_seed_id_and_fields(client: httpx.Client) -> None:
    matrix = build_benchmark_matrix(
        models=GPT4O_MINI, tiers=["GOLD"], opts=["O3"], context_levels=["L2"]
    )
    register(client, matrix)
    served = client.get("/data/experiments/bench_gpt4o-mini_gold_O3_L2").json()
    assert served["model"] == "openai/gpt-4o-mini"
    assert served["context_level"] == "L2"
    assert served["tier"] == "GOLD"
    assert served["opt"] == "O3"
    assert served["status"] == "ready"
    assert "benchmark-v2" in served["tags"]


def test_post_single_experiment(client: httpx.Client) -> None:
    config = ExperimentConfig(id="exp01_funcnaming_gpt4omini_gold_O0", model="openai/gpt-4o-mini")
    first = client.post("/data/experiments", json=config.model_dump())
    second = client.post("/data/experiments", json=config.model_dump())
    assert first.json() == {"id": config.id, "created": 1, "updated": 0}
    assert second.json() == {"id": config.id, "created": 0, "updated": 0}


def test_empty_store_lists_nothing(client: httpx.Client) -> None:
    assert client.get("/data/experiments").json() == []


def test_status_update(client: httpx.Client) -> None:
    matrix = _matrix()
    register(client, matrix)
    response = client.post(f"/data/experiments/{matrix[0].id}/status", json={"status": "completed"})
    assert response.status_code == 200
    assert client.get(f"/data/experiments/{matrix[0].id}").json()["status"] == "completed"
    assert client.get(f"/data/experiments/{matrix[1].id}").json()["status"] == "ready"


def test_unknown_experiment_is_404(client: httpx.Client) -> None:
    response = client.get("/data/experiments/bench_nobody_gold_O0_L0")
    assert response.status_code == 404
    assert "bench_nobody_gold_O0_L0" in response.json()["detail"]
    assert "not found" in response.json()["detail"]
