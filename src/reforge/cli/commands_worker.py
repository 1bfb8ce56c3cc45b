"""Scale-out commands: ``worker`` runs stages from Redis, ``submit`` queues one."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from reforge.cli.common import parse_opts


def register(app: typer.Typer) -> None:
    """Add the scale-out commands to `app`."""
    app.command("worker")(worker_command)
    app.command("submit")(submit_command)


def worker_command(
    name: Annotated[str, typer.Option(help="Worker name shown by Celery.")] = "reforge-worker",
) -> None:
    """Run pipeline stages queued on Redis (REFORGE_REDIS_URL) against the shared store."""
    from reforge.worker import run_worker

    run_worker(concurrency_name=name)


def submit_command(
    stage: Annotated[str, typer.Argument(help="build, truth, analyze or join.")],
    programs: Annotated[list[str] | None, typer.Argument(help="Programs (default: all).")] = None,
    opt: Annotated[str | None, typer.Option("--opt", help="Comma-separated levels.")] = None,
    pie: Annotated[bool, typer.Option("--pie", help="Use the PIE builds.")] = False,
    wait: Annotated[bool, typer.Option(help="Wait for the worker's summary.")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait.")] = 3600.0,
) -> None:
    """Queue one pipeline stage for `reforge worker` processes."""
    from reforge.errors import ConfigError
    from reforge.worker import submit_stage

    if stage not in ("build", "truth", "analyze", "join"):
        raise ConfigError(f"unknown stage {stage!r}; use build, truth, analyze or join")
    result = submit_stage(stage, programs=programs, opts=parse_opts(opt), pie=pie)
    typer.echo(f"queued {stage} as task {result.id}")
    if wait:
        typer.echo(json.dumps(result.get(timeout=timeout), indent=2, default=str))
