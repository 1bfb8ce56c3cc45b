"""End-to-end tests of `analyze_binary` on the sample program (see programs/sample.c)."""

from __future__ import annotations

import re
import subprocess

import pytest

from reforge.binary import BinaryAnalysis, analyze_binary

from .helpers import Build, function_at

ALL_BUILDS = ["O0", "O2", "O0-pie", "O2-pie"]
RAW_DECOMPILER_TOKENS = re.compile(
    r"\bfunc_0x|\bfunc_[0-9a-f]|xunknown|\bu?int[1248]\b|\bfloat[48]\b|\b[a-z]+Stack_[0-9a-f]|Ram[0-9a-f]{8}"
)


def _dynamic_function_names(build: Build) -> dict[int, str]:
    output = subprocess.run(
        ["readelf", "--dyn-syms", "-W", str(build.stripped)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    names = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[3] == "FUNC" and parts[6] != "UND":
            names[int(parts[1], 16)] = parts[7].split("@")[0]
    return names


@pytest.mark.parametrize("key", ["O0-pie", "O2-pie", "O2"])
def test_names_follow_ghidra(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis], key: str
) -> None:
    build, analysis = builds[key], analyses[key]
    exported = _dynamic_function_names(build)
    for name, address in build.symbols().items():
        if name in {"_init", "_fini", "register_tm_clones"} or name.endswith(".cold"):
            continue
        record = function_at(analysis, address + build.ghidra_offset)
        if name == "_start":
            assert record.ghidra_name == "entry"
        elif address in exported:
            assert record.ghidra_name == exported[address]
        else:
            assert record.ghidra_name == f"FUN_{address + build.ghidra_offset:08x}", name
        assert record.entry_va == address


@pytest.mark.parametrize("key", ALL_BUILDS)
def test_every_function_decompiles(analyses: dict[str, BinaryAnalysis], key: str) -> None:
    analysis = analyses[key]
    failed = [(f.ghidra_name, f.error_code) for f in analysis.functions if f.status != "ok"]
    assert failed == []


@pytest.mark.parametrize("key", ALL_BUILDS)
def test_no_raw_decompiler_names(analyses: dict[str, BinaryAnalysis], key: str) -> None:
    for function in analyses[key].functions:
        match = RAW_DECOMPILER_TOKENS.search(function.c_raw)
        assert match is None, (function.ghidra_name, match.group(0) if match else None)


@pytest.mark.parametrize("key", ALL_BUILDS)
def test_exit_stops_the_function(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis], key: str
) -> None:
    build = builds[key]
    usage = function_at(analyses[key], build.ghidra("usage"))
    assert "exit(1)" in usage.c_raw
    assert "only in after_usage" not in usage.c_raw
    assert usage.is_noreturn


def test_o2_main_does_not_run_into_entry(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]
) -> None:
    build = builds["O2"]
    main = function_at(analyses["O2"], build.ghidra("main"))
    assert "__libc_start_main" not in main.c_raw
    assert "while( true )" not in main.c_raw
    assert f"FUN_{build.ghidra('usage'):08x}();" in main.c_raw


@pytest.mark.parametrize("key", ["O2", "O2-pie"])
def test_tail_call_is_a_call(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis], key: str
) -> None:
    build = builds[key]
    wrap2 = function_at(analyses[key], build.ghidra("wrap2"))
    assert f"FUN_{build.ghidra('helper'):08x}(" in wrap2.c_raw
    assert "helper %d" not in wrap2.c_raw
    assert "(tail call)" in wrap2.calls_text


@pytest.mark.parametrize("key", ALL_BUILDS)
def test_imports_called_by_name(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis], key: str
) -> None:
    build, analysis = builds[key], analyses[key]
    duplicate = function_at(analysis, build.ghidra("duplicate"))
    for name in ("strlen(", "malloc(", "memcpy("):
        assert name in duplicate.c_raw
    for line in ("strlen (import)", "malloc (import)", "memcpy (import)"):
        assert line in duplicate.calls_text
    helper = function_at(analysis, build.ghidra("helper"))
    assert 'printf("helper %d\\n",' in helper.c_raw


@pytest.mark.parametrize("key", ALL_BUILDS)
def test_string_literals_inline(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis], key: str
) -> None:
    build, analysis = builds[key], analyses[key]
    classify = function_at(analysis, build.ghidra("classify"))
    assert 'puts("big")' in classify.c_raw
    assert 'puts("small")' in classify.c_raw
    usage = function_at(analysis, build.ghidra("usage"))
    assert '"usage: sample N\\n"' in usage.c_raw


def test_stack_variables_named_local(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]
) -> None:
    build = builds["O0"]
    helper = function_at(analyses["O0"], build.ghidra("helper"))
    # gcc -O0 keeps s at rbp-4 and i at rbp-8; rbp = entry rsp - 8 after push rbp.
    assert "local_c" in helper.c_raw
    assert "local_10" in helper.c_raw
    assert "param_1" in helper.c_raw
    assert "param_2" in helper.c_raw
    assert "Stack[-0xc]" in helper.variables_text
    assert re.search(r"^  param_1 +int +param +EDI$", helper.variables_text, re.MULTILINE)


