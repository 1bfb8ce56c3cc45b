"""Pipeline stages run as Celery tasks on the real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from sqlalchemy import select

from reforge.store.db import open_store
from reforge.store.models import Build, Program
from reforge.worker import make_celery, submit_stage

REDIS_URL = os.environ.get("REFORGE_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


pytestmark = [
    pytest.mark.redis,
    pytest.mark.skipif(not _redis_available(), reason=f"no Redis server at {REDIS_URL}"),
]


def test_build_stage_runs_on_worker(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    open_store(database).dispose()
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {
        **os.environ,
        "REFORGE_DATABASE_URL": database,
        "REFORGE_DATA_DIR": str(tmp_path / "data"),
        "REFORGE_REDIS_URL": REDIS_URL,
    }
    command = [sys.executable, "-c", "from reforge.worker import run_worker; run_worker()"]
    worker = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        result = submit_stage(
            "build", programs=["t01_crossfile_calls"], opts=["O0"], app=make_celery(REDIS_URL)
        )
        summary = result.get(timeout=300)
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=60)

    assert summary["failed"] == {}, output
    assert summary["built"] + summary["cached"] == ["t01_crossfile_calls@O0"]
    store = open_store(database)
    with store.session() as session:
        rows = session.execute(
            select(Program.name, Build.opt, Build.ok).join(Program, Program.id == Build.program_id)
        ).all()
    store.dispose()
    assert rows == [("t01_crossfile_calls", "O0", True)]
    assert Path(tmp_path / "data" / "builds" / "t01_crossfile_calls" / "O0-nopie").is_dir()


def test_worker_reports_stage_errors(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'shared.sqlite'}"
    open_store(database).dispose()
    env = {
        **os.environ,
        "REFORGE_DATABASE_URL": database,
        "REFORGE_DATA_DIR": str(tmp_path / "data"),
        "REFORGE_REDIS_URL": REDIS_URL,
    }
    command = [sys.executable, "-c", "from reforge.worker import run_worker; run_worker()"]
    worker = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        result = submit_stage("build", programs=["no_such_program"], app=make_celery(REDIS_URL))
        with pytest.raises(Exception, match="no_such_program"):
            result.get(timeout=300)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
