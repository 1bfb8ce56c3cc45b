"""The ``reforge`` command line (typer).

Every listing command takes ``--json`` and then prints one JSON object per
line with stable snake_case keys, for scripts and other tools.
"""

from __future__ import annotations

import logging
import sys

import typer

from reforge.cli import (
    commands_corpus,
    commands_llm,
    commands_pipeline,
    commands_serve,
    commands_worker,
)
from reforge.errors import ReforgeError

app = typer.Typer(
    name="reforge",
    help="Benchmark how well language models recover function names from stripped binaries.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(commands_corpus.corpus_app, name="corpus")
commands_pipeline.register(app)
commands_llm.register(app)
commands_serve.register(app)
commands_worker.register(app)


@app.callback()
def _configure(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log at DEBUG level."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # Alembic logs every migration step and httpx every request at INFO. CLI
    # output shows only their warnings and errors, unless -v is given.
    for chatty in ("alembic", "httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.DEBUG if verbose else logging.WARNING)


def main() -> None:
    """Run the CLI; errors of the reforge tree print one line and exit with status 1."""
    try:
        app()
    except ReforgeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc
