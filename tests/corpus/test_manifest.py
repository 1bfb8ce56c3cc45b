"""Tests of manifest loading and validation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from corpus_helpers import WriteCase, manifest_text, synthetic_fields

from reforge.config import Settings
from reforge.corpus.manifest import Manifest, load_manifest
from reforge.corpus.registry import realworld_dir
from reforge.corpus.tarball import find_tarball
from reforge.errors import ManifestError, TarballError


def write_manifest(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "manifest.toml"
    path.write_text(text)
    return path


def test_load_valid_synthetic(write_case: WriteCase, tmp_path: Path) -> None:
    manifest = write_case("t99_demo", defines=["DEBUG", "LEVEL=2"], libs=["m"])

    assert manifest.name == "t99_demo"
    assert manifest.kind == "synthetic"
    assert manifest.sources == ("main.c", "util.c")
    assert manifest.headers == ("util.h",)
    assert manifest.main_file == "main.c"
    assert manifest.defines == ("DEBUG", "LEVEL=2")
    assert manifest.libs == ("m",)
    assert manifest.tarball is None
    assert manifest.version == ""
    assert manifest.manifest_path == tmp_path / "cases" / "t99_demo" / "manifest.toml"


def test_optional_fields_default_empty(tmp_path: Path) -> None:
    fields = {
        "name": "t98_minimal",
        "kind": "synthetic",
        "description": "Smallest valid manifest.",
        "sources": ["main.c"],
        "main_file": "main.c",
    }
    path = write_manifest(tmp_path / "t98_minimal", manifest_text(fields))

    manifest = load_manifest(path)

    assert manifest.headers == ()
    assert manifest.cflags == ()
    assert manifest.stdin == ""


@pytest.mark.parametrize(
    ("change", "field"),
    [
        pytest.param({"main_file": None}, "main_file", id="missing-main-file"),
        pytest.param({"description": None}, "description", id="missing-description"),
        pytest.param({"colour": "red"}, "colour", id="unknown-field"),
        pytest.param({"sources": "main.c"}, "sources", id="sources-not-a-list"),
        pytest.param({"libs": [1, 2]}, "libs", id="libs-not-strings"),
        pytest.param({"kind": "handwritten"}, "kind", id="unknown-kind"),
        pytest.param({"sources": ["../outside.c"]}, "sources", id="source-climbs-out"),
        pytest.param({"include_dirs": ["/usr/include"]}, "include_dirs", id="absolute-include"),
        pytest.param({"defines": ["-DX"]}, "defines", id="define-with-flag"),
        pytest.param({"libs": ["-lm"]}, "libs", id="lib-with-flag"),
        pytest.param({"cflags": ["O2"]}, "cflags", id="cflag-without-dash"),
        pytest.param({"sources": ["main.c", "util.h"]}, "sources", id="header-as-source"),
        pytest.param({"main_file": "other.c"}, "main_file", id="main-file-not-a-source"),
        pytest.param({"manifest_path": "/tmp/x"}, "manifest_path", id="loader-owned-field"),
    ],
)
def test_invalid_field_names_file_and_field(tmp_path: Path, change: dict, field: str) -> None:
    fields = synthetic_fields("t97_invalid")
    for key, value in change.items():
        if value is None:
            del fields[key]
        else:
            fields[key] = value
    path = write_manifest(tmp_path / "t97_invalid", manifest_text(fields))

    with pytest.raises(ManifestError) as caught:
        load_manifest(path)

    message = str(caught.value)
    assert str(path) in message
    assert field in message


def test_missing_field_says_required(tmp_path: Path) -> None:
    fields = synthetic_fields("t96_missing")
    del fields["sources"]
    path = write_manifest(tmp_path / "t96_missing", manifest_text(fields))

    with pytest.raises(ManifestError, match=r"field 'sources': required field is missing"):
        load_manifest(path)


def test_unknown_field_says_unknown(tmp_path: Path) -> None:
    path = write_manifest(
        tmp_path / "t95_unknown", manifest_text(synthetic_fields("t95_unknown", souces=["a.c"]))
    )

    with pytest.raises(ManifestError, match=r"field 'souces': unknown field"):
        load_manifest(path)


def test_wrong_type_shows_value(tmp_path: Path) -> None:
    path = write_manifest(
        tmp_path / "t94_type", manifest_text(synthetic_fields("t94_type", stdin=["not", "text"]))
    )

    with pytest.raises(ManifestError) as caught:
        load_manifest(path)

    assert "field 'stdin'" in str(caught.value)
    assert "['not', 'text']" in str(caught.value)


def test_name_must_match_folder(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "t93_folder", manifest_text(synthetic_fields("t93_other")))

    with pytest.raises(ManifestError, match=r"field 'name': 't93_other' differs from 't93_folder'"):
        load_manifest(path)


def test_realworld_name_must_match_file_stem(tmp_path: Path) -> None:
    fields = synthetic_fields("zlib", kind="realworld")
    tarball = {"file": "z.tar.gz", "sha256": "0" * 64, "root": "z-1"}
    path = tmp_path / "zlib-copy.toml"
    path.write_text(manifest_text(fields, {"tarball": tarball}))

    with pytest.raises(ManifestError, match=r"'zlib' differs from 'zlib-copy'"):
        load_manifest(path)


def test_realworld_needs_tarball(tmp_path: Path) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(manifest_text(synthetic_fields("demo", kind="realworld")))

    with pytest.raises(ManifestError, match=r"realworld manifest needs a \[tarball\] table"):
        load_manifest(path)


def test_synthetic_rejects_tarball(tmp_path: Path) -> None:
    tarball = {"file": "z.tar.gz", "sha256": "0" * 64, "root": "z-1"}
    path = write_manifest(
        tmp_path / "t92_tar", manifest_text(synthetic_fields("t92_tar"), {"tarball": tarball})
    )

    with pytest.raises(ManifestError, match=r"synthetic manifest must not have a \[tarball\]"):
        load_manifest(path)


ZERO_SHA = "0" * 64


@pytest.mark.parametrize(
    ("tarball", "field"),
    [
        pytest.param({"file": "z.tgz", "sha256": "ABC", "root": "z"}, "tarball.sha256", id="sha"),
        pytest.param(
            {"file": "a/z.tgz", "sha256": ZERO_SHA, "root": "z"}, "tarball.file", id="file"
        ),
        pytest.param(
            {"file": "z.tgz", "sha256": ZERO_SHA, "root": "../z"}, "tarball.root", id="root"
        ),
        pytest.param({"file": "z.tgz", "sha256": ZERO_SHA}, "tarball.root", id="no-root"),
        pytest.param(
            {"file": "z.tgz", "sha256": ZERO_SHA, "root": "z", "url": "x"},
            "tarball.url",
            id="extra",
        ),
    ],
)
def test_invalid_tarball_table(tmp_path: Path, tarball: dict, field: str) -> None:
    path = tmp_path / "demo.toml"
    path.write_text(manifest_text(synthetic_fields("demo", kind="realworld"), {"tarball": tarball}))

    with pytest.raises(ManifestError, match=rf"field '{field}'"):
        load_manifest(path)


def test_invalid_toml_names_file(tmp_path: Path) -> None:
    path = write_manifest(tmp_path / "t91_toml", 'name = "t91_toml"\nsources = [\n')

    with pytest.raises(ManifestError, match=r"is not valid TOML") as caught:
        load_manifest(path)

    assert str(path) in str(caught.value)


def test_missing_manifest_file(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"not found"):
        load_manifest(tmp_path / "absent" / "manifest.toml")


def test_equality_ignores_manifest_path(tmp_path: Path) -> None:
    text = manifest_text(synthetic_fields("t90_same"))
    first = load_manifest(write_manifest(tmp_path / "a" / "t90_same", text))
    second = load_manifest(write_manifest(tmp_path / "b" / "t90_same", text))
    changed = load_manifest(
        write_manifest(
            tmp_path / "c" / "t90_same", manifest_text(synthetic_fields("t90_same", cflags=["-w"]))
        )
    )

    assert first.manifest_path != second.manifest_path
    assert first == second
    assert hash(first) == hash(second)
    assert first != changed


def test_build_fields_exclude_documentation(write_case: WriteCase) -> None:
    manifest = write_case("t89_fields", description="Some text.", run_args=["-v"])

    fields = manifest.build_fields()

    assert fields["sources"] == ["main.c", "util.c"]
    assert fields["tarball"] is None
    assert "description" not in fields
    assert "run_args" not in fields
    assert "manifest_path" not in fields


@pytest.mark.parametrize(
    ("name", "tarball_file", "root"),
    [
        ("zlib", "zlib_1.2.13.dfsg.orig.tar.bz2", "zlib-1.2.13.dfsg"),
        ("bzip2", "bzip2_1.0.8.orig.tar.gz", "bzip2-1.0.8"),
        ("lua", "lua5.4_5.4.4.orig.tar.gz", "lua-5.4.4"),
    ],
)
def test_shipped_realworld_manifest(name: str, tarball_file: str, root: str) -> None:
    manifest: Manifest = load_manifest(realworld_dir() / f"{name}.toml")

    assert manifest.kind == "realworld"
    assert manifest.tarball is not None
    assert manifest.tarball.file == tarball_file
    assert manifest.tarball.root == root
    assert manifest.main_file in manifest.sources


@pytest.mark.parametrize("name", ["zlib", "bzip2", "lua"])
def test_shipped_sha256_matches_sha256sum(name: str) -> None:
    manifest = load_manifest(realworld_dir() / f"{name}.toml")
    assert manifest.tarball is not None
    try:
        # The same search as a build: REFORGE_TARBALL_DIR, then the default folders.
        tarball = find_tarball(manifest, Settings())
    except TarballError as exc:
        pytest.skip(str(exc))
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum not available")

    output = subprocess.run(
        ["sha256sum", str(tarball)], capture_output=True, text=True, check=True
    ).stdout

    assert manifest.tarball.sha256 == output.split()[0]
