"""A runner killed with SIGKILL mid-run and started again loses nothing and duplicates nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.corpus_store import Corpus, fill_corpus
from api.support import register, results_per_function, served
from reforge.config import Settings
from reforge.experiments import ExperimentConfig
from reforge.llm.runner import run_experiment
from reforge.llm.scripted_server import ScriptedServer
from reforge.store.db import Store

RUNNER_SCRIPT = """\
import asyncio
import sys
from pathlib import Path

from reforge.config import Settings
from reforge.llm.runner import run_experiment

experiment_id, api_base, llm_base_url, data_dir = sys.argv[1:5]
asyncio.run(
    run_experiment(
        experiment_id,
        api_base=api_base,
        llm_base_url=llm_base_url,
        concurrency=2,
        batch_size=2,
        progress=False,
        settings=Settings(data_dir=Path(data_dir), api_token=None),
    )
)
"""
CONCURRENCY = 2


@pytest.fixture
def model() -> Iterator[ScriptedServer]:
    with ScriptedServer(delay=0.3) as running:
        yield running


def _wait_for_results(client: httpx.Client, experiment_id: str, minimum: int) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        count = len(client.get(f"/results/{experiment_id}").json())
        if count >= minimum:
            return count
        time.sleep(0.05)
    raise AssertionError(f"fewer than {minimum} results were posted within 60 s")


@pytest.mark.timeout(180)
async def test_sigkill_then_resume(
    store: Store, model: ScriptedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("REFORGE_API_TOKEN", "REFORGE_LLM_BASE_URL", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    corpus: Corpus = fill_corpus(store)
    functions = corpus.select()
    settings = Settings(data_dir=tmp_path / "reforge-data", api_token=None)
    config = ExperimentConfig(id="crash_all_tiers_L2", model="openai/gpt-4o-mini")
    script = tmp_path / "run_one.py"
    script.write_text(RUNNER_SCRIPT)

    with served(store, settings) as (server, client):
        register(client, [config])
        child = subprocess.Popen(
            [
                sys.executable,
                str(script),
                config.id,
                server.url,
                model.base_url,
                str(settings.data_dir),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stderr=subprocess.PIPE,
        )
        try:
            posted = _wait_for_results(client, config.id, 4)
        finally:
            child.send_signal(signal.SIGKILL)
            _, stderr = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL, stderr.decode()[-2000:]
        before_resume = len(client.get(f"/results/{config.id}").json())
        assert posted <= before_resume < len(functions)

        model.delay = 0.0
        summary = await run_experiment(
            config.id,
            api_base=server.url,
            llm_base_url=model.base_url,
            settings=settings,
            concurrency=CONCURRENCY,
            progress=False,
        )

    counts = results_per_function(store, config.id)
    assert counts == {f.uid: 1 for f in functions}
    assert summary["total"] == len(functions)
    assert summary["skipped"] == before_resume
    assert summary["new"] == len(functions) - before_resume
    assert summary["errors"] == 0
    # Replies that arrived before the kill come from the reply cache on resume.
    # Only the calls in flight at the moment of the kill reach the model twice.
    assert len(functions) <= model.request_count <= len(functions) + CONCURRENCY
