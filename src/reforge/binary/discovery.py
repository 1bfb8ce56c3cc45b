"""Function discovery in a stripped binary: where functions start and which bytes they own.

Sources of function starts, in Ghidra addresses:

- ``fde``: every ``.eh_frame`` FDE in a code section that is not a fragment
  (see `reforge.binary.frames`);
- ``entry``: the ELF entry point (Ghidra's ``entry``);
- ``main``: the first argument of the ``__libc_start_main`` call in ``_start``
  (``mov rdi, imm`` or ``lea rdi, [rip + x]``);
- ``init_array``: pointers in ``.preinit_array`` / ``.init_array`` / ``.fini_array``;
- ``export``: functions that ``.dynsym`` defines;
- ``call``: direct call targets in code sections, found by a linear sweep of the
  known bodies here and added later from the decompiler's call sites
  (`add_call_targets`);
- ``orphan_fragment``: a fragment FDE that no function jumps into, kept so its
  code is not lost.

PLT stubs are imports, never functions. A call target strictly inside another
function's FDE range is not made a function (it would split that function); it is
counted in `DiscoveryStats.interior_call_targets`.

A function's body is its FDE range plus the ranges of the fragments it jumps
into (a ``.cold`` part can belong to more than one parent). Functions without an
FDE get their body from the decompiler's instruction addresses later.

Some CRT code is not found (checked on gcc 12 / glibc 2.36 binaries): ``_init``
and ``_fini`` have no FDE and only the dynamic loader calls them, and
``register_tm_clones`` is entered only by a tail jump from ``frame_dummy``.
``deregister_tm_clones`` is found as a call target of ``__do_global_dtors_aux``
once that function is decompiled.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

import capstone

from reforge.binary.disassembly import Insn, sweep
from reforge.binary.loader import LoadedBinary
from reforge.binary.plt import rip_relative_target

FunctionSource = Literal["fde", "entry", "main", "init_array", "export", "call", "orphan_fragment"]

_ENDBR64 = b"\xf3\x0f\x1e\xfa"
_START_SCAN_BYTES = 128
_RDI_IMMEDIATE = re.compile(r"^(?:rdi|edi), (0x[0-9a-f]+)$")


@dataclass(slots=True)
class DiscoveredFunction:
    """A function start with the code ranges it owns (Ghidra addresses, end exclusive)."""

    entry: int
    source: FunctionSource
    body_ranges: tuple[tuple[int, int], ...] = ()
    """FDE range first, then fragment ranges; empty when the function has no FDE."""
    has_fde: bool = False
    thunk_target: int | None = None
    """For a body that is one jump to another function or import, the jump's target
    (a function entry, a PLT stub or a GOT slot)."""


@dataclass(slots=True)
class DiscoveryStats:
    """Counts of how the functions of one binary were found."""

    fde_functions: int = 0
    fragments: int = 0
    orphan_fragments: int = 0
    plt_fdes_skipped: int = 0
    entry_found: bool = False
    main_va: int | None = None
    """Ghidra address of ``main`` found through ``__libc_start_main``, or None."""
    init_array_functions: int = 0
    export_functions: int = 0
    static_call_targets: int = 0
    decompiler_call_targets: int = 0
    interior_call_targets: int = 0
    rounds: int = 0


@dataclass(slots=True)
class Discovery:
    """Functions of a binary plus the swept instructions of every known body."""

    functions: dict[int, DiscoveredFunction]
    insns: dict[int, list[Insn]]
    """Entry -> instructions of its body ranges (FDE-backed functions only)."""
    stats: DiscoveryStats
    fragment_ranges: tuple[tuple[int, int], ...] = ()
    code_ranges: tuple[tuple[int, int], ...] = field(default=())

    def in_code(self, address: int) -> bool:
        return any(start <= address < end for start, end in self.code_ranges)


def discover_functions(binary: LoadedBinary) -> Discovery:
    """Find the function starts and bodies of a loaded binary."""
    stats = DiscoveryStats()
    code_ranges = tuple((s.start, s.end) for s in binary.code_sections())
    discovery = Discovery(functions={}, insns={}, stats=stats, code_ranges=code_ranges)

    # Sweep every FDE range in code; PLT FDEs cover import stubs, not functions.
    swept: dict[int, tuple[int, bool, list[Insn]]] = {}
    for fde in binary.fdes:
        if not discovery.in_code(fde.start):
            stats.plt_fdes_skipped += 1
        elif fde.start not in swept:
            insns = sweep(binary.image, binary.image_base, fde.start, fde.end)
            swept[fde.start] = (fde.end, fde.is_fragment, insns)
    called = {
        insn.target
        for _, _, insns in swept.values()
        for insn in insns
        if insn.kind == "call" and insn.target is not None
    }
    pinned = {binary.entry, *binary.init_functions, *binary.exports}
    main_va = find_main(binary) if discovery.in_code(binary.entry) else None
    if main_va is not None:
        pinned.add(main_va)
    fragments = _classify_fragments(swept, called, pinned)

    # Functions from FDEs, the entry point, main, init arrays and exports.
    for start, (end, _, insns) in swept.items():
        if start not in fragments:
            discovery.functions[start] = DiscoveredFunction(
                start, "fde", ((start, end),), has_fde=True
            )
            discovery.insns[start] = list(insns)
    stats.fde_functions = len(discovery.functions)
    stats.fragments = len(fragments)
    discovery.fragment_ranges = tuple((start, swept[start][0]) for start in sorted(fragments))
    stats.entry_found = (
        _add(discovery, binary.entry, "entry") or binary.entry in discovery.functions
    )
    stats.main_va = main_va
    if main_va is not None:
        _add(discovery, main_va, "main")
    for pointer in binary.init_functions:
        stats.init_array_functions += _add(discovery, pointer, "init_array")
    for address in binary.exports:
        stats.export_functions += _add(discovery, address, "export")

    # Attach fragments to the functions that jump into them, then add call targets.
    _attach_fragments(
        discovery, list(discovery.fragment_ranges), {s: swept[s][2] for s in fragments}
    )
    stats.static_call_targets = add_call_targets(
        discovery, binary, called, source_is_decompiler=False
    )
    for function in discovery.functions.values():
        function.thunk_target = _thunk_target(
            binary, function, discovery.insns.get(function.entry, [])
        )
    return discovery


def _classify_fragments(
    swept: dict[int, tuple[int, bool, list[Insn]]], called: set[int], pinned: set[int]
) -> set[int]:
    """Return the FDE starts that are fragments of other functions.

    Besides FDEs whose CFA rule marks them (`Fde.is_fragment`), a ``.cold`` part of
    a function that jumps to it before setting up a frame keeps the entry CFA rule.
    Such a range is also taken as a fragment when nothing calls it and another
    range jumps into it, provided it has no ``ret``, no indirect jump and no jump
    to anything but the middle of another range. It then ends in ``hlt``/``ud2``,
    a final call to a no-return function or a jump back into its parent. A
    function that returns or ends in a tail call therefore stays a function.
    """
    fragments = {start for start, (_, is_fragment, _) in swept.items() if is_fragment}
    jumped_into: set[int] = set()
    for start, (end, _, insns) in swept.items():
        for insn in insns:
            if (
                insn.kind in ("jmp", "jcc")
                and insn.target is not None
                and not start <= insn.target < end
            ):
                jumped_into.add(insn.target)
    for start, (end, is_fragment, insns) in swept.items():
        if is_fragment or start in called or start in pinned or start not in jumped_into:
            continue
        if all(_stays_fragment_exit(insn, start, end, swept) for insn in insns):
            fragments.add(start)
    return fragments


def _stays_fragment_exit(
    insn: Insn, start: int, end: int, swept: dict[int, tuple[int, bool, list[Insn]]]
) -> bool:
    """Tell whether `insn` may end a fragment: no return, no tail jump, no indirect jump."""
    if insn.kind in ("ret", "jmp_indirect"):
        return False
    if insn.kind == "jmp" and insn.target is not None and not start <= insn.target < end:
        # Only a jump back into the middle of another range keeps it a fragment.
        return any(
            other_start < insn.target < other_end
            for other_start, (other_end, _, _) in swept.items()
        )
    return True


def add_call_targets(
    discovery: Discovery,
    binary: LoadedBinary,
    targets: Iterable[int],
    *,
    source_is_decompiler: bool = True,
) -> int:
    """Add unknown direct call targets in code as functions; return how many were added."""
    added = 0
    fde_ranges = [f.body_ranges[0] for f in discovery.functions.values() if f.has_fde]
    for target in sorted(set(targets)):
        if (
            target in discovery.functions
            or target in binary.plt_stubs
            or not discovery.in_code(target)
        ):
            continue
        if any(start < target < end for start, end in fde_ranges):
            discovery.stats.interior_call_targets += 1
            continue
        if any(start <= target < end for start, end in discovery.fragment_ranges):
            discovery.stats.interior_call_targets += 1
            continue
        discovery.functions[target] = DiscoveredFunction(target, "call")
        added += 1
    if source_is_decompiler:
        discovery.stats.decompiler_call_targets += added
    return added


def find_main(binary: LoadedBinary) -> int | None:
    """Return the address ``_start`` passes to ``__libc_start_main`` as ``main``, or None."""
    disassembler = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    code = binary.read(binary.entry, _START_SCAN_BYTES)
    candidate: int | None = None
    for address, size, mnemonic, operands in disassembler.disasm_lite(code, binary.entry):
        if mnemonic == "mov" and (match := _RDI_IMMEDIATE.match(operands)):
            candidate = int(match.group(1), 16)
        elif mnemonic == "lea" and operands.startswith("rdi, [rip"):
            candidate = rip_relative_target(address, size, operands)
        elif mnemonic == "call":
            if _calls_libc_start_main(binary, address, size, operands):
                return candidate
            candidate = None
        elif mnemonic in ("hlt", "ret", "jmp"):
            break
    return None


def _calls_libc_start_main(binary: LoadedBinary, address: int, size: int, operands: str) -> bool:
    if operands.startswith("0x"):
        return binary.plt_stubs.get(int(operands, 16)) == "__libc_start_main"
    slot = rip_relative_target(address, size, operands)
    return slot is not None and binary.got_slots.get(slot) == "__libc_start_main"


def _add(discovery: Discovery, address: int, source: FunctionSource) -> int:
    if address in discovery.functions or not discovery.in_code(address):
        return 0
    discovery.functions[address] = DiscoveredFunction(address, source)
    return 1


def _attach_fragments(
    discovery: Discovery,
    fragments: list[tuple[int, int]],
    fragment_insns: dict[int, list[Insn]],
) -> None:
    """Append each fragment to the bodies of the functions (or fragments) that jump into it."""
    jumpers: dict[int, set[int]] = {}  # fragment start -> entries / fragment starts jumping in
    sources = [(entry, insns) for entry, insns in discovery.insns.items()]
    sources += [(start, insns) for start, insns in fragment_insns.items()]
    for source, insns in sources:
        for insn in insns:
            if insn.kind not in ("jmp", "jcc") or insn.target is None:
                continue
            for start, end in fragments:
                if start <= insn.target < end and source != start:
                    jumpers.setdefault(start, set()).add(source)

    fragment_starts = {start for start, _ in fragments}
    ends = dict(fragments)
    for entry, function in discovery.functions.items():
        owned = _fragments_reached(entry, jumpers, fragment_starts)
        if not owned:
            continue
        function.body_ranges = (*function.body_ranges, *((s, ends[s]) for s in sorted(owned)))
        for start in sorted(owned):
            discovery.insns.setdefault(entry, []).extend(fragment_insns[start])

    for start, end in fragments:
        if start in jumpers and _has_function_owner(start, jumpers, fragment_starts, set()):
            continue
        if start in discovery.functions:
            continue
        discovery.stats.orphan_fragments += 1
        discovery.functions[start] = DiscoveredFunction(
            start, "orphan_fragment", ((start, end),), has_fde=True
        )
        discovery.insns[start] = fragment_insns[start]


def _fragments_reached(
    entry: int, jumpers: dict[int, set[int]], fragment_starts: set[int]
) -> set[int]:
    """Return the fragments reachable from `entry` through jumps, following fragment chains."""
    owned: set[int] = set()
    frontier = {entry}
    while frontier:
        source = frontier.pop()
        for fragment, sources in jumpers.items():
            if source in sources and fragment not in owned:
                owned.add(fragment)
                frontier.add(fragment)
    return owned & fragment_starts


def _has_function_owner(
    fragment: int, jumpers: dict[int, set[int]], fragment_starts: set[int], seen: set[int]
) -> bool:
    seen.add(fragment)
    for source in jumpers.get(fragment, ()):
        if source not in fragment_starts:
            return True
        if source not in seen and _has_function_owner(source, jumpers, fragment_starts, seen):
            return True
    return False


def _thunk_target(
    binary: LoadedBinary, function: DiscoveredFunction, insns: list[Insn]
) -> int | None:
    """Return the target of a body that is a single jump out of itself, or None."""
    if not insns:
        return None
    first = insns[0]
    if binary.read(first.address, 4) == _ENDBR64 and len(insns) > 1:
        first = insns[1]
    if first.address > function.entry + len(_ENDBR64) or first.target is None:
        return None
    if first.kind == "jmp_indirect":
        return first.target if first.target in binary.got_slots else None
    if first.kind != "jmp":
        return None
    inside = any(start <= first.target < end for start, end in function.body_ranges)
    return None if inside else first.target
