"""The single-experiment HTML page and the API route that serves it."""

from __future__ import annotations

import base64
import re

import httpx
import numpy as np
import pytest

from reforge.api.app import create_app
from reforge.config import Settings
from reforge.errors import NotFoundError
from reforge.experiments import ExperimentConfig
from reforge.report.experiment_page import render_experiment_report
from reforge.store.db import Store
from reforge.store.experiments import upsert_experiments
from reforge.store.scores import score_rows

from .conftest import FilledStore

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_page_has_id_and_inline_png(filled_store: FilledStore) -> None:
    with filled_store.store.session() as session:
        html = render_experiment_report(session, "b_O0_L0")

    assert "b_O0_L0" in html
    assert '<img src="data:image/png;base64,' in html
    encoded = re.search(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    assert encoded is not None
    assert base64.b64decode(encoded.group(1))[:8] == PNG_MAGIC


def test_page_numbers_from_score_rows(filled_store: FilledStore) -> None:
    with filled_store.store.session() as session:
        html = render_experiment_report(session, "b_O0_L0")
        rows = score_rows(session, "b_O0_L0")["rows"]
    answered = [row for row in rows if row["outcome"] == "answered"]
    failed = sum(row["outcome"] == "provider_failure" for row in rows)
    mean = np.mean([row["token_f1"] for row in answered])

    assert f"<th>provider failures</th><td>{failed}</td>" in html
    assert f"<th>answered</th><td>{len(answered)}</td>" in html
    assert f"<td>{mean:.3f} [" in html
    assert "<td>alpha</td>" in html
    assert "<td>beta</td>" in html


def test_page_lists_predictions_with_truth(filled_store: FilledStore) -> None:
    with filled_store.store.session() as session:
        html = render_experiment_report(session, "a_O0_L0")
        rows = score_rows(session, "a_O0_L0")["rows"]
    best = max(rows, key=lambda row: row["token_f1"])

    assert "Best predictions" in html
    assert "Worst predictions" in html
    assert f"<td>{best['truth_name']}</td>" in html
    assert f"<td>{best['predicted_name']}</td>" in html


def test_page_without_results(store: Store) -> None:
    with store.session() as session:
        upsert_experiments(session, [ExperimentConfig(id="idle", model="openai/gpt-4o")])
        html = render_experiment_report(session, "idle")

    assert "idle" in html
    assert "no results yet" in html
    assert "data:image/png" not in html


def test_page_unknown_experiment(store: Store) -> None:
    with store.session() as session, pytest.raises(NotFoundError, match="nope"):
        render_experiment_report(session, "nope")


async def test_report_route(filled_store: FilledStore, settings: Settings) -> None:
    app = create_app(store=filled_store.store, settings=settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        found = await client.get("/results/trivial_O0/report")
        missing = await client.get("/results/missing/report")

    assert found.status_code == 200
    assert found.headers["content-type"].startswith("text/html")
    assert "trivial_O0" in found.text
    assert "data:image/png;base64," in found.text
    assert missing.status_code == 404
