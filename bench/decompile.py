"""Benchmark of the binary-analysis stage against bare flatline calls.

Builds Lua 5.4.4 at -O0 and -O2 with the project's build stage (the tarball is
found the way `reforge corpus list` finds it) or takes stripped binaries as
arguments, and prints, for each binary, in one run:

- functions per second of the whole stage (`reforge.binary.analyze_binary`,
  from loading the file to the last record) with 1 and with 2 worker processes,
  and the speed-up from 1 to 2 workers;
- the time of bare flatline calls on the same function list, run in a child
  process: one session, the unpatched image, the same instruction budget and
  ``enriched=True`` like the stage (and, for reference, without P-code);
- the ratio stage (1 worker) / bare;
- the peak resident set size of each worker process;
- CPU seconds (user + system) of the stage's workers and of the bare calls, which
  other load on the machine disturbs less than wall time.

Usage::

    .venv/bin/python bench/decompile.py                 # build Lua and measure
    .venv/bin/python bench/decompile.py a.stripped b.stripped --repeat 3

Timings are wall-clock seconds on whatever else the machine runs at the same
time; the load average is printed before and after so a disturbed run shows.
With ``--repeat N`` every figure is the best of N runs.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import flatline

from reforge.binary import analyze_binary, load_binary
from reforge.binary.decompiler import COMPILER_SPEC, LANGUAGE_ID
from reforge.config import Settings
from reforge.corpus import BuildRequest, build_program, get_program

GIB = 1 << 30


@dataclass
class BareRun:
    seconds: float
    cpu_seconds: float
    errors: int
    peak_rss: int


@dataclass
class Row:
    name: str
    functions: int
    stage: dict[int, float]
    """Workers -> seconds of the whole stage."""
    stage_rss: dict[int, list[int]]
    """Workers -> peak RSS of each worker process, bytes."""
    stage_cpu: dict[int, float]
    """Workers -> CPU seconds of all worker processes together."""
    bare_enriched: BareRun
    bare_plain: BareRun | None


def binary_label(path: Path) -> str:
    """Name a binary for the table: the build folder (``O2-nopie``) tells the level apart."""
    if path.parent.name.startswith("O"):
        return f"{path.name}-{path.parent.name}"
    return path.name


def build_lua(folder: Path) -> list[Path]:
    """Build Lua at -O0 and -O2 with the project's build stage; return the stripped binaries."""
    settings = Settings(data_dir=folder)
    manifest = get_program("lua")
    binaries = []
    for opt in ("O0", "O2"):
        print(f"building lua at {opt} ...", file=sys.stderr, flush=True)
        result = build_program(BuildRequest(manifest, opt), settings)
        if not result.ok or result.stripped_path is None:
            raise SystemExit(f"building lua failed: {result.error}")
        binaries.append(result.stripped_path)
    return binaries


def bare_calls(path: str, entries: list[int], max_instructions: int, enriched: bool) -> BareRun:
    """Decompile `entries` of the unpatched image in one session (runs in a child process)."""
    binary = load_binary(path)
    budget = flatline.AnalysisBudget(max_instructions=max_instructions)
    errors = 0
    with flatline.DecompilerSession() as session:
        started = time.perf_counter()
        cpu_started = time.process_time()
        for entry in entries:
            request = flatline.DecompileRequest(
                memory_image=binary.image,
                base_address=binary.image_base,
                function_address=entry,
                language_id=LANGUAGE_ID,
                compiler_spec=COMPILER_SPEC,
                analysis_budget=budget,
                enriched=enriched,
            )
            result = session.decompile_function(request)
            errors += result.error is not None
            del result
        seconds = time.perf_counter() - started
        cpu_seconds = time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return BareRun(seconds=seconds, cpu_seconds=cpu_seconds, errors=errors, peak_rss=peak)


def run_bare(path: Path, entries: list[int], max_instructions: int, enriched: bool) -> BareRun:
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(bare_calls, str(path), entries, max_instructions, enriched).result()