def test_register_variables_named(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]
) -> None:
    main = function_at(analyses["O2"], builds["O2"].ghidra("main"))
    assert re.search(r"\b[iu]Var\d+\b", main.c_raw)
    assert not re.search(r"\bxVar\d+\b", main.c_raw)


def test_if_else_cfg(builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]) -> None:
    classify = function_at(analyses["O0"], builds["O0"].ghidra("classify"))
    # condition, then, else, join
    assert classify.bb_count == 4
    assert classify.edge_count == 4
    assert classify.cyclomatic == 2
    assert classify.cfg_completeness == "HIGH"


@pytest.mark.parametrize("key", ["O0", "O2"])
def test_switch_cfg(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis], key: str
) -> None:
    dispatch = function_at(analyses[key], builds[key].ghidra("dispatch"))
    # eight cases and a default: at least nine blocks besides the dispatch block
    assert dispatch.bb_count >= 9
    assert dispatch.cyclomatic >= 9
    assert "indirect jumps 1," in dispatch.cfg_text
    assert "unresolved" not in dispatch.cfg_text


def test_cold_part_in_body(builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]) -> None:
    build = builds["O2"]
    symbols = build.symbols()
    dispatch = function_at(analyses["O2"], build.ghidra("dispatch"))
    assert dispatch.body_ranges[0][0] == symbols["dispatch"]
    assert any(start == symbols["dispatch.cold"] for start, _ in dispatch.body_ranges)
    assert all(f.entry_va != symbols["dispatch.cold"] for f in analyses["O2"].functions)


def test_entry_calls_libc_start_main(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]
) -> None:
    for key in ("O0", "O2-pie"):
        entry = function_at(analyses[key], builds[key].ghidra("_start"))
        assert entry.ghidra_name == "entry"
        assert f"__libc_start_main(FUN_{builds[key].ghidra('main'):08x}," in entry.c_raw


@pytest.mark.parametrize("key", ["O0", "O2-pie"])
def test_indirect_call_described(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis], key: str
) -> None:
    apply = function_at(analyses[key], builds[key].ghidra("apply"))
    assert "  indirect call via param_1" in apply.calls_text.splitlines()
    assert apply.call_count == 1


def test_got_call_is_import(builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]) -> None:
    entry = function_at(analyses["O2"], builds["O2"].ghidra("_start"))
    assert "  __libc_start_main (import, no return)" in entry.calls_text.splitlines()
    assert entry.callees == ("__libc_start_main",)


def test_thunk_flag(builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]) -> None:
    build = builds["O2"]
    assert function_at(analyses["O2"], build.ghidra("thunk")).is_thunk
    assert not function_at(analyses["O2"], build.ghidra("wrap2")).is_thunk


def test_callers_listed(builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]) -> None:
    build = builds["O0"]
    helper = function_at(analyses["O0"], build.ghidra("helper"))
    caller = f"FUN_{build.ghidra('wrap2'):08x}"
    assert helper.calls_text.splitlines()[-2:] == ["called by:", f"  {caller}"]
    wrap2 = function_at(analyses["O0"], build.ghidra("wrap2"))
    assert build.ghidra("helper") in wrap2.callees


def test_noreturn_callee_marked(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]
) -> None:
    build = builds["O2"]
    duplicate = function_at(analyses["O2"], build.ghidra("duplicate"))
    die = build.symbols()["die.constprop.0"]
    assert f"FUN_{die:08x} (no return)" in duplicate.calls_text
    assert "Subroutine does not return" in duplicate.c_raw


def test_budget_recorded_not_raised(builds: dict[str, Build]) -> None:
    build = builds["O2"]
    analysis = analyze_binary(build.stripped, workers=1, max_instructions=8, progress=False)
    main = function_at(analysis, build.ghidra("main"))
    assert main.status == "error"
    assert main.error_code == "budget_exceeded"
    assert main.cfg_completeness == "LOW"
    assert "timeout_or_budget" in main.warning_codes
    assert function_at(analysis, build.ghidra("thunk")).status == "ok"


@pytest.mark.parametrize(
    ("fault", "code"), [("raise", "worker_exception"), ("crash", "worker_crash")]
)
def test_worker_fault_isolated(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis], fault: str, code: str
) -> None:
    build = builds["O0"]
    helper = build.ghidra("helper")
    analysis = analyze_binary(build.stripped, workers=2, progress=False, _faults={helper: fault})
    failed = function_at(analysis, helper)
    assert failed.status == "error"
    assert failed.error_code == code
    others = [f for f in analysis.functions if f.ghidra_entry_va != helper]
    assert len(others) == len(analyses["O0"].functions) - 1
    assert all(f.status == "ok" for f in others)


def test_in_process_matches_pool(
    builds: dict[str, Build], analyses: dict[str, BinaryAnalysis]
) -> None:
    build = builds["O2-pie"]
    analysis = analyze_binary(build.stripped, in_process=True, progress=False)
    pooled = {f.ghidra_entry_va: f.c_raw for f in analyses["O2-pie"].functions}
    assert {f.ghidra_entry_va: f.c_raw for f in analysis.functions} == pooled
