"""Pipeline commands: truth, analyze, builds, functions, score, report and demo."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from sqlalchemy import select

from reforge.cli.common import load_settings, open_default_store, parse_opts
from reforge.cli.output import print_json_lines, print_table
from reforge.errors import ConfigError
from reforge.store.models import Build, Program

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")]
OptOption = Annotated[
    str | None, typer.Option("--opt", help="Comma-separated levels, e.g. O0,O2 (default: all).")
]
PieOption = Annotated[bool, typer.Option("--pie", help="Use the PIE builds.")]
ProgramsArgument = Annotated[
    list[str] | None, typer.Argument(help="Programs (default: every built program).")
]


def register(app: typer.Typer) -> None:
    """Add the pipeline commands to `app`."""
    app.command("truth")(truth_command)
    app.command("analyze")(analyze_command)
    app.command("builds")(builds_command)
    app.command("functions")(functions_command)
    app.command("score")(score_command)
    app.command("report")(report_command)
    app.command("demo")(demo_command)


def truth_command(
    programs: ProgramsArgument = None,
    opt: OptOption = None,
    pie: PieOption = False,
    force: Annotated[bool, typer.Option(help="Recompute unchanged builds too.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Run the DWARF and source oracles on built programs and align them."""
    from reforge.stages.truth import run_truth_stage

    settings = load_settings()
    store = open_default_store(settings)
    report = run_truth_stage(
        store,
        settings,
        programs=programs,
        opts=parse_opts(opt),
        pie=pie,
        progress=not as_json,
        force=force,
    )
    _print_build_table(
        store, programs, parse_opts(opt), pie, as_json, kind="truth", failures=report.failed
    )
    store.dispose()
    _exit_on_failures(report.failed)


