"""The registry of corpus programs shipped with reforge.

Synthetic cases are the folders under ``synthetic/`` that contain a
``manifest.toml``; real-world programs are the ``*.toml`` files under
``realworld/``::

    for manifest in list_programs(include_realworld=False):
        print(manifest.name)
"""

from __future__ import annotations

from pathlib import Path

from reforge.corpus.manifest import MANIFEST_FILENAME, Manifest, load_manifest
from reforge.errors import ManifestError


def synthetic_dir() -> Path:
    """Return the folder that contains one subfolder per synthetic case."""
    return Path(__file__).resolve().parent / "synthetic"


def realworld_dir() -> Path:
    """Return the folder that contains the real-world program manifests."""
    return Path(__file__).resolve().parent / "realworld"


def list_programs(*, include_realworld: bool = True) -> list[Manifest]:
    """Load every shipped manifest: synthetic cases sorted by name, then real-world ones.

    Raises `ManifestError` when a manifest is invalid, has the kind of the other
    folder, or reuses a program name.
    """
    programs = _load_manifests(synthetic_dir(), f"*/{MANIFEST_FILENAME}", "synthetic")
    if include_realworld:
        programs += _load_manifests(realworld_dir(), "*.toml", "realworld")

    seen: dict[str, Path] = {}
    for manifest in programs:
        if manifest.name in seen:
            raise ManifestError(
                f"program name {manifest.name!r} is used by both {seen[manifest.name]} and "
                f"{manifest.manifest_path}; rename one of them"
            )
        seen[manifest.name] = manifest.manifest_path
    return programs


def get_program(name: str) -> Manifest:
    """Return the manifest of the program called `name`, synthetic or real-world."""
    programs = list_programs()
    for manifest in programs:
        if manifest.name == name:
            return manifest
    known = ", ".join(manifest.name for manifest in programs) or "(none)"
    raise ManifestError(f"unknown program {name!r}; known programs: {known}")


def _load_manifests(folder: Path, pattern: str, kind: str) -> list[Manifest]:
    paths = sorted(folder.glob(pattern)) if folder.is_dir() else []
    manifests = [_load_of_kind(path, kind) for path in paths]
    return sorted(manifests, key=lambda manifest: manifest.name)


def _load_of_kind(path: Path, kind: str) -> Manifest:
    manifest = load_manifest(path)
    if manifest.kind != kind:
        raise ManifestError(
            f"invalid manifest {path}: field 'kind': {manifest.kind!r} in the {kind} folder; "
            f"set kind = {kind!r} or move the manifest"
        )
    return manifest
