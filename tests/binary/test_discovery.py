"""Function discovery and no-return analysis, checked against nm of the debug binaries."""

from __future__ import annotations

import pytest

from reforge.binary import discover_functions, find_noreturn, load_binary

from .helpers import Build

# CRT functions that static discovery cannot find, because they have no FDE and no
# direct caller in swept code. The dynamic loader calls _init/_fini, a tail jump
# enters register_tm_clones, and __do_global_dtors_aux (no FDE, so not swept)
# calls deregister_tm_clones. The decompiler finds that last call later.
UNDISCOVERABLE = {"_init", "_fini", "register_tm_clones", "deregister_tm_clones"}


@pytest.mark.parametrize("key", ["O0", "O2", "O0-pie", "O2-pie"])
def test_every_text_function_found(builds: dict[str, Build], key: str) -> None:
    build = builds[key]
    discovery = discover_functions(load_binary(build.stripped))
    for name, address in build.symbols().items():
        if name in UNDISCOVERABLE or name.endswith(".cold"):
            continue
        assert address + build.ghidra_offset in discovery.functions, name


@pytest.mark.parametrize("key", ["O0", "O2", "O0-pie", "O2-pie"])
def test_no_function_outside_nm(builds: dict[str, Build], key: str) -> None:
    build = builds[key]
    discovery = discover_functions(load_binary(build.stripped))
    starts = {address + build.ghidra_offset for address in build.symbols().values()}
    assert set(discovery.functions) <= starts


def test_cold_part_is_fragment_of_parent(builds: dict[str, Build]) -> None:
    build = builds["O2"]
    symbols = build.symbols()
    discovery = discover_functions(load_binary(build.stripped))
    cold = symbols["dispatch.cold"]
    assert cold not in discovery.functions
    parent = discovery.functions[symbols["dispatch"]]
    assert any(start == cold for start, _ in parent.body_ranges)
    assert parent.body_ranges[0][0] == symbols["dispatch"]


def test_main_found_through_libc_start_main(builds: dict[str, Build]) -> None:
    for key in ("O0", "O2-pie"):
        build = builds[key]
        discovery = discover_functions(load_binary(build.stripped))
        assert discovery.stats.main_va == build.ghidra("main")


def test_plt_stubs_are_not_functions(builds: dict[str, Build]) -> None:
    build = builds["O2"]
    binary = load_binary(build.stripped)
    discovery = discover_functions(binary)
    assert binary.plt_stubs
    assert not set(binary.plt_stubs) & set(discovery.functions)


def test_thunk_detected(builds: dict[str, Build]) -> None:
    build = builds["O2"]
    discovery = discover_functions(load_binary(build.stripped))
    assert discovery.functions[build.ghidra("thunk")].thunk_target == build.ghidra("helper_void")
    assert discovery.functions[build.ghidra("wrap2")].thunk_target is None


@pytest.mark.parametrize("key", ["O0", "O2"])
def test_noreturn_functions(builds: dict[str, Build], key: str) -> None:
    build = builds[key]
    binary = load_binary(build.stripped)
    noreturn = find_noreturn(binary, discover_functions(binary))
    symbols = build.symbols()
    die = symbols["die"] if "die" in symbols else symbols["die.constprop.0"]
    assert symbols["usage"] in noreturn
    assert die in noreturn
    assert build.plt_stubs()["exit"] in noreturn
    for name in ("main", "helper", "after_usage", "duplicate", "classify"):
        assert symbols[name] not in noreturn, name
