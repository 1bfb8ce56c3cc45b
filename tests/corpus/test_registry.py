"""Tests of the registry of shipped corpus programs."""

from __future__ import annotations

import pytest

from reforge.corpus.registry import get_program, list_programs, realworld_dir, synthetic_dir
from reforge.errors import ManifestError


def test_synthetic_sorted_then_realworld() -> None:
    programs = list_programs()
    kinds = [manifest.kind for manifest in programs]
    synthetic_names = [manifest.name for manifest in programs if manifest.kind == "synthetic"]
    realworld_names = [manifest.name for manifest in programs if manifest.kind == "realworld"]

    assert kinds == sorted(kinds, key=lambda kind: kind != "synthetic")
    assert synthetic_names == sorted(synthetic_names)
    assert realworld_names == ["bzip2", "lua", "zlib"]


def test_without_realworld() -> None:
    programs = list_programs(include_realworld=False)

    assert all(manifest.kind == "synthetic" for manifest in programs)


def test_synthetic_manifests_live_in_their_folder() -> None:
    for manifest in list_programs(include_realworld=False):
        assert manifest.manifest_path == synthetic_dir() / manifest.name / "manifest.toml"


def test_get_realworld_program() -> None:
    manifest = get_program("bzip2")

    assert manifest.manifest_path == realworld_dir() / "bzip2.toml"
    assert manifest.main_file == "bzip2.c"


def test_unknown_program_lists_known_names() -> None:
    with pytest.raises(ManifestError) as caught:
        get_program("no_such_program")

    message = str(caught.value)
    assert "'no_such_program'" in message
    assert "zlib" in message
    assert "lua" in message
