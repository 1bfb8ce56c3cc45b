"""A function on which the decompiler never returns is stopped and recorded as timed out."""

from __future__ import annotations

import subprocess
from pathlib import Path

from reforge.binary import analyze_binary
from reforge.corpus import synthetic_dir

CASE = synthetic_dir() / "t12_goto_cleanup"
HANGING_FUNCTION = "run_filter_program"


def _build(tmp_path: Path) -> tuple[Path, int]:
    debug = tmp_path / "t12"
    sources = sorted(str(path) for path in CASE.glob("*.c"))
    subprocess.run(
        ["gcc", "-g", "-O0", "-std=gnu11", "-no-pie", "-o", str(debug), *sources],
        check=True,
        capture_output=True,
    )
    stripped = tmp_path / "t12.stripped"
    subprocess.run(["strip", "--strip-all", "-o", str(stripped), str(debug)], check=True)
    symbols = subprocess.run(["nm", str(debug)], check=True, capture_output=True, text=True)
    address = next(
        int(line.split()[0], 16)
        for line in symbols.stdout.splitlines()
        if line.endswith(f" {HANGING_FUNCTION}")
    )
    return stripped, address


def test_hanging_function_times_out(tmp_path: Path) -> None:
    stripped, address = _build(tmp_path)
    analysis = analyze_binary(stripped, workers=2, progress=False, timeout=5)
    by_address = {function.entry_va: function for function in analysis.functions}

    hanging = by_address[address]
    assert hanging.status == "error"
    assert hanging.error_code == "timeout"
    assert f"{address:#x}" in (hanging.error_message or "")
    others = [function for function in analysis.functions if function.entry_va != address]
    assert others
    assert all(function.status == "ok" for function in others)
