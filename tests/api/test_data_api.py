"""``/data/functions``, ``/data/summary``, ``/data/training`` and the pipeline job endpoints."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import select

from reforge.store.db import Store
from reforge.store.models import Build, JoinedFunction

from .corpus_store import FUNCTIONS, PROGRAMS, Corpus


def _get(client: httpx.Client, path: str, **params: object) -> object:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_functions_carry_ground_truth(client: httpx.Client) -> None:
    rows = _get(client, "/data/functions", test_case="kestrel", opt="O0")
    assert [row["name"] for row in rows] == [spec.name for spec in FUNCTIONS["kestrel"]]
    first = rows[0]
    assert first["decl_file"] == "src/kestrel_parse.c"
    assert first["confidence_tier"] == "GOLD"
    assert first["stable_key"] == "kestrel:src/kestrel_parse.c:10:1:parse_header"
    assert first["ghidra_name"] == "FUN_00401000"
    assert first["c_raw"] is None


def test_functions_filters(client: httpx.Client) -> None:
    everything = _get(client, "/data/functions")
    # Both programs at both opt levels, every DWARF function, nopie builds only.
    assert len(everything) == 2 * (len(FUNCTIONS["kestrel"]) + len(FUNCTIONS["osprey"]))
    gold = _get(client, "/data/functions", tier="GOLD", opt="O2")
    assert sorted(row["name"] for row in gold) == sorted(
        spec.name for program in PROGRAMS for spec in FUNCTIONS[program] if spec.tier == "GOLD"
    )
    pie = _get(client, "/data/functions", variant="pie")
    assert [row["name"] for row in pie] == ["parse_header"]


def test_functions_pages(client: httpx.Client) -> None:
    everything = _get(client, "/data/functions")
    pages = []
    for offset in range(0, len(everything), 7):
        pages += _get(client, "/data/functions", limit=7, offset=offset)
    assert [row["dwarf_function_id"] for row in pages] == [
        row["dwarf_function_id"] for row in everything
    ]


def test_functions_with_code(client: httpx.Client, corpus: Corpus) -> None:
    rows = _get(client, "/data/functions", test_case="osprey", opt="O0", include_code=True)
    for row in rows:
        assert row["c_raw"] == corpus.by_uid(row["dwarf_function_id"]).c_raw


def test_summary_counts(client: httpx.Client) -> None:
    summary = _get(client, "/data/summary")
    assert summary["programs"] == 2
    assert len(summary["builds"]) == 5
    # Per opt level, nopie only: kestrel 6 GOLD, 1 SILVER, 1 BRONZE, 2 untiered;
    # osprey 3 GOLD, 1 SILVER.
    expected = {"GOLD": 9, "SILVER": 2, "BRONZE": 1, "none": 2}
    assert summary["tiers_by_opt"] == {"O0": expected, "O2": expected}


def test_summary_build_rows(client: httpx.Client) -> None:
    builds = _get(client, "/data/summary")["builds"]
    kestrel_o0 = next(
        b for b in builds if (b["program"], b["opt"], b["variant"]) == ("kestrel", "O0", "nopie")
    )
    assert kestrel_o0["dwarf_functions"] == 10
    assert kestrel_o0["decompiled_ok"] == 9
    assert kestrel_o0["match_kinds"] == {"JOINED_STRONG": 9, "NO_MATCH": 1}
    pie = next(b for b in builds if b["variant"] == "pie")
    assert pie["dwarf_functions"] == 1


def test_training_rows(client: httpx.Client) -> None:
    rows = _get(client, "/data/training", opt="O0")
    assert {row["group"] for row in rows} == {"kestrel", "osprey"}
    names = sorted(row["name"] for row in rows)
    assert names == sorted(
        spec.name
        for program in PROGRAMS
        for spec in FUNCTIONS[program]
        if spec.tier is not None and spec.c_raw is not None
    )
    assert all("FUN_" in row["text"] for row in rows)


def _wait_for_job(client: httpx.Client, job_id: str) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = _get(client, f"/pipeline/jobs/{job_id}")
        if job["state"] in ("succeeded", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not finish")


def test_join_job_waits(client: httpx.Client, store: Store) -> None:
    response = client.post("/pipeline/join", params={"wait": True}, json={})
    assert response.status_code == 200
    job = response.json()
    assert job["stage"] == "join"
    assert job["state"] == "succeeded", job["error"]
    with store.session() as session:
        nopie = session.scalars(select(Build.id).where(Build.variant == "nopie")).all()
        joined = session.scalars(
            select(JoinedFunction).where(JoinedFunction.dwarf_function_id.is_not(None))
        ).all()
    assert sorted(job["summary"]["joined"]) == sorted(nopie)
    assert job["summary"]["missing_inputs"] == {}
    assert joined
    assert _get(client, f"/pipeline/jobs/{job['job_id']}")["state"] == "succeeded"


def test_join_job_in_background(client: httpx.Client) -> None:
    response = client.post("/pipeline/join", json={"opts": ["O2"]})
    assert response.status_code == 200
    job_id = response.json()["job_id"]
    assert response.json()["params"] == {"programs": [], "opts": ["O2"], "pie": False}
    finished = _wait_for_job(client, job_id)
    assert finished["state"] == "succeeded", finished["error"]
    # kestrel and osprey at O2.
    assert len(finished["summary"]["joined"]) == 2
    listed = _get(client, "/pipeline/jobs")
    assert job_id in [job["job_id"] for job in listed]


@pytest.mark.parametrize("stage", ["build", "truth", "analyze", "join"])
def test_unknown_program_is_422(client: httpx.Client, stage: str) -> None:
    before = _get(client, "/pipeline/jobs")
    response = client.post(
        f"/pipeline/{stage}", params={"wait": True}, json={"programs": ["no_such_case"]}
    )
    assert response.status_code == 422
    assert "no_such_case" in response.json()["detail"]
    assert "t01_crossfile_calls" in response.json()["detail"]
    assert _get(client, "/pipeline/jobs") == before


def test_unknown_job_is_404(client: httpx.Client) -> None:
    response = client.get("/pipeline/jobs/0123456789abcdef")
    assert response.status_code == 404
    assert "0123456789abcdef" in response.json()["detail"]
