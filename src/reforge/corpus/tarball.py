"""Source tarballs of real-world programs: find, verify, fetch and extract them.

Third-party source is never kept in the repository. A real-world manifest names
its upstream tarball and sha256; the tarball is looked up in known folders (or
downloaded with ``apt-get source``), verified, and extracted once into
``data_dir/src``::

    root = source_root(get_program("zlib"), get_settings())
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from reforge.config import DEFAULT_TARBALL_DIRS, Settings
from reforge.corpus.manifest import Manifest, TarballSpec
from reforge.errors import ManifestError, TarballError

logger = logging.getLogger(__name__)

# Seconds that `apt-get source` may take to download one package.
FETCH_TIMEOUT_SECONDS = 600

# src/reforge/corpus/tarball.py -> the repository root in a source checkout.
_REPO_ROOT = Path(__file__).resolve().parents[3]


def tarball_search_dirs(settings: Settings) -> list[Path]:
    """Return the folders searched for tarballs, in order, without duplicates.

    The order is `settings.tarball_dir` (when set), ``data_dir/tarballs`` (where
    `fetch_tarball` downloads to), the folders of `reforge.config.DEFAULT_TARBALL_DIRS`
    relative to the working directory, and ``../shared/corpus/debian`` next to the
    repository root when that folder exists.
    """
    candidates: list[Path] = []
    if settings.tarball_dir is not None:
        candidates.append(settings.tarball_dir.expanduser())
    candidates.append(settings.data_dir / "tarballs")
    candidates.extend(Path.cwd() / folder for folder in DEFAULT_TARBALL_DIRS)
    shared = _REPO_ROOT.parent / "shared" / "corpus" / "debian"
    if shared.is_dir():
        candidates.append(shared)

    unique: list[Path] = []
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved not in unique:
            unique.append(resolved)
    return unique


def find_tarball(manifest: Manifest, settings: Settings) -> Path:
    """Return the path of the program's tarball from the first search folder that has it."""
    spec = _tarball_spec(manifest)
    searched = tarball_search_dirs(settings)
    for folder in searched:
        candidate = folder / spec.file
        if candidate.is_file():
            return candidate
    folders = ", ".join(str(folder) for folder in searched)
    raise TarballError(
        f"tarball {spec.file!r} of program {manifest.name!r} not found; searched: {folders}. "
        f"Set REFORGE_TARBALL_DIR to the folder that contains it, or run "
        f"`reforge corpus fetch {manifest.name}`"
    )


def verify_sha256(path: Path, expected: str) -> None:
    """Raise `TarballError` with both digests unless the file's sha256 is `expected`."""
    actual = file_sha256(path)
    if actual != expected.lower():
        raise TarballError(
            f"sha256 mismatch for {path}: expected {expected.lower()}, got {actual}; "
            "the file is corrupt or a different release, so replace it with the release "
            "the manifest names"
        )


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    try:
        with Path(path).open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError as exc:
        raise TarballError(f"cannot read {path} to hash it: {exc}") from exc
    return digest.hexdigest()


def extraction_dir(manifest: Manifest, settings: Settings) -> Path:
    """Return the folder that contains (or will contain) the program's extracted tarball."""
    spec = _tarball_spec(manifest)
    return settings.data_dir / "src" / f"{manifest.name}-{spec.sha256[:12]}"


def extract_sources(manifest: Manifest, settings: Settings) -> Path:
    """Extract the program's tarball once and return the source root inside it.

    The tarball is verified, extracted into a temporary folder next to the final
    one and renamed into place, so the final folder either is complete or does not
    exist. A later call returns the existing folder without reading the tarball.
    """
    spec = _tarball_spec(manifest)
    final = extraction_dir(manifest, settings)
    root = final / spec.root
    if final.is_dir():
        return _checked_root(manifest, root)

    tarball = find_tarball(manifest, settings)
    verify_sha256(tarball, spec.sha256)
    final.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{final.name}-", dir=final.parent))
    staging.chmod(0o755)  # mkdtemp makes it private; the sources are not secret
    try:
        _safe_extract(tarball, staging)
        if not (staging / spec.root).is_dir():
            raise TarballError(
                f"tarball {tarball} has no top folder {spec.root!r}; fix [tarball] root in "
                f"{manifest.manifest_path}"
            )
        if _rename_into_place(staging, final):
            logger.info("extracted %s into %s", tarball, final)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return _checked_root(manifest, root)


