"""Helpers shared by the API, runner and store tests: a served corpus store and row counts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx
from sqlalchemy import func, select

from reforge.api import create_app
from reforge.api.background import BackgroundServer
from reforge.config import Settings
from reforge.experiments import ExperimentConfig
from reforge.store.db import Store
from reforge.store.models import Result

GPT4O_MINI = {"gpt4o-mini": "openai/gpt-4o-mini"}


@contextmanager
def served(store: Store, settings: Settings) -> Iterator[tuple[BackgroundServer, httpx.Client]]:
    """Serve `store` on a loopback port and yield the server and an HTTP client of it."""
    with (
        BackgroundServer(create_app(store, settings)) as server,
        httpx.Client(base_url=server.url, timeout=60.0) as client,
    ):
        yield server, client


def register(client: httpx.Client, configs: Sequence[ExperimentConfig]) -> dict[str, Any]:
    """Register experiments through ``POST /data/experiments/bulk``; return the reply."""
    response = client.post("/data/experiments/bulk", json=[c.model_dump() for c in configs])
    assert response.status_code == 200, response.text
    return response.json()


def results_per_function(store: Store, experiment_id: str) -> Counter[str]:
    """Count the stored result rows of one experiment per function uid."""
    statement = (
        select(Result.function_uid, func.count())
        .where(Result.experiment_id == experiment_id)
        .group_by(Result.function_uid)
    )
    with store.session() as session:
        return Counter({uid: count for uid, count in session.execute(statement)})


def result_rows(store: Store, experiment_id: str) -> list[Result]:
    """Return the stored result rows of one experiment, detached from the session."""
    with store.session() as session:
        rows = list(session.scalars(select(Result).where(Result.experiment_id == experiment_id)))
        session.expunge_all()
    return rows
