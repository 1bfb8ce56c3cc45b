"""zlib built from the Debian tarball at -O0..-O3: at least 99% of its functions decompile."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from reforge.binary import analyze_binary

from .helpers import COMMON_FLAGS

TARBALL = Path("/work/shared/corpus/debian/zlib_1.2.13.dfsg.orig.tar.bz2")
ZLIB_SOURCES = [
    "adler32.c", "compress.c", "crc32.c", "deflate.c", "gzclose.c", "gzlib.c", "gzread.c",
    "gzwrite.c", "infback.c", "inffast.c", "inflate.c", "inftrees.c", "trees.c", "uncompr.c",
    "zutil.c", "test/minigzip.c",
]  # fmt: skip


@pytest.fixture(scope="module")
def zlib_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not TARBALL.is_file():
        pytest.skip(f"{TARBALL} is not available")
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    folder = tmp_path_factory.mktemp("zlib")
    with tarfile.open(TARBALL) as archive:
        archive.extractall(folder, filter="data")
    return next(folder.glob("zlib-*"))


@pytest.mark.realworld
@pytest.mark.parametrize("opt", ["O0", "O1", "O2", "O3"])
def test_zlib_decompiles(zlib_source: Path, tmp_path: Path, opt: str) -> None:
    binary = tmp_path / f"minigzip-{opt}"
    command = ["gcc", *COMMON_FLAGS, f"-{opt}", "-no-pie", "-D_LARGEFILE64_SOURCE=1", "-I."]
    command += ["-o", str(binary), *ZLIB_SOURCES]
    subprocess.run(command, cwd=zlib_source, check=True, capture_output=True)
    stripped = tmp_path / f"minigzip-{opt}.stripped"
    subprocess.run(["strip", "--strip-all", "-o", str(stripped), str(binary)], check=True)

    analysis = analyze_binary(stripped, workers=2, progress=False)

    assert len(analysis.functions) > 100
    assert analysis.ok_count >= 0.99 * len(analysis.functions)
    assert any(f.ghidra_name == "entry" for f in analysis.functions)
