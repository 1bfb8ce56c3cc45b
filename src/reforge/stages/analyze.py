"""Analysis stage: decompile each build's stripped binary and store the functions.

Only the stripped binary is read here (`reforge.binary`). A build whose
stripped binary, analysis version and instruction budget are unchanged is
skipped; otherwise its decompiled functions are replaced, which also drops
its joined rows until the join stage runs again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete
from sqlalchemy.orm import Session

from reforge.binary import analyze_binary
from reforge.binary.records import DecompiledFunction
from reforge.config import Settings
from reforge.errors import ReforgeError
from reforge.stages.artifacts import verify_artifact
from reforge.stages.selection import select_opts, stored_builds
from reforge.store.blobs import put_blob
from reforge.store.db import Store
from reforge.store.models import BinaryFunction, Build, JoinedFunction

logger = logging.getLogger(__name__)

ANALYSIS_VERSION = "1"


@dataclass(slots=True)
class AnalysisStageReport:
    """Per build: decompiled, skipped as unchanged, or failed with a message."""

    analysed: dict[int, tuple[int, int]] = field(default_factory=dict)
    """Build id -> (functions found, functions decompiled)."""
    unchanged: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _BuildInputs:
    build_id: int
    program: str
    opt: str
    variant: str
    path: str | None
    sha256: str | None
    expected_hash: str
    stored_hash: str | None


def _analysis_hash(build: Build, settings: Settings) -> str:
    # A digest, because builds.analysis_hash is VARCHAR(64) and PostgreSQL enforces it.
    inputs = (
        f"{build.stripped_sha256}:{ANALYSIS_VERSION}:{settings.decompile_max_instructions}"
        f":{settings.decompile_timeout:g}"
    )
    return hashlib.sha256(inputs.encode()).hexdigest()


def run_analysis_stage(
    store: Store,
    settings: Settings,
    *,
    programs: Sequence[str] | None = None,
    opts: Sequence[str] | None = None,
    pie: bool = False,
    progress: bool = True,
    force: bool = False,
) -> AnalysisStageReport:
    """Decompile the selected builds' stripped binaries and store the results."""
    report = AnalysisStageReport()
    with store.session() as session:
        builds = [
            _BuildInputs(
                build_id=build.id,
                program=build.program.name,
                opt=build.opt,
                variant=build.variant,
                path=build.stripped_path,
                sha256=build.stripped_sha256,
                expected_hash=_analysis_hash(build, settings),
                stored_hash=build.analysis_hash,
            )
            for build in stored_builds(
                session,
                programs=programs,
                opts=select_opts(opts),
                variant="pie" if pie else "nopie",
            )
        ]
    for inputs in builds:
        build_id, path, expected = inputs.build_id, inputs.path, inputs.expected_hash
        if not force and inputs.stored_hash == expected:
            report.unchanged.append(build_id)
            continue
        try:
            verify_artifact(
                path,
                inputs.sha256,
                program=inputs.program,
                opt=inputs.opt,
                variant=inputs.variant,
                kind="stripped binary",
            )
            analysis = analyze_binary(
                path or "",
                workers=settings.effective_workers,
                max_instructions=settings.decompile_max_instructions,
                timeout=settings.decompile_timeout,
                progress=progress,
            )
        except (ReforgeError, OSError) as exc:
            message = f"decompiling {path} failed: {exc}"
            logger.error("%s", message)
            report.failed[build_id] = message
            continue
        with store.session() as session:
            _store_functions(session, build_id, analysis.functions, expected)
        ok = sum(1 for function in analysis.functions if function.status == "ok")
        report.analysed[build_id] = (len(analysis.functions), ok)
        logger.info(
            "%s: %d functions, %d decompiled in %.1f s",
            path,
            len(analysis.functions),
            ok,
            analysis.seconds,
        )
    return report


def _store_functions(
    session: Session, build_id: int, functions: list[DecompiledFunction], analysis_hash: str
) -> None:
    session.execute(delete(JoinedFunction).where(JoinedFunction.build_id == build_id))
    session.execute(delete(BinaryFunction).where(BinaryFunction.build_id == build_id))
    for function in functions:
        session.add(_row(session, build_id, function))
    build = session.get(Build, build_id)
    assert build is not None
    build.analysis_hash = analysis_hash
    session.flush()


def _row(session: Session, build_id: int, function: DecompiledFunction) -> BinaryFunction:
    ok = function.status == "ok"
    return BinaryFunction(
        build_id=build_id,
        entry_va=function.entry_va,
        ghidra_entry_va=function.ghidra_entry_va,
        ghidra_name=function.ghidra_name,
        body_ranges=[list(pair) for pair in function.body_ranges],
        size=function.size,
        status=function.status,
        error_code=function.error_code,
        error_message=function.error_message,
        c_raw_sha256=put_blob(session, function.c_raw) if ok else None,
        c_decompiler_sha256=put_blob(session, function.c_decompiler) if ok else None,
        calls_text=function.calls_text or None,
        cfg_text=function.cfg_text or None,
        variables_text=function.variables_text or None,
        loc_decompiled=function.loc_decompiled if ok else None,
        bb_count=function.bb_count if ok else None,
        edge_count=function.edge_count if ok else None,
        cyclomatic=function.cyclomatic if ok else None,
        instruction_count=function.instruction_count if ok else None,
        call_count=function.call_count if ok else None,
        warning_codes=list(function.warning_codes),
        fatal_warning=function.fatal_warning,
        cfg_completeness=function.cfg_completeness,
        is_thunk=function.is_thunk,
        callees=[str(callee) if isinstance(callee, str) else callee for callee in function.callees],
        seconds=function.seconds,
    )
