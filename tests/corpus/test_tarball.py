"""Tests of finding, verifying, fetching and extracting source tarballs."""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

import pytest
from corpus_helpers import TWO_FILE_SOURCES, WriteCase, make_tarball, manifest_text

from reforge.config import Settings
from reforge.corpus.manifest import Manifest, load_manifest
from reforge.corpus.tarball import (
    extract_sources,
    fetch_tarball,
    find_tarball,
    source_root,
    tarball_search_dirs,
    verify_sha256,
)
from reforge.errors import ManifestError, TarballError

ROOT = "demo-1.0"
DEMO_MEMBERS = {f"{ROOT}/{name}": text for name, text in TWO_FILE_SOURCES.items()}


def sha256sum(path: Path) -> str:
    """Return the digest that the sha256sum tool prints for `path`."""
    output = subprocess.run(["sha256sum", str(path)], capture_output=True, text=True, check=True)
    return output.stdout.split()[0]


def realworld_manifest(
    folder: Path, tarball_file: str, sha256: str, *, root: str = ROOT, **tarball_extra: str
) -> Manifest:
    """Write and load ``folder/demo.toml``, a real-world manifest for the two-file program."""
    fields = {
        "name": "demo",
        "kind": "realworld",
        "version": "1.0",
        "description": "Adds a number twice and prints it.",
        "sources": ["main.c", "util.c"],
        "headers": ["util.h"],
        "main_file": "main.c",
    }
    tarball = {"file": tarball_file, "sha256": sha256, "root": root, **tarball_extra}
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "demo.toml"
    path.write_text(manifest_text(fields, {"tarball": tarball}))
    return load_manifest(path)


@pytest.fixture
def tarball_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tarballs"
    folder.mkdir()
    return folder


