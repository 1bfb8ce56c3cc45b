"""Truth stage: DWARF oracle, source oracle and their alignment for each build.

For every successful build, the debug binary's DWARF functions are read, the
build's preprocessed translation units are scanned for function definitions,
and each DWARF function is aligned to the definitions of its own translation
unit. The stage computes in worker processes and writes from the parent.

Idempotence: a build whose debug binary and oracle version are unchanged is
skipped. When the debug binary changed, its old rows (and the joins and
results that refer to them) are deleted, because DIE offsets of a new binary
name other functions.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from reforge.binary.pool import start_forkserver
from reforge.config import Settings
from reforge.errors import ReforgeError
from reforge.stages.artifacts import verify_artifact
from reforge.stages.selection import select_opts, stored_builds
from reforge.store.db import Store
from reforge.store.models import Alignment, Build, DwarfFunction, Program, SourceFunction
from reforge.truth.align import align_functions, make_stable_key, normalise_path
from reforge.truth.dwarf import DwarfFunction as DwarfRecord
from reforge.truth.dwarf import read_dwarf_functions
from reforge.truth.source import SourceFunction as SourceRecord
from reforge.truth.source import find_source_functions

logger = logging.getLogger(__name__)

TRUTH_VERSION = "1"


@dataclass(slots=True)
class TruthJob:
    """Inputs of one build's truth computation (picklable)."""

    build_id: int
    program: str
    opt: str
    variant: str
    debug_path: str
    debug_sha256: str | None
    source_root: str
    preprocessed: dict[str, str]


@dataclass(slots=True)
class TruthOutput:
    """What one build's truth computation produced."""

    build_id: int
    dwarf: list[DwarfRecord] = field(default_factory=list)
    sources: list[SourceRecord] = field(default_factory=list)
    alignments: dict[int, tuple[str, int | None, float, int, str | None, str | None]] = field(
        default_factory=dict
    )
    error: str | None = None


@dataclass(slots=True)
class TruthStageReport:
    """Per build: computed, skipped as unchanged, or failed with a message."""

    computed: list[int] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


def compute_truth(job: TruthJob) -> TruthOutput:
    """Read DWARF and sources of one build and align them (runs in a worker)."""
    output = TruthOutput(job.build_id)
    try:
        verify_artifact(
            job.debug_path,
            job.debug_sha256,
            program=job.program,
            opt=job.opt,
            variant=job.variant,
            kind="debug binary",
        )
        output.dwarf = read_dwarf_functions(job.debug_path)
        output.sources = _scan_sources(job)
    except (ReforgeError, OSError) as exc:
        output.error = f"ground truth of {job.program} ({job.debug_path}) failed: {exc}"
        return output

    root = Path(job.source_root)
    by_tu: dict[str, list[SourceRecord]] = defaultdict(list)
    for source in output.sources:
        by_tu[normalise_path(source.tu, root)].append(source)

    # Align each compile unit against its own translation unit's definitions, so
    # a header body compiled into several units is not ambiguous.
    by_cu: dict[str | None, list[DwarfRecord]] = defaultdict(list)
    for function in output.dwarf:
        cu_name = function.cu_name
        by_cu[normalise_path(cu_name, root) if cu_name else None].append(function)
    for cu_name, functions in by_cu.items():
        candidates = by_tu.get(cu_name) if cu_name is not None else None
        if candidates is None:
            candidates = output.sources
        for alignment in align_functions(functions, candidates, source_root=root):
            function = next(f for f in functions if f.die_offset == alignment.die_offset)
            key = make_stable_key(
                job.program,
                function.decl_file,
                function.decl_line,
                function.decl_column,
                function.name,
                source_root=root,
            )
            source_index = (
                output.sources.index(alignment.source) if alignment.source is not None else None
            )
            output.alignments[alignment.die_offset] = (
                alignment.kind,
                source_index,
                alignment.overlap,
                alignment.candidates,
                alignment.reason,
                key,
            )
    return output


def _scan_sources(job: TruthJob) -> list[SourceRecord]:
    sources: list[SourceRecord] = []
    for tu, path in sorted(job.preprocessed.items()):
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        sources.extend(find_source_functions(text, tu, cwd=Path(job.source_root)))
    return sources


def run_truth_stage(
    store: Store,
    settings: Settings,
    *,
    programs: Sequence[str] | None = None,
    opts: Sequence[str] | None = None,
    pie: bool = False,
    progress: bool = True,
    force: bool = False,
) -> TruthStageReport:
    """Compute and store ground truth for the selected builds."""
    report = TruthStageReport()
    variant = "pie" if pie else "nopie"
    with store.session() as session:
        builds = stored_builds(session, programs=programs, opts=select_opts(opts), variant=variant)
        jobs = []
        for build in builds:
            if not force and build.truth_hash == _truth_hash(build):
                report.unchanged.append(build.id)
                continue
            jobs.append(_job_for(session, build))

    if not jobs:
        return report
    workers = min(settings.effective_workers, len(jobs))
    bar = tqdm(total=len(jobs), desc="ground truth", unit="build", disable=not progress)
    # Workers start from the fork server instead of fork(), because the caller
    # may run threads (the API runs stages in threads) and a forked child
    # inherits their locks but not the threads. `start_forkserver` starts the
    # server with the decompiler preload, so later analysis workers keep it.
    start_forkserver()
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for output in pool.map(compute_truth, jobs):
            bar.update()
            if output.error:
                logger.error("%s", output.error)
                report.failed[output.build_id] = output.error
                continue
            with store.session() as session:
                _store_output(session, output)
            report.computed.append(output.build_id)
    bar.close()
    return report


