"""Functions that are not the program's own code: C runtime helpers and thunks.

These come from crt1.o, crti.o and crtbegin.o that gcc links into every
executable, or are one-jump thunks. They are kept in the store but never get
a GOLD tier.
"""

from __future__ import annotations

CRT_HELPERS = frozenset(
    {
        "_start",
        "_init",
        "_fini",
        "_dl_relocate_static_pie",
        "deregister_tm_clones",
        "register_tm_clones",
        "__do_global_dtors_aux",
        "frame_dummy",
        "__libc_csu_init",
        "__libc_csu_fini",
        "__do_global_ctors_aux",
        "call_weak_fn",
    }
)


def noise_reason(name: str | None, *, is_thunk: bool = False, is_entry: bool = False) -> str | None:
    """Return why a function is noise (``crt_helper``, ``thunk``), or None if it is not."""
    if is_entry or (name is not None and name in CRT_HELPERS):
        return "crt_helper"
    if is_thunk:
        return "thunk"
    return None
