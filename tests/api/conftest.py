"""Fixtures of the API tests: the corpus store served over real HTTP on a loopback port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reforge.api import create_app
from reforge.api.background import BackgroundServer
from reforge.config import Settings
from reforge.store.db import Store

from .corpus_store import Corpus, fill_corpus


@pytest.fixture
def api_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with a data folder in `tmp_path`, no API token and no model API."""
    for name in ("REFORGE_API_TOKEN", "REFORGE_LLM_BASE_URL", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Settings(data_dir=tmp_path / "reforge-data", api_token=None)


@pytest.fixture
def corpus(store: Store) -> Corpus:
    """The corpus fixture stored in a fresh store of each back-end."""
    return fill_corpus(store)


@pytest.fixture
def api(store: Store, corpus: Corpus, api_settings: Settings) -> Iterator[BackgroundServer]:
    """The API of the corpus store on a loopback port."""
    with BackgroundServer(create_app(store, api_settings)) as server:
        yield server


@pytest.fixture
def client(api: BackgroundServer) -> Iterator[httpx.Client]:
    """An HTTP client of `api`."""
    with httpx.Client(base_url=api.url, timeout=60.0) as http:
        yield http