def measure(path: Path, workers: list[int], repeat: int, max_instructions: int, plain: bool) -> Row:
    stage: dict[int, float] = {}
    stage_rss: dict[int, list[int]] = {}
    stage_cpu: dict[int, float] = {}
    entries: list[int] = []
    functions = 0
    for count in workers:
        for _ in range(repeat):
            analysis = analyze_binary(
                path, workers=count, max_instructions=max_instructions, progress=False
            )
            if count not in stage or analysis.seconds < stage[count]:
                stage[count] = analysis.seconds
                stage_rss[count] = sorted(analysis.worker_peak_rss.values())
                stage_cpu[count] = sum(analysis.worker_cpu_seconds.values())
            entries = [f.ghidra_entry_va for f in analysis.functions]
            functions = len(analysis.functions)
    bare = min(
        (run_bare(path, entries, max_instructions, True) for _ in range(repeat)),
        key=lambda run: run.seconds,
    )
    bare_plain = None
    if plain:
        bare_plain = min(
            (run_bare(path, entries, max_instructions, False) for _ in range(repeat)),
            key=lambda run: run.seconds,
        )
    return Row(binary_label(path), functions, stage, stage_rss, stage_cpu, bare, bare_plain)


def print_rows(rows: list[Row], workers: list[int]) -> None:
    header = ["binary", "functions"]
    header += [f"stage {w}w fn/s" for w in workers]
    header += ["speed-up", "bare fn/s", "stage/bare", "bare no-pcode fn/s", "peak RSS/worker GiB"]
    lines = [header]
    for row in rows:
        line = [row.name, str(row.functions)]
        line += [f"{row.functions / row.stage[w]:.1f}" for w in workers]
        first, last = workers[0], workers[-1]
        line.append(f"{row.stage[first] / row.stage[last]:.2f}x" if len(workers) > 1 else "-")
        line.append(f"{row.functions / row.bare_enriched.seconds:.1f}")
        line.append(f"{row.stage[first] / row.bare_enriched.seconds:.2f}")
        line.append(f"{row.functions / row.bare_plain.seconds:.1f}" if row.bare_plain else "-")
        rss = [value / GIB for w in workers for value in row.stage_rss[w]]
        line.append(f"{max(rss):.2f}" if rss else "-")
        lines.append(line)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))
    print()
    for row in rows:
        seconds = ", ".join(f"{w} worker(s) {row.stage[w]:.2f} s" for w in workers)
        rss = "; ".join(
            f"{w}w: " + ", ".join(f"{v / GIB:.2f}" for v in row.stage_rss[w]) for w in workers
        )
        cpu = ", ".join(f"{w}w {row.stage_cpu[w]:.2f}" for w in workers)
        bare = row.bare_enriched
        print(
            f"{row.name}: stage {seconds}; bare {bare.seconds:.2f} s "
            f"({bare.errors} errors, RSS {bare.peak_rss / GIB:.2f} GiB); worker RSS GiB {rss}; "
            f"CPU s: stage {cpu}, bare {bare.cpu_seconds:.2f} "
            f"(stage 1w / bare {row.stage_cpu[workers[0]] / bare.cpu_seconds:.2f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "binaries", nargs="*", type=Path, help="stripped binaries (default: build Lua)"
    )
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to time")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the best is kept")
    parser.add_argument("--max-instructions", type=int, default=100_000, help="decompiler budget")
    parser.add_argument("--no-plain", action="store_true", help="skip bare calls without P-code")
    args = parser.parse_args()
    workers = [int(value) for value in args.workers.split(",")]

    print(f"load average before: {os.getloadavg()}", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="reforge-bench-") as folder:
        binaries = args.binaries or build_lua(Path(folder))
        rows = []
        for path in binaries:
            print(f"measuring {binary_label(path)} ...", file=sys.stderr, flush=True)
            rows.append(
                measure(path, workers, args.repeat, args.max_instructions, not args.no_plain)
            )
    print(f"load average after: {os.getloadavg()}", file=sys.stderr)
    print_rows(rows, workers)


if __name__ == "__main__":
    main()
