"""The runner's async client of the reforge API, against the real API over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.corpus_store import Corpus, fill_corpus
from api.support import register, served
from reforge.api.background import BackgroundServer, free_port
from reforge.config import Settings
from reforge.errors import ConfigError, NotFoundError, StoreError
from reforge.experiments import ExperimentConfig
from reforge.llm import api_client
from reforge.llm.api_client import ReforgeApiClient
from reforge.store.db import Store

CONFIG = ExperimentConfig(id="client_test", model="openai/gpt-4o-mini")


@pytest.fixture
def corpus(store: Store) -> Corpus:
    return fill_corpus(store)


@pytest.fixture
def api(store: Store, corpus: Corpus, tmp_path: Path) -> Iterator[BackgroundServer]:
    settings = Settings(data_dir=tmp_path / "reforge-data", api_token=None)
    with served(store, settings) as (server, client):
        register(client, [CONFIG])
        yield server


async def _collect(client: ReforgeApiClient, params: dict, limit: int | None = None) -> list:
    return [item async for item in client.iter_llm_functions(params, limit=limit)]


async def test_pages_cover_every_function(
    api: BackgroundServer, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_client, "PAGE_SIZE", 5)
    async with ReforgeApiClient(api.url) as client:
        items = await _collect(client, {"context_level": "L0", "tier": None})
    assert [i["dwarf_function_id"] for i in items] == [f.uid for f in corpus.select()]


async def test_limit_stops_early(
    api: BackgroundServer, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(api_client, "PAGE_SIZE", 5)
    async with ReforgeApiClient(api.url) as client:
        items = await _collect(client, {"opt": "O0"}, limit=7)
    assert [i["dwarf_function_id"] for i in items] == [f.uid for f in corpus.select(opt="O0")][:7]


async def test_exact_page_multiple(api: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # 24 functions in pages of 8: the last page is full, so one more (empty) page is read.
    monkeypatch.setattr(api_client, "PAGE_SIZE", 8)
    async with ReforgeApiClient(api.url) as client:
        items = await _collect(client, {})
    assert len(items) == 24


async def test_results_and_spend(api: BackgroundServer, corpus: Corpus) -> None:
    function = corpus.select(opt="O0", tier="GOLD")[0]
    result = {"dwarf_function_id": function.uid, "status": "ok", "cost_usd": 0.5}
    async with ReforgeApiClient(api.url) as client:
        reply = await client.post_results(CONFIG.id, [result])
        assert reply["inserted"] == 1
        stored = await client.get_results(CONFIG.id, "main")
        assert [row["dwarf_function_id"] for row in stored] == [function.uid]
        assert await client.get_results(CONFIG.id, "other") == []
        assert await client.spent_usd() == 0.5


async def test_unknown_experiment_is_not_found(api: BackgroundServer) -> None:
    async with ReforgeApiClient(api.url) as client:
        with pytest.raises(NotFoundError, match="nobody"):
            await client.get_experiment("nobody")


async def test_rejected_batch_is_config_error(api: BackgroundServer) -> None:
    async with ReforgeApiClient(api.url) as client:
        with pytest.raises(ConfigError, match="422"):
            await client.post_results(CONFIG.id, [{"dwarf_function_id": "x", "status": "?"}])


async def test_unreachable_api_is_store_error() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with ReforgeApiClient(url, timeout=2.0) as client:
        with pytest.raises(StoreError, match="cannot reach the reforge API"):
            await client.health()


async def test_token_sent(store: Store, corpus: Corpus, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", api_token="secret-token")
    with served(store, settings) as (server, http):
        headers = {"Authorization": "Bearer secret-token"}
        assert http.post("/data/experiments", json=CONFIG.model_dump(), headers=headers).is_success
        async with ReforgeApiClient(server.url) as anonymous:
            with pytest.raises(ConfigError, match="401"):
                await anonymous.set_status(CONFIG.id, "running")
        async with ReforgeApiClient(server.url, token="secret-token") as client:
            await client.set_status(CONFIG.id, "running")
        assert httpx.get(f"{server.url}/data/experiments/{CONFIG.id}").json()["status"] == (
            "running"
        )
