"""Who may reach the API: the bind-address check and the bearer token on write endpoints."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from reforge.api import create_app
from reforge.api.background import BackgroundServer
from reforge.api.security import check_bind_address, is_loopback
from reforge.config import Settings
from reforge.errors import ConfigError
from reforge.experiments import ExperimentConfig
from reforge.store.db import Store

from .corpus_store import Corpus

TOKEN = "reforge-test-token-5b1c0e"
CONFIG = ExperimentConfig(id="bench_gpt4o-mini_gold_O0_L0", model="openai/gpt-4o-mini")
UID = "kestrel:O0:nopie:0x2d"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "10.0.0.1", "example.org"])
def test_public_bind_without_token_rejected(host: str) -> None:
    with pytest.raises(ConfigError, match="REFORGE_API_TOKEN"):
        check_bind_address(host, None)
    with pytest.raises(ConfigError):
        check_bind_address(host, "")


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5"])
def test_public_bind_with_token_allowed(host: str) -> None:
    check_bind_address(host, TOKEN)


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "localhost"])
def test_loopback_bind_allowed(host: str) -> None:
    assert is_loopback(host)
    check_bind_address(host, None)


@pytest.fixture
def guarded(store: Store, corpus: Corpus, api_settings: Settings) -> Iterator[httpx.Client]:
    """A client of an API that requires `TOKEN` on write endpoints, with `CONFIG` registered."""
    settings = Settings(data_dir=api_settings.data_dir, api_token=TOKEN)
    with (
        BackgroundServer(create_app(store, settings)) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        response = client.post(
            "/data/experiments/bulk",
            json=[CONFIG.model_dump()],
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert response.status_code == 200
        yield client


def _writes() -> list[tuple[str, str, dict | list | None]]:
    result = {"dwarf_function_id": UID, "status": "ok", "predicted_name": "x"}
    return [
        ("POST", "/data/experiments", CONFIG.model_dump()),
        ("POST", "/data/experiments/bulk", [CONFIG.model_dump()]),
        ("POST", f"/data/experiments/{CONFIG.id}/status", {"status": "running"}),
        ("POST", "/results/batch", {"experiment_id": CONFIG.id, "results": [result]}),
        ("POST", f"/results/{CONFIG.id}/score", None),
        ("POST", "/pipeline/join", {"programs": ["t01_crossfile_calls"]}),
    ]


READS = [
    "/health",
    "/data/experiments",
    f"/data/experiments/{CONFIG.id}",
    "/data/functions",
    "/data/summary",
    "/data/training",
    "/llm/functions",
    f"/results/{CONFIG.id}",
    f"/results/{CONFIG.id}/scores",
    "/results/spend",
    "/pipeline/jobs",
]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN, "Bearer", f"Bearer {TOKEN}x"],
    ids=["missing", "wrong", "basic", "no-scheme", "empty", "longer"],
)
def test_write_without_token_is_401(guarded: httpx.Client, authorization: str | None) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    for method, path, body in _writes():
        response = guarded.request(method, path, json=body, headers=headers)
        assert response.status_code == 401, (path, response.text)
        assert "Bearer" in response.json()["detail"]
        assert response.headers["www-authenticate"] == "Bearer"


def test_rejected_write_changes_nothing(guarded: httpx.Client) -> None:
    result = {"dwarf_function_id": UID, "status": "ok", "predicted_name": "x"}
    guarded.post("/results/batch", json={"experiment_id": CONFIG.id, "results": [result]})
    assert guarded.get(f"/results/{CONFIG.id}").json() == []


def test_write_with_token_succeeds(guarded: httpx.Client) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    for method, path, body in _writes():
        response = guarded.request(method, path, json=body, headers=headers)
        assert 200 <= response.status_code < 300, (path, response.text)
    assert len(guarded.get(f"/results/{CONFIG.id}").json()) == 1


def test_reads_stay_open(guarded: httpx.Client) -> None:
    for path in READS:
        response = guarded.get(path)
        assert response.status_code == 200, (path, response.text)


def test_no_token_means_open_writes(client: httpx.Client) -> None:
    response = client.post("/data/experiments/bulk", json=[CONFIG.model_dump()])
    assert response.status_code == 200