def fetch_tarball(manifest: Manifest, settings: Settings) -> Path:
    """Download the program's tarball with ``apt-get source --download-only`` and verify it.

    The download lands in ``data_dir/tarballs``, which `find_tarball` searches.
    Needs ``deb-src`` entries in the APT sources list.
    """
    spec = _tarball_spec(manifest)
    if not spec.apt_package or not spec.apt_version:
        raise TarballError(
            f"program {manifest.name!r} has no apt_package/apt_version in "
            f"{manifest.manifest_path}; download {spec.file!r} by hand and set "
            "REFORGE_TARBALL_DIR to its folder"
        )
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        raise TarballError(
            f"cannot fetch {spec.file!r}: apt-get not found on PATH; download the tarball by "
            "hand and set REFORGE_TARBALL_DIR to its folder"
        )

    target = settings.data_dir / "tarballs"
    target.mkdir(parents=True, exist_ok=True)
    command = [apt_get, "source", "--download-only", f"{spec.apt_package}={spec.apt_version}"]
    logger.info("fetching %s with %s in %s", spec.file, " ".join(command), target)
    _run_fetch(command, target)

    path = target / spec.file
    if not path.is_file():
        raise TarballError(
            f"`{' '.join(command)}` succeeded but {path} does not exist; check [tarball] file "
            f"in {manifest.manifest_path}"
        )
    verify_sha256(path, spec.sha256)
    return path


def source_root(manifest: Manifest, settings: Settings) -> Path:
    """Return the folder that manifest paths are relative to, extracting a tarball if needed."""
    if manifest.kind == "synthetic":
        return manifest.manifest_path.parent
    return extract_sources(manifest, settings)


def _tarball_spec(manifest: Manifest) -> TarballSpec:
    if manifest.tarball is None:
        raise ManifestError(
            f"program {manifest.name!r} ({manifest.manifest_path}) has no [tarball] table; "
            "only realworld programs have tarballs"
        )
    return manifest.tarball


def _safe_extract(tarball: Path, destination: Path) -> None:
    """Extract every member below `destination`, rejecting absolute and ``..`` paths.

    The explicit check rejects the whole tarball instead of silently rewriting
    names. The ``data`` extraction filter (PEP 706) also rejects links that point
    outside, device files and unsafe permissions.
    """
    try:
        with tarfile.open(tarball, "r:*") as archive:
            _reject_unsafe_members(tarball, archive.getmembers())
            archive.extractall(destination, filter="data")
    except TarballError:
        raise
    except tarfile.TarError as exc:
        raise TarballError(f"cannot extract {tarball}: {exc}") from exc
    except OSError as exc:
        raise TarballError(f"cannot extract {tarball} into {destination}: {exc}") from exc


def _reject_unsafe_members(tarball: Path, members: list[tarfile.TarInfo]) -> None:
    for member in members:
        if PurePosixPath(member.name).is_absolute() or ".." in PurePosixPath(member.name).parts:
            raise TarballError(
                f"tarball {tarball} has an unsafe member {member.name!r} (absolute path or "
                "'..'); nothing was extracted, so use a clean copy of the tarball"
            )


def _rename_into_place(staging: Path, final: Path) -> bool:
    """Rename `staging` to `final`; return False when another process got there first."""
    try:
        staging.rename(final)
    except OSError:
        # Another process extracted the same tarball first; its copy is complete.
        if not final.is_dir():
            raise
        return False
    return True


def _checked_root(manifest: Manifest, root: Path) -> Path:
    missing = [
        relative
        for relative in (*manifest.sources, *manifest.headers)
        if not (root / relative).is_file()
    ]
    if missing:
        raise ManifestError(
            f"files listed in {manifest.manifest_path} are missing from {root}: "
            f"{', '.join(missing)}; fix the manifest or delete {root.parent} to extract again"
        )
    return root


def _run_fetch(command: list[str], cwd: Path) -> None:
    try:
        completed = subprocess.run(
            command,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=FETCH_TIMEOUT_SECONDS,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
    except subprocess.TimeoutExpired as exc:
        raise TarballError(
            f"`{' '.join(command)}` timed out after {FETCH_TIMEOUT_SECONDS} s"
        ) from exc
    except OSError as exc:
        raise TarballError(f"cannot run `{' '.join(command)}`: {exc}") from exc
    if completed.returncode != 0:
        first_line = next(
            (line.strip() for line in completed.stderr.splitlines() if line.strip()),
            f"exit status {completed.returncode}",
        )
        raise TarballError(
            f"`{' '.join(command)}` failed: {first_line}; add deb-src entries to the APT "
            "sources and run apt-get update, or download the tarball by hand and set "
            "REFORGE_TARBALL_DIR"
        )
