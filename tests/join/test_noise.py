"""Noise: C runtime helpers, the entry point and thunks."""

from __future__ import annotations

import pytest

from reforge.join.noise import noise_reason

# Functions that gcc 12 / glibc 2.36 link into every executable from crt1.o,
# crti.o and crtbegin.o (see `nm` of any -no-pie binary).
CRT_NAMES = [
    "_start",
    "_init",
    "_fini",
    "_dl_relocate_static_pie",
    "deregister_tm_clones",
    "register_tm_clones",
    "__do_global_dtors_aux",
    "frame_dummy",
]


@pytest.mark.parametrize("name", CRT_NAMES)
def test_crt_helper_names(name: str) -> None:
    assert noise_reason(name) == "crt_helper"


@pytest.mark.parametrize("name", ["main", "frame_dummy_x", "start", "init_table", "_fini2"])
def test_program_names_are_not_noise(name: str) -> None:
    assert noise_reason(name) is None


def test_nameless_function_is_not_noise() -> None:
    assert noise_reason(None) is None


def test_entry_point_is_crt_helper() -> None:
    assert noise_reason(None, is_entry=True) == "crt_helper"
    assert noise_reason("main", is_entry=True) == "crt_helper"


def test_thunk() -> None:
    assert noise_reason("xmalloc", is_thunk=True) == "thunk"
    assert noise_reason(None, is_thunk=True) == "thunk"


def test_crt_name_wins_over_thunk() -> None:
    assert noise_reason("_init", is_thunk=True) == "crt_helper"
