"""The corpus: program manifests, source tarballs and builds at -O0..-O3.

Synthetic test cases live in ``synthetic/<case>/`` with their sources;
real-world programs are manifests in ``realworld/`` that point at upstream
tarballs kept outside the repository::

    results = build_programs([BuildRequest(m, "O2") for m in list_programs()], get_settings())
"""

from __future__ import annotations

from reforge.corpus.build import (
    BASE_CFLAGS,
    OPT_LEVELS,
    BuildRequest,
    BuildResult,
    build_dir,
    build_program,
    build_programs,
    compile_flags,
    compute_input_hash,
    link_flags,
    toolchain_versions,
    verify_identical_code,
)
from reforge.corpus.manifest import Manifest, TarballSpec, load_manifest
from reforge.corpus.registry import get_program, list_programs, realworld_dir, synthetic_dir
from reforge.corpus.tarball import (
    extract_sources,
    fetch_tarball,
    file_sha256,
    find_tarball,
    source_root,
    tarball_search_dirs,
    verify_sha256,
)

__all__ = [
    "BASE_CFLAGS",
    "OPT_LEVELS",
    "BuildRequest",
    "BuildResult",
    "Manifest",
    "TarballSpec",
    "build_dir",
    "build_program",
    "build_programs",
    "compile_flags",
    "compute_input_hash",
    "extract_sources",
    "fetch_tarball",
    "file_sha256",
    "find_tarball",
    "get_program",
    "link_flags",
    "list_programs",
    "load_manifest",
    "realworld_dir",
    "source_root",
    "synthetic_dir",
    "tarball_search_dirs",
    "toolchain_versions",
    "verify_identical_code",
    "verify_sha256",
]
