"""Which programs and builds a stage works on.

With no program names, the corpus is every synthetic case plus each
real-world program whose tarball can be found (the others are reported as
skipped, not failed). Named programs are taken as given, so a named
real-world program without its tarball fails with the tarball error.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from reforge.config import Settings
from reforge.corpus import OPT_LEVELS, Manifest, find_tarball, get_program, list_programs
from reforge.errors import ConfigError, TarballError
from reforge.store.models import Build, Program

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ProgramSelection:
    """Programs a stage covers and the real-world programs skipped for lack of a tarball."""

    manifests: list[Manifest]
    skipped: dict[str, str]


def select_programs(names: Sequence[str] | None, settings: Settings) -> ProgramSelection:
    """Resolve program names (None or empty: the default corpus) to manifests."""
    if names:
        return ProgramSelection([get_program(name) for name in dict.fromkeys(names)], {})
    manifests: list[Manifest] = []
    skipped: dict[str, str] = {}
    for manifest in list_programs():
        if manifest.kind == "realworld":
            try:
                find_tarball(manifest, settings)
            except TarballError as exc:
                skipped[manifest.name] = str(exc)
                logger.info("skipping %s: %s", manifest.name, exc)
                continue
        manifests.append(manifest)
    return ProgramSelection(manifests, skipped)


def select_opts(opts: Sequence[str] | None) -> list[str]:
    """Validate opt levels (None or empty: all four)."""
    if not opts:
        return list(OPT_LEVELS)
    chosen = []
    for opt in opts:
        normalised = opt.upper() if opt.upper().startswith("O") else f"O{opt}"
        if normalised not in OPT_LEVELS:
            raise ConfigError(
                f"unknown optimisation level {opt!r}; use one of {', '.join(OPT_LEVELS)}"
            )
        chosen.append(normalised)
    return list(dict.fromkeys(chosen))


def stored_builds(
    session: Session,
    *,
    programs: Sequence[str] | None,
    opts: Sequence[str] | None,
    variant: str,
) -> list[Build]:
    """Return successful stored builds matching the selection, ordered by program and opt.

    Raises `ManifestError` for a program name that the corpus does not define,
    so a misspelt name fails instead of selecting nothing.
    """
    for name in programs or ():
        get_program(name)
    statement = (
        select(Build)
        .join(Program, Program.id == Build.program_id)
        .where(Build.ok.is_(True), Build.variant == variant)
        .order_by(Program.name, Build.opt)
    )
    if programs:
        statement = statement.where(Program.name.in_(list(programs)))
    if opts:
        statement = statement.where(Build.opt.in_(list(opts)))
    return list(session.scalars(statement))