@pytest.fixture
def tar_settings(tmp_path: Path, tarball_dir: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", tarball_dir=tarball_dir)


def test_find_in_configured_dir(tmp_path: Path, tarball_dir: Path, tar_settings: Settings) -> None:
    tarball = make_tarball(tarball_dir / "demo-1.0.tar.gz", DEMO_MEMBERS)
    manifest = realworld_manifest(tmp_path / "m", tarball.name, sha256sum(tarball))

    assert find_tarball(manifest, tar_settings) == tarball


def test_search_order_starts_with_configured_dirs(tmp_path: Path, tar_settings: Settings) -> None:
    searched = tarball_search_dirs(tar_settings)

    assert searched[0] == tmp_path / "tarballs"
    assert searched[1] == tmp_path / "data" / "tarballs"
    assert len(searched) == len(set(searched))


def test_missing_tarball_names_file_folders_and_fix(
    tmp_path: Path, tarball_dir: Path, tar_settings: Settings
) -> None:
    manifest = realworld_manifest(tmp_path / "m", "absent-9.9.tar.gz", "0" * 64)

    with pytest.raises(TarballError) as caught:
        find_tarball(manifest, tar_settings)

    message = str(caught.value)
    assert "'absent-9.9.tar.gz'" in message
    assert str(tarball_dir) in message
    assert str(tmp_path / "data" / "tarballs") in message
    assert "REFORGE_TARBALL_DIR" in message
    assert "reforge corpus fetch demo" in message


def test_synthetic_has_no_tarball(write_case: WriteCase, tar_settings: Settings) -> None:
    manifest = write_case("t88_plain")

    with pytest.raises(ManifestError, match=r"has no \[tarball\] table"):
        find_tarball(manifest, tar_settings)


def test_verify_sha256_accepts_match(tarball_dir: Path) -> None:
    tarball = make_tarball(tarball_dir / "demo-1.0.tar.gz", DEMO_MEMBERS)

    verify_sha256(tarball, sha256sum(tarball))
    verify_sha256(tarball, sha256sum(tarball).upper())


def test_sha256_mismatch_shows_both_digests(
    tmp_path: Path, tarball_dir: Path, tar_settings: Settings
) -> None:
    tarball = make_tarball(tarball_dir / "demo-1.0.tar.gz", DEMO_MEMBERS)
    wrong = "ab" * 32
    manifest = realworld_manifest(tmp_path / "m", tarball.name, wrong)

    with pytest.raises(TarballError) as caught:
        extract_sources(manifest, tar_settings)

    message = str(caught.value)
    assert wrong in message
    assert sha256sum(tarball) in message
    assert str(tarball) in message
    assert not (tmp_path / "data" / "src" / f"demo-{wrong[:12]}").exists()


def test_extract_returns_root_with_sources(
    tmp_path: Path, tarball_dir: Path, tar_settings: Settings
) -> None:
    tarball = make_tarball(tarball_dir / "demo-1.0.tar.gz", DEMO_MEMBERS)
    digest = sha256sum(tarball)
    manifest = realworld_manifest(tmp_path / "m", tarball.name, digest)

    root = extract_sources(manifest, tar_settings)

    assert root == tmp_path / "data" / "src" / f"demo-{digest[:12]}" / ROOT
    for name, text in TWO_FILE_SOURCES.items():
        assert (root / name).read_text() == text
    assert source_root(manifest, tar_settings) == root
    leftovers = [path.name for path in (tmp_path / "data" / "src").iterdir()]
    assert leftovers == [f"demo-{digest[:12]}"]


def test_extract_is_cached(tmp_path: Path, tarball_dir: Path, tar_settings: Settings) -> None:
    tarball = make_tarball(tarball_dir / "demo-1.0.tar.gz", DEMO_MEMBERS)
    manifest = realworld_manifest(tmp_path / "m", tarball.name, sha256sum(tarball))
    root = extract_sources(manifest, tar_settings)
    mtime = (root / "main.c").stat().st_mtime_ns

    # With the tarball gone, only the existing extraction can satisfy the call.
    tarball.unlink()

    assert extract_sources(manifest, tar_settings) == root
    assert (root / "main.c").stat().st_mtime_ns == mtime


def test_extract_missing_root_folder(
    tmp_path: Path, tarball_dir: Path, tar_settings: Settings
) -> None:
    tarball = make_tarball(tarball_dir / "demo-1.0.tar.gz", DEMO_MEMBERS)
    manifest = realworld_manifest(tmp_path / "m", tarball.name, sha256sum(tarball), root="demo-2.0")

    with pytest.raises(TarballError, match=r"has no top folder 'demo-2.0'"):
        extract_sources(manifest, tar_settings)


def test_extract_missing_listed_source(
    tmp_path: Path, tarball_dir: Path, tar_settings: Settings
) -> None:
    members = {name: text for name, text in DEMO_MEMBERS.items() if not name.endswith("util.c")}
    tarball = make_tarball(tarball_dir / "demo-1.0.tar.gz", members)
    manifest = realworld_manifest(tmp_path / "m", tarball.name, sha256sum(tarball))

    with pytest.raises(ManifestError, match=r"missing from .*: util.c"):
        extract_sources(manifest, tar_settings)


@pytest.mark.parametrize(
    "evil_name",
    [
        pytest.param("../evil.txt", id="parent"),
        pytest.param(f"{ROOT}/../../evil.txt", id="nested-parent"),
        pytest.param("/tmp/evil-absolute.txt", id="absolute"),
    ],
)
def test_unsafe_member_not_extracted(
    tmp_path: Path, tarball_dir: Path, tar_settings: Settings, evil_name: str
) -> None:
    tarball = make_tarball(tarball_dir / "evil.tar.gz", {**DEMO_MEMBERS, evil_name: "owned\n"})
    digest = sha256sum(tarball)
    manifest = realworld_manifest(tmp_path / "m", tarball.name, digest)

    with pytest.raises(TarballError, match=r"unsafe member") as caught:
        extract_sources(manifest, tar_settings)

    assert repr(evil_name) in str(caught.value)
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "data" / "evil.txt").exists()
    assert not (tmp_path / "data" / "src" / "evil.txt").exists()
    assert not (tmp_path / "data" / "src" / f"demo-{digest[:12]}").exists()
    assert list((tmp_path / "data" / "src").iterdir()) == []


