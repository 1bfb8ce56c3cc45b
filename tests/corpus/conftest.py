"""Fixtures for corpus tests: tiny synthetic cases and tarballs written into tmp_path.

Real-world fixtures build from the Debian tarballs found by `find_tarball` and
skip their tests when a tarball is absent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from corpus_helpers import TWO_FILE_SOURCES, WriteCase, manifest_text, synthetic_fields

from reforge.config import Settings
from reforge.corpus.manifest import Manifest, load_manifest
from reforge.corpus.registry import get_program
from reforge.corpus.tarball import find_tarball
from reforge.errors import TarballError


@pytest.fixture
def write_case(tmp_path: Path) -> WriteCase:
    """Return a function that writes a case folder under tmp_path/cases and loads it.

    Call it as ``write_case(name, files=..., **manifest_overrides)``; `files`
    defaults to the two-file program.
    """

    def write(name: str, files: dict[str, str] | None = None, **overrides: Any) -> Manifest:
        folder = tmp_path / "cases" / name
        folder.mkdir(parents=True, exist_ok=True)
        for relative, text in (files if files is not None else TWO_FILE_SOURCES).items():
            (folder / relative).parent.mkdir(parents=True, exist_ok=True)
            (folder / relative).write_text(text)
        (folder / "manifest.toml").write_text(manifest_text(synthetic_fields(name, **overrides)))
        return load_manifest(folder / "manifest.toml")

    return write


@pytest.fixture(scope="session")
def realworld_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose data folder all real-world tests share, so each tarball is extracted once."""
    return Settings(data_dir=tmp_path_factory.mktemp("realworld-data"))


@pytest.fixture(scope="session")
def require_tarball(realworld_settings: Settings) -> Callable[[str], Manifest]:
    """Return a function that loads a shipped real-world manifest or skips without its tarball."""

    def require(name: str) -> Manifest:
        manifest = get_program(name)
        try:
            find_tarball(manifest, realworld_settings)
        except TarballError as exc:
            pytest.skip(f"tarball of {name} not available: {exc}")
        return manifest

    return require
