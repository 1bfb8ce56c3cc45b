"""Fixtures of the notebook tests: a small store, two servers and a Jupyter kernel.

The store contains one synthetic case built, decompiled and joined at O0 and O2.
``reforge serve`` and the scripted OpenAI-compatible model server run as
subprocesses on free loopback ports. The kernel is a kernelspec installed into
a temporary prefix that starts this interpreter, found through ``JUPYTER_PATH``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from reforge.config import Settings
from reforge.stages.analyze import run_analysis_stage
from reforge.stages.build import run_build_stage
from reforge.stages.join import run_join_stage
from reforge.stages.truth import run_truth_stage
from reforge.store.db import open_store

from .stack import (
    KERNEL_NAME,
    OPTS,
    PROGRAM,
    SERVER_START_TIMEOUT,
    Servers,
    free_port,
    reforge_command,
    server_env,
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``notebooks`` marker (deselect with ``-m 'not notebooks'``)."""
    config.addinivalue_line(
        "markers", "notebooks: executes the notebooks under notebooks/ in a Jupyter kernel"
    )


@pytest.fixture(scope="session")
def notebook_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder whose store has `PROGRAM` built, decompiled and joined at `OPTS`."""
    data_dir = tmp_path_factory.mktemp("notebook-store") / "reforge-data"
    settings = Settings(data_dir=data_dir, database_url=None, workers=2, tarball_dir=None)
    store = open_store(settings.effective_database_url)
    try:
        built = run_build_stage(store, settings, programs=[PROGRAM], opts=OPTS, progress=False)
        assert not built.failed, [result.error for result in built.failed]
        truth = run_truth_stage(store, settings, programs=[PROGRAM], opts=OPTS, progress=False)
        assert not truth.failed, truth.failed
        analysis = run_analysis_stage(
            store, settings, programs=[PROGRAM], opts=OPTS, progress=False
        )
        assert not analysis.failed, analysis.failed
        joined = run_join_stage(store, programs=[PROGRAM], opts=OPTS, progress=False)
        assert len(joined.joined) == len(OPTS), joined.missing_inputs
    finally:
        store.dispose()
    return data_dir


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"server for {url} exited with code {process.returncode}; log {log}:\n"
                f"{log.read_text(errors='replace')[-3000:]}"
            )
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(
        f"server for {url} did not answer within {SERVER_START_TIMEOUT:.0f} s; log {log}:\n"
        f"{log.read_text(errors='replace')[-3000:]}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def servers(notebook_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """``reforge serve`` on the test store and the scripted model server, as subprocesses."""
    workdir = tmp_path_factory.mktemp("servers")
    env = server_env(notebook_data_dir)
    api_port, llm_port = free_port(), free_port()
    commands = {
        "api": [*reforge_command(), "serve", "--host", "127.0.0.1", "--port", str(api_port)],
        "llm": [
            sys.executable,
            "-m",
            "reforge.llm.scripted_server",
            "--host",
            "127.0.0.1",
            "--port",
            str(llm_port),
        ],
    }
    health_urls = {
        "api": f"http://127.0.0.1:{api_port}/health",
        "llm": f"http://127.0.0.1:{llm_port}/v1/models",
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for name, command in commands.items():
            log = workdir / f"{name}.log"
            with log.open("wb") as sink:
                process = subprocess.Popen(
                    command, cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT
                )
            processes.append(process)
            _wait_until_up(process, health_urls[name], log)
        yield Servers(
            data_dir=notebook_data_dir,
            api_url=f"http://127.0.0.1:{api_port}",
            llm_base_url=f"http://127.0.0.1:{llm_port}/v1",
        )
    finally:
        for process in processes:
            _stop(process)


@pytest.fixture(scope="session")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``JUPYTER_PATH`` folder with a kernelspec `KERNEL_NAME` that runs `sys.executable`."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter-prefix")
    spec_dir = Path(install(kernel_name=KERNEL_NAME, prefix=str(prefix)))
    argv = json.loads((spec_dir / "kernel.json").read_text())["argv"]
    assert argv[0] == sys.executable, argv
    return prefix / "share" / "jupyter"