# builds.truth_hash is VARCHAR(64), and PostgreSQL enforces the length. So the
# stamp keeps the first 56 hex digits (224 bits) of the debug binary's sha256
# and then the oracle version, and `_store_output` can still tell a new binary
# from a new oracle version.
_STAMP_DIGITS = 56


def _truth_hash(build: Build) -> str:
    return f"{_binary_stamp(build)}{TRUTH_VERSION}"


def _binary_stamp(build: Build) -> str:
    return f"{(build.debug_sha256 or '')[:_STAMP_DIGITS]}:"


def _job_for(session: Session, build: Build) -> TruthJob:
    program = session.get(Program, build.program_id)
    assert program is not None
    root = build.source_root or ""
    preprocessed = {
        source: path if os.path.isabs(path) else str(Path(root) / path)
        for source, path in (build.preprocessed or {}).items()
    }
    return TruthJob(
        build_id=build.id,
        program=program.name,
        opt=build.opt,
        variant=build.variant,
        debug_path=build.debug_path or "",
        debug_sha256=build.debug_sha256,
        source_root=root,
        preprocessed=preprocessed,
    )


def _store_output(session: Session, output: TruthOutput) -> None:
    build = session.get(Build, output.build_id)
    assert build is not None
    program = session.get(Program, build.program_id)
    assert program is not None

    # Rows of another debug binary are deleted, not updated by DIE offset. The
    # build stage clears truth_hash when the debug binary changes, so a missing
    # hash also means that any stored rows describe an older binary.
    stale = build.truth_hash is None or not build.truth_hash.startswith(_binary_stamp(build))
    if stale:
        session.execute(delete(DwarfFunction).where(DwarfFunction.build_id == build.id))
    session.execute(delete(SourceFunction).where(SourceFunction.build_id == build.id))
    session.flush()

    source_rows = [_source_row(build.id, source) for source in output.sources]
    session.add_all(source_rows)
    session.flush()

    existing = {
        row.die_offset: row
        for row in session.scalars(select(DwarfFunction).where(DwarfFunction.build_id == build.id))
    }
    seen = set()
    for record in output.dwarf:
        row = existing.get(record.die_offset)
        if row is None:
            row = DwarfFunction(
                build_id=build.id,
                die_offset=record.die_offset,
                uid=function_uid(program.name, build.opt, build.variant, record),
            )
            session.add(row)
        _fill_dwarf_row(row, record)
        seen.add(record.die_offset)
    for offset, row in existing.items():
        if offset not in seen:
            session.delete(row)
    session.flush()

    rows_by_offset = {
        row.die_offset: row
        for row in session.scalars(select(DwarfFunction).where(DwarfFunction.build_id == build.id))
    }
    session.execute(
        delete(Alignment).where(
            Alignment.dwarf_function_id.in_([row.id for row in rows_by_offset.values()])
        )
    )
    for offset, values in output.alignments.items():
        kind, source_index, overlap, candidates, reason, key = values
        session.add(
            Alignment(
                dwarf_function_id=rows_by_offset[offset].id,
                source_function_id=source_rows[source_index].id
                if source_index is not None
                else None,
                kind=kind,
                overlap=overlap,
                candidates=candidates,
                reason=reason,
                stable_key=key,
            )
        )
    build.truth_hash = _truth_hash(build)
    session.flush()


def function_uid(program: str, opt: str, variant: str, record: DwarfRecord) -> str:
    """Return the opaque, globally unique key of one DWARF function row."""
    suffix = "" if variant == "nopie" else f"-{variant}"
    return f"{program}@{opt}{suffix}:cu{record.cu_offset:#x}:die{record.die_offset:#x}"


def _fill_dwarf_row(row: DwarfFunction, record: DwarfRecord) -> None:
    row.cu_offset = record.cu_offset
    row.cu_name = record.cu_name
    row.name = record.name
    row.linkage_name = record.linkage_name
    row.low_pc = record.low_pc
    row.high_pc = record.high_pc
    row.ranges = [list(pair) for pair in record.ranges]
    row.decl_file = record.decl_file
    row.decl_line = record.decl_line
    row.decl_column = record.decl_column
    row.dominant_file = record.dominant_file
    row.dominant_file_share = record.dominant_file_share
    row.line_min = record.line_min
    row.line_max = record.line_max
    row.line_row_count = record.line_row_count
    row.is_external = record.is_external
    row.is_inlined_copy = record.is_inlined_copy
    row.is_artificial = record.is_artificial
    row.verdict = record.verdict
    row.reasons = list(record.reasons)


def _source_row(build_id: int, source: SourceRecord) -> SourceFunction:
    return SourceFunction(
        build_id=build_id,
        tu=source.tu,
        name=source.name,
        file=source.file,
        start_line=source.start_line,
        end_line=source.end_line,
        start_column=source.start_column,
        is_static=source.is_static,
        is_inline=source.is_inline,
        from_header=source.from_header,
    )