def analyze_command(
    programs: ProgramsArgument = None,
    opt: OptOption = None,
    pie: PieOption = False,
    force: Annotated[bool, typer.Option(help="Decompile unchanged builds again.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Decompile stripped binaries, join them to ground truth and assign tiers."""
    from reforge.stages.analyze import run_analysis_stage
    from reforge.stages.join import run_join_stage
    from reforge.stages.truth import run_truth_stage

    settings = load_settings()
    store = open_default_store(settings)
    opts = parse_opts(opt)
    truth = run_truth_stage(
        store, settings, programs=programs, opts=opts, pie=pie, progress=not as_json
    )
    analysis = run_analysis_stage(
        store, settings, programs=programs, opts=opts, pie=pie, progress=not as_json, force=force
    )
    run_join_stage(store, programs=programs, opts=opts, pie=pie, progress=not as_json)
    failures = {**truth.failed, **analysis.failed}
    _print_build_table(store, programs, opts, pie, as_json, kind="analysis", failures=failures)
    store.dispose()
    _exit_on_failures(failures)


def _exit_on_failures(failures: dict[int, str]) -> None:
    for message in failures.values():
        typer.echo(f"error: {message}", err=True)
    if failures:
        raise typer.Exit(code=1)


def _print_build_table(
    store: Any,
    programs: list[str] | None,
    opts: list[str] | None,
    pie: bool,
    as_json: bool,
    *,
    kind: str,
    failures: dict[int, str],
) -> None:
    """Print per-build counts; a build that failed in this run is marked, with its old rows."""
    from reforge.store.summary import build_counts

    variant = "pie" if pie else "nopie"
    with store.session() as session:
        counts = [
            {**row, "failed": build_id in failures, "error": failures.get(build_id)}
            for build_id, row in build_counts(session).items()
            if row["variant"] == variant
            and (not programs or row["program"] in programs)
            and (not opts or row["opt"] in opts)
        ]
    counts.sort(key=lambda row: (row["program"], row["opt"]))
    if as_json:
        print_json_lines(counts)
        return
    if kind == "truth":
        headers = ["program", "opt", "functions", "with range", "ACCEPT", "WARN", "REJECT"]
        headers.append("status")
        rows = [
            [
                row["program"],
                row["opt"],
                row["dwarf_functions"],
                row["with_range"],
                row["verdicts"].get("ACCEPT", 0),
                row["verdicts"].get("WARN", 0),
                row["verdicts"].get("REJECT", 0),
                _status(row),
            ]
            for row in counts
        ]
    else:
        headers = [
            "program",
            "opt",
            "found",
            "decompiled",
            "GOLD",
            "SILVER",
            "BRONZE",
            "none",
            "status",
        ]
        rows = [
            [
                row["program"],
                row["opt"],
                row["decompiled_found"],
                row["decompiled_ok"],
                row["tiers"].get("GOLD", 0),
                row["tiers"].get("SILVER", 0),
                row["tiers"].get("BRONZE", 0),
                row["tiers"].get("none", 0),
                _status(row),
            ]
            for row in counts
        ]
    print_table(headers, rows)
    if any(row["failed"] for row in counts):
        typer.echo("A failed build's counts are the rows an earlier run stored, if any.")


def _status(row: dict[str, Any]) -> str:
    return "FAILED" if row["failed"] else "ok"


def builds_command(as_json: JsonOption = False) -> None:
    """List every build: program, opt, variant, paths, sha256, compiler and flags."""
    settings = load_settings()
    store = open_default_store(settings)
    with store.session() as session:
        statement = (
            select(Program.name, Build)
            .join(Program, Program.id == Build.program_id)
            .order_by(Program.name, Build.opt, Build.variant)
        )
        rows = [
            {
                "program": name,
                "opt": build.opt,
                "variant": build.variant,
                "ok": build.ok,
                "debug_path": build.debug_path,
                "stripped_path": build.stripped_path,
                "debug_sha256": build.debug_sha256,
                "stripped_sha256": build.stripped_sha256,
                "compiler": build.compiler,
                "strip_version": build.strip_version,
                "flags": build.flags,
                "ldflags": build.ldflags,
                "input_hash": build.input_hash,
                "built_at": build.built_at,
                "error": build.error,
            }
            for name, build in session.execute(statement)
        ]
    store.dispose()
    if as_json:
        print_json_lines(rows)
        return
    print_table(
        ["program", "opt", "variant", "ok", "stripped sha256", "stripped path"],
        [
            [
                row["program"],
                row["opt"],
                row["variant"],
                "yes" if row["ok"] else "FAILED",
                (row["stripped_sha256"] or "")[:16],
                row["stripped_path"] or row["error"],
            ]
            for row in rows
        ],
    )


def functions_command(
    program: Annotated[str, typer.Argument(help="Program name.")],
    opt: Annotated[str, typer.Option("--opt", help="Optimisation level, e.g. O2.")],
    pie: PieOption = False,
    as_json: JsonOption = False,
) -> None:
    """List one build's functions: ground truth, join, tier and decompiled fields."""
    from reforge.corpus import get_program
    from reforge.store.functions import truth_rows

    get_program(program)
    levels = parse_opts(opt)
    if not levels or len(levels) != 1:
        raise ConfigError(f"--opt takes one level, got {opt!r}")
    settings = load_settings()
    store = open_default_store(settings)
    with store.session() as session:
        rows = truth_rows(
            session,
            program=program,
            opt=levels[0],
            variant="pie" if pie else "nopie",
            include_code=as_json,
        )
    store.dispose()
    if not rows:
        selection = f"{program} --opt {levels[0]}" + (" --pie" if pie else "")
        raise ConfigError(
            f"no functions stored for {program!r} at {levels[0]}"
            f"{' (PIE)' if pie else ''}; run `reforge corpus build {selection}` and "
            f"`reforge analyze {selection}` first"
        )
    if as_json:
        print_json_lines(rows)
        return
    print_table(
        ["name", "low_pc", "verdict", "alignment", "ghidra_name", "match", "tier", "leak"],
        [
            [
                row["name"] or "-",
                f"{row['low_pc']:#x}" if row.get("low_pc") is not None else "",
                row.get("verdict"),
                row.get("alignment"),
                row.get("ghidra_name"),
                row.get("match_kind"),
                row.get("confidence_tier"),
                "yes" if row.get("leak") else "",
            ]
            for row in rows
        ],
    )


def score_command(
    experiments: Annotated[
        list[str] | None, typer.Option("--experiments", "-e", help="Experiment ids (default: all).")
    ] = None,
    rescore: Annotated[bool, typer.Option(help="Score already scored results again.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Score stored results against ground truth with the current scorer."""
    from reforge.store.experiments import list_experiments
    from reforge.store.scores import score_experiment

    settings = load_settings()
    store = open_default_store(settings)
    outcomes = []
    with store.session() as session:
        ids = experiments or [config.id for config in list_experiments(session)]
        for experiment_id in ids:
            outcomes.append(score_experiment(session, experiment_id, rescore=rescore))
    store.dispose()
    if as_json:
        print_json_lines(outcomes)
        return
    print_table(
        ["experiment", "scored", "outcomes"],
        [[row["experiment_id"], row["scored"], row["outcomes"]] for row in outcomes],
    )


def report_command(
    out: Annotated[str, typer.Option("--out", help="Folder for the report.")] = "reforge-report",
    experiments: Annotated[
        list[str] | None, typer.Option("--experiments", "-e", help="Experiment ids (default: all).")
    ] = None,
    model_a: Annotated[str | None, typer.Option(help="First model of the McNemar test.")] = None,
    model_b: Annotated[str | None, typer.Option(help="Second model of the McNemar test.")] = None,
) -> None:
    """Write the analysis report (HTML, PNG figures, CSV and LaTeX tables)."""
    from pathlib import Path

    from reforge.report.build import write_report

    settings = load_settings()
    store = open_default_store(settings)
    with store.session() as session:
        index = write_report(
            session, Path(out), experiments=experiments, mcnemar_models=(model_a, model_b)
        )
    store.dispose()
    typer.echo(f"report written to {index}")


def demo_command(
    skip_realworld: Annotated[
        bool, typer.Option(help="Only the synthetic cases, even when tarballs are present.")
    ] = False,
    out: Annotated[str | None, typer.Option("--out", help="Report folder.")] = None,
) -> None:
    """Run the whole benchmark: build, decompile, join, ask models, score and report."""
    from reforge.demo import run_demo

    settings = load_settings()
    run_demo(settings, include_realworld=not skip_realworld, report_dir=out)
