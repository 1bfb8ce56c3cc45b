"""The test stack of the notebook tests: store location, servers, ports and commands."""

from __future__ import annotations

import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

PROGRAM = "t01_crossfile_calls"
OPTS = ("O0", "O2")
KERNEL_NAME = "reforge-notebook-test"
SERVER_START_TIMEOUT = 60.0  # seconds
# Variables that would point the servers or the kernel somewhere else than the test store.
FOREIGN_ENV = (
    "REFORGE_DATABASE_URL",
    "REFORGE_API_TOKEN",
    "REFORGE_BUDGET_USD",
    "REFORGE_MODEL_CATALOG",
    "REFORGE_TEMPLATE_DIR",
    "REFORGE_LLM_BASE_URL",
    "REFORGE_LLM_API_KEY",
    "OPENROUTER_API_KEY",
)


@dataclass(frozen=True, slots=True)
class Servers:
    """The running test servers and the data folder they share."""

    data_dir: Path
    api_url: str
    llm_base_url: str

    @property
    def database(self) -> Path:
        """The SQLite file of the store."""
        return self.data_dir / "reforge.sqlite"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(data_dir: Path) -> dict[str, str]:
    """Return the environment of a server subprocess: this one, aimed at `data_dir`."""
    env = {key: value for key, value in os.environ.items() if key not in FOREIGN_ENV}
    env["REFORGE_DATA_DIR"] = str(data_dir)
    return env


def reforge_command() -> list[str]:
    """Return the command that runs the ``reforge`` CLI of this interpreter's environment."""
    script = Path(sys.executable).with_name("reforge")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from reforge.cli import main; main()"]
