"""Fixtures: the sample program compiled with gcc at -O0 / -O2, as non-PIE and PIE.

Each build keeps the debug binary (only for reading true addresses with ``nm``
and ``objdump``) next to a ``strip --strip-all`` copy that the code under test reads.
"""

from __future__ import annotations

import pytest

from reforge.binary import BinaryAnalysis, analyze_binary

from .helpers import PROGRAMS, Build, compile_program


@pytest.fixture(scope="session")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Build]:
    """The sample program as ``O0``, ``O2``, ``O0-pie`` and ``O2-pie``."""
    folder = tmp_path_factory.mktemp("sample")
    variants = {}
    for opt in ("O0", "O2"):
        for pie in (False, True):
            key = f"{opt}-pie" if pie else opt
            variants[key] = compile_program(PROGRAMS / "sample.c", folder / key, opt, pie=pie)
    return variants


@pytest.fixture(scope="session")
def analyses(builds: dict[str, Build]) -> dict[str, BinaryAnalysis]:
    """`analyze_binary` of every build, with two worker processes."""
    return {
        key: analyze_binary(build.stripped, workers=2, progress=False)
        for key, build in builds.items()
    }
