"""Build stage: compile the corpus and record every build in the store."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from reforge.config import Settings
from reforge.corpus import BuildRequest, BuildResult, Manifest, build_programs
from reforge.stages.selection import select_opts, select_programs
from reforge.store.db import Store
from reforge.store.models import Build, Program

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class BuildStageReport:
    """What the build stage did: one result per request, plus skipped programs."""

    results: list[BuildResult]
    skipped: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[BuildResult]:
        """Builds that did not produce binaries."""
        return [result for result in self.results if not result.ok]


def run_build_stage(
    store: Store,
    settings: Settings,
    *,
    programs: Sequence[str] | None = None,
    opts: Sequence[str] | None = None,
    pie: bool = False,
    progress: bool = True,
) -> BuildStageReport:
    """Build the selected programs at the selected levels and store the outcomes."""
    selection = select_programs(programs, settings)
    levels = select_opts(opts)
    requests = [
        BuildRequest(manifest, opt, pie) for manifest in selection.manifests for opt in levels
    ]
    results = build_programs(requests, settings, progress=progress)
    manifests = {manifest.name: manifest for manifest in selection.manifests}
    with store.session() as session:
        for result in results:
            record_build(session, manifests[result.program], result)
    for result in results:
        if not result.ok:
            logger.error("%s", result.error)
    return BuildStageReport(results, selection.skipped)


def upsert_program(session: Session, manifest: Manifest) -> Program:
    """Insert or refresh the program row of `manifest`."""
    row = session.scalar(select(Program).where(Program.name == manifest.name))
    if row is None:
        row = Program(name=manifest.name)
        session.add(row)
    row.kind = manifest.kind
    row.version = manifest.version
    row.description = manifest.description
    row.manifest = manifest.model_dump(mode="json", exclude={"manifest_path"})
    session.flush()
    return row


def record_build(session: Session, manifest: Manifest, result: BuildResult) -> Build:
    """Insert or update the build row of one result.

    A failed rebuild keeps no stale artefact paths, so later stages skip it.
    """
    program = upsert_program(session, manifest)
    row = session.scalar(
        select(Build).where(
            Build.program_id == program.id, Build.opt == result.opt, Build.variant == result.variant
        )
    )
    if row is None:
        row = Build(program_id=program.id, opt=result.opt, variant=result.variant)
        session.add(row)
    if row.debug_sha256 != result.debug_sha256:
        row.truth_hash = None
    if row.stripped_sha256 != result.stripped_sha256:
        row.analysis_hash = None
    row.ok = result.ok
    row.error = result.error
    row.debug_path = str(result.debug_path) if result.debug_path else None
    row.stripped_path = str(result.stripped_path) if result.stripped_path else None
    row.debug_sha256 = result.debug_sha256
    row.stripped_sha256 = result.stripped_sha256
    row.compiler = result.compiler
    row.strip_version = result.strip_version
    row.flags = list(result.flags)
    row.ldflags = list(result.ldflags)
    row.input_hash = result.input_hash
    row.source_root = str(result.source_root)
    row.preprocessed = {source: str(path) for source, path in result.preprocessed.items()}
    session.flush()
    return row