def test_symlink_out_of_tree_rejected(
    tmp_path: Path, tarball_dir: Path, tar_settings: Settings
) -> None:
    tarball = tarball_dir / "link.tar.gz"
    make_tarball(tarball, DEMO_MEMBERS)
    with tarfile.open(tarball, "r:gz") as archive:
        members = [(info, archive.extractfile(info).read()) for info in archive.getmembers()]
    with tarfile.open(tarball, "w:gz") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo(f"{ROOT}/passwd")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    manifest = realworld_manifest(tmp_path / "m", tarball.name, sha256sum(tarball))

    with pytest.raises(TarballError, match=r"cannot extract"):
        extract_sources(manifest, tar_settings)

    assert list((tmp_path / "data" / "src").iterdir()) == []


def write_fake_apt_get(folder: Path, script_body: str) -> Path:
    """Write an executable ``apt-get`` shell script into `folder` and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "apt-get"
    script.write_text("#!/bin/sh\n" + script_body)
    script.chmod(0o755)
    return folder


def test_fetch_runs_apt_get_source(
    tmp_path: Path, tar_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = make_tarball(tmp_path / "demo-1.0.tar.gz", DEMO_MEMBERS)
    bin_dir = write_fake_apt_get(
        tmp_path / "bin", f'echo "$@" > "{tmp_path}/apt-args"\ncp "{upstream}" .\n'
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    manifest = realworld_manifest(
        tmp_path / "m",
        upstream.name,
        sha256sum(upstream),
        apt_package="demo",
        apt_version="1:1.0-2",
    )

    fetched = fetch_tarball(manifest, tar_settings)

    assert fetched == tmp_path / "data" / "tarballs" / upstream.name
    assert fetched.read_bytes() == upstream.read_bytes()
    assert (tmp_path / "apt-args").read_text() == "source --download-only demo=1:1.0-2\n"


def test_fetch_failure_reports_stderr(
    tmp_path: Path, tar_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    error_line = "E: You must put some 'deb-src' URIs in your sources.list"
    bin_dir = write_fake_apt_get(tmp_path / "bin", f'echo "{error_line}" >&2\nexit 100\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    manifest = realworld_manifest(
        tmp_path / "m", "demo-1.0.tar.gz", "0" * 64, apt_package="demo", apt_version="1.0-1"
    )

    with pytest.raises(TarballError) as caught:
        fetch_tarball(manifest, tar_settings)

    assert error_line in str(caught.value)
    assert "apt-get source --download-only demo=1.0-1" in str(caught.value)


def test_fetch_verifies_sha256(
    tmp_path: Path, tar_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    upstream = make_tarball(tmp_path / "demo-1.0.tar.gz", DEMO_MEMBERS)
    bin_dir = write_fake_apt_get(tmp_path / "bin", f'cp "{upstream}" .\n')
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    manifest = realworld_manifest(
        tmp_path / "m", upstream.name, "cd" * 32, apt_package="demo", apt_version="1.0-1"
    )

    with pytest.raises(TarballError, match=r"sha256 mismatch") as caught:
        fetch_tarball(manifest, tar_settings)

    assert sha256sum(upstream) in str(caught.value)


def test_fetch_without_apt_get(
    tmp_path: Path, tar_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty_bin = tmp_path / "empty-bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    manifest = realworld_manifest(
        tmp_path / "m", "demo-1.0.tar.gz", "0" * 64, apt_package="demo", apt_version="1.0-1"
    )

    with pytest.raises(TarballError, match=r"apt-get not found on PATH"):
        fetch_tarball(manifest, tar_settings)


def test_fetch_without_apt_package(tmp_path: Path, tar_settings: Settings) -> None:
    manifest = realworld_manifest(tmp_path / "m", "demo-1.0.tar.gz", "0" * 64)

    with pytest.raises(TarballError, match=r"no apt_package/apt_version"):
        fetch_tarball(manifest, tar_settings)


def test_synthetic_source_root_is_case_folder(
    write_case: WriteCase, tmp_path: Path, tar_settings: Settings
) -> None:
    manifest = write_case("t87_root")

    assert source_root(manifest, tar_settings) == tmp_path / "cases" / "t87_root"
