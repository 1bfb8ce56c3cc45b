"""``reforge corpus``: list, fetch and build the corpus programs."""

from __future__ import annotations

from typing import Annotated

import typer

from reforge.cli.common import load_settings, open_default_store, parse_opts
from reforge.cli.output import print_json_lines, print_table
from reforge.corpus import fetch_tarball as fetch_program_tarball
from reforge.corpus import find_tarball, get_program, list_programs
from reforge.errors import TarballError

corpus_app = typer.Typer(help="List, fetch and build corpus programs.", no_args_is_help=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")]
OptOption = Annotated[
    str | None, typer.Option("--opt", help="Comma-separated levels, e.g. O0,O2 (default: all).")
]


@corpus_app.command("list")
def list_command(as_json: JsonOption = False) -> None:
    """List the synthetic cases and real-world programs with their source status."""
    settings = load_settings()
    rows = []
    for manifest in list_programs():
        available = True
        if manifest.kind == "realworld":
            try:
                find_tarball(manifest, settings)
            except TarballError:
                available = False
        rows.append(
            {
                "name": manifest.name,
                "kind": manifest.kind,
                "version": manifest.version,
                "sources": len(manifest.sources),
                "available": available,
                "description": manifest.description,
                "stresses": list(manifest.stresses),
            }
        )
    if as_json:
        print_json_lines(rows)
        return
    print_table(
        ["name", "kind", "version", "sources", "available", "description"],
        [
            [
                row["name"],
                row["kind"],
                row["version"],
                row["sources"],
                "yes" if row["available"] else "no (tarball missing)",
                str(row["description"])[:60],
            ]
            for row in rows
        ],
    )


@corpus_app.command("fetch")
def fetch_command(name: Annotated[str, typer.Argument(help="Real-world program name.")]) -> None:
    """Download a real-world program's source tarball with ``apt-get source``."""
    settings = load_settings()
    path = fetch_program_tarball(get_program(name), settings)
    print(f"{name}: {path} (sha256 verified)")


@corpus_app.command("build")
def build_command(
    names: Annotated[list[str] | None, typer.Argument(help="Programs (default: all).")] = None,
    opt: OptOption = None,
    pie: Annotated[
        bool, typer.Option("--pie", help="Build position-independent executables.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build debug and stripped binaries for programs at optimisation levels."""
    from reforge.stages.build import run_build_stage

    settings = load_settings()
    store = open_default_store(settings)
    report = run_build_stage(
        store, settings, programs=names, opts=parse_opts(opt), pie=pie, progress=not as_json
    )
    store.dispose()
    if as_json:
        print_json_lines(result.to_json() for result in report.results)
    else:
        _print_build_summary(report)
    if report.failed:
        raise typer.Exit(code=1)


def _print_build_summary(report: object) -> None:
    from reforge.stages.build import BuildStageReport

    assert isinstance(report, BuildStageReport)
    programs = sorted({result.program for result in report.results})
    opts = sorted({result.opt for result in report.results})
    status = {(result.program, result.opt): result for result in report.results}
    rows = []
    for program in programs:
        cells: list[object] = [program]
        for opt in opts:
            result = status.get((program, opt))
            if result is None:
                cells.append("")
            elif not result.ok:
                cells.append("FAILED")
            else:
                cells.append("cached" if result.cached else "built")
        rows.append(cells)
    print_table(["program", *opts], rows)
    built = sum(1 for result in report.results if result.ok and not result.cached)
    cached = sum(1 for result in report.results if result.cached)
    print(f"\n{built} built, {cached} unchanged (cached), {len(report.failed)} failed")
    for result in report.failed:
        print(f"  {result.error}")
    for name, reason in report.skipped.items():
        print(f"  skipped {name}: {reason}")
