"""Fixtures for CLI tests: the ``reforge`` console script run in a subprocess.

All commands of one module share a data folder, so a case is built, read and
decompiled once and later commands see the stored rows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

# tests/truth has no __init__.py; its helper modules are imported by file name.
TRUTH_TESTS = Path(__file__).resolve().parents[1] / "truth"
if str(TRUTH_TESTS) not in sys.path:
    sys.path.insert(0, str(TRUTH_TESTS))

REFORGE = Path(sys.executable).with_name("reforge")

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="module")
def cli_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-data")


@pytest.fixture(scope="module")
def run_cli(cli_data_dir: Path) -> RunCli:
    """Return a function that runs ``reforge ARGS`` with the module's data folder."""
    return cli_runner(cli_data_dir)


def cli_runner(data_dir: Path) -> RunCli:
    """Return a function that runs ``reforge ARGS`` with `data_dir` as its data folder."""
    if not REFORGE.is_file():
        pytest.fail(f"console script {REFORGE} is missing; install the package into the venv")
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("REFORGE_") and key != "OPENROUTER_API_KEY"
    }
    env["REFORGE_DATA_DIR"] = str(data_dir)
    env["REFORGE_WORKERS"] = "2"

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        completed = subprocess.run(
            [str(REFORGE), *args],
            cwd=data_dir,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if check and completed.returncode != 0:
            pytest.fail(
                f"reforge {' '.join(args)} exited with {completed.returncode}:\n{completed.stderr}"
            )
        return completed

    return run
