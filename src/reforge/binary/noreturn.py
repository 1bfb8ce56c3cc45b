"""Which functions and imports never return, found like Ghidra's non-returning-function analysis.

The decompiler has no information about the callees, so without this a call to
``exit`` falls through into whatever bytes follow it. Three rules, applied until
nothing changes:

1. A PLT stub of a known no-return import (`NORETURN_IMPORTS`) does not return.
2. A direct call that is the last instruction of an FDE range (nothing of the
   range follows it) marks its callee as no-return: gcc places nothing after a
   call only when the callee cannot return. This also catches imports missing
   from the list.
3. A function with an FDE none of whose paths reaches a ``ret`` does not return.
   Paths end at calls to no-return functions, ``hlt``/``ud2`` and tail jumps to
   no-return functions. An indirect jump, a jump or fall-through out of the body
   and a tail jump to anything else count as returning. So the rule errs towards
   "returns", because a false "no-return" would cut real code from the output.
"""

from __future__ import annotations

from reforge.binary.disassembly import Insn
from reforge.binary.discovery import Discovery
from reforge.binary.loader import LoadedBinary

NORETURN_IMPORTS = frozenset(
    {
        "exit",
        "_exit",
        "_Exit",
        "quick_exit",
        "abort",
        "err",
        "errx",
        "verr",
        "verrx",
        "__assert_fail",
        "__assert_perror_fail",
        "__assert",
        "__stack_chk_fail",
        "__fortify_fail",
        "__chk_fail",
        "longjmp",
        "_longjmp",
        "siglongjmp",
        "__longjmp_chk",
        "pthread_exit",
        "thrd_exit",
        "__libc_start_main",
        "__cxa_throw",
        "__cxa_rethrow",
        "_Unwind_Resume",
        "error_exit",
    }
)
"""Imports that never return (glibc and libgcc names)."""


def find_noreturn(binary: LoadedBinary, discovery: Discovery) -> frozenset[int]:
    """Return the function entries and PLT stub addresses that never return."""
    noreturn = {stub for stub, name in binary.plt_stubs.items() if name in NORETURN_IMPORTS}
    noreturn |= _callees_at_range_ends(discovery)

    bodies = {
        entry: insns
        for entry, insns in discovery.insns.items()
        if discovery.functions[entry].has_fde
    }
    changed = True
    while changed:
        changed = False
        for entry, insns in bodies.items():
            if entry in noreturn:
                continue
            ranges = discovery.functions[entry].body_ranges
            if not _can_return(entry, insns, ranges, noreturn):
                noreturn.add(entry)
                changed = True
    return frozenset(noreturn)


def _callees_at_range_ends(discovery: Discovery) -> set[int]:
    callees: set[int] = set()
    for entry, insns in discovery.insns.items():
        for start, end in discovery.functions[entry].body_ranges:
            last = _last_in_range(insns, start, end)
            if (
                last is not None
                and last.kind == "call"
                and last.target is not None
                and last.end >= end
            ):
                callees.add(last.target)
    return callees


def _last_in_range(insns: list[Insn], start: int, end: int) -> Insn | None:
    last = None
    for insn in insns:
        if start <= insn.address < end and (last is None or insn.address > last.address):
            last = insn
    return last


def _can_return(
    entry: int, insns: list[Insn], ranges: tuple[tuple[int, int], ...], noreturn: set[int]
) -> bool:
    """Tell whether some path from `entry` reaches a return (see rule 3)."""
    by_address = {insn.address: insn for insn in insns}
    if entry not in by_address:
        return True
    seen: set[int] = set()
    stack = [entry]
    while stack:
        address = stack.pop()
        if address in seen:
            continue
        seen.add(address)
        insn = by_address.get(address)
        if insn is None:
            # Flow leaves the swept body (or lands between instructions).
            return True
        kind, target = insn.kind, insn.target
        if kind in ("ret", "jmp_indirect"):
            return True
        if kind == "halt":
            continue
        if kind == "call" and target in noreturn:
            continue
        if kind == "jmp":
            if target is None:
                return True
            if any(start <= target < end for start, end in ranges):
                stack.append(target)
            elif target not in noreturn:
                return True
            continue
        if kind == "jcc" and target is not None:
            if not any(start <= target < end for start, end in ranges):
                if target not in noreturn:
                    return True
            else:
                stack.append(target)
        stack.append(insn.end)
    return False
