"""Model commands: ``run`` one experiment and ``experiments`` listing and registration."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Annotated

import typer

from reforge.cli.common import load_settings, open_default_store
from reforge.cli.output import print_json_lines, print_table

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")]


def register(app: typer.Typer) -> None:
    """Add the model commands to `app`."""
    app.command("run")(run_command)
    app.command("experiments")(experiments_command)


def run_command(
    experiment: Annotated[str, typer.Option("--experiment", "-e", help="Experiment id.")],
    api_base: Annotated[
        str | None, typer.Option("--api-base", help="reforge API URL (default REFORGE_API_URL).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Parallel model calls.")] = 5,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Render prompts and round-trip the API; no model calls."),
    ] = False,
    run_id: Annotated[
        str, typer.Option("--run-id", help="Run name; results are unique per run.")
    ] = "main",
    budget: Annotated[
        float | None, typer.Option(help="Spending ceiling in USD (default REFORGE_BUDGET_USD).")
    ] = None,
    llm_base_url: Annotated[
        str | None,
        typer.Option(help="OpenAI-compatible server URL, e.g. http://127.0.0.1:8000/v1."),
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request.")] = False,
) -> None:
    """Run one experiment against its model and store the results through the API."""
    from reforge.llm.runner import run_experiment

    if verbose:
        logging.getLogger("reforge").setLevel(logging.DEBUG)
    settings = load_settings()
    summary = asyncio.run(
        run_experiment(
            experiment,
            api_base=api_base or settings.api_url,
            concurrency=concurrency,
            dry_run=dry_run,
            run_id=run_id,
            budget_usd=budget,
            llm_base_url=llm_base_url,
            settings=settings,
        )
    )
    typer.echo(json.dumps(summary, indent=2))
    if summary["errors"]:
        raise typer.Exit(code=2)


def experiments_command(
    register_matrix: Annotated[
        bool, typer.Option("--register-matrix", help="Register the full default benchmark matrix.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """List stored experiments; optionally register the default benchmark matrix first."""
    from reforge.experiments import build_benchmark_matrix
    from reforge.store.experiments import list_experiments, upsert_experiments

    settings = load_settings()
    store = open_default_store(settings)
    with store.session() as session:
        if register_matrix:
            created, updated = upsert_experiments(session, build_benchmark_matrix())
            typer.echo(f"registered the benchmark matrix: {created} new, {updated} updated")
        configs = list_experiments(session)
    store.dispose()
    if as_json:
        print_json_lines(config.model_dump(mode="json") for config in configs)
        return
    print_table(
        ["id", "model", "tier", "opt", "ctx", "status"],
        [
            [config.id, config.model, config.tier, config.opt, config.context_level, config.status]
            for config in configs
        ],
    )
