"""Image patches so the decompiler shows calls, tail calls and no-return calls like Ghidra.

The decompiler gets one flat image and one function address, and no list of the
other functions. So a tail jump ``jmp helper`` is followed as an internal branch and
helper's body shows up inside the caller, and ``call exit`` falls through into
the next function. Ghidra avoids both because its database records where functions
start and which ones never return. The patches below give the same information
through the image itself, prepared once per binary (`prepare_image`):

- A trampoline area is appended after the image. For every tail jump, no-return
  call and function entry it holds one stub ``S: call T; ret`` whose call target
  ``T = S + 6`` is a one-byte slot that nothing executes. ``T`` is unique per stub
  and `PatchedImage.call_targets` maps it back to the real callee.
- Direct calls to known functions and PLT stubs are retargeted to the callee's
  ``T``. Without this, a function that both calls and tail-jumps to the same
  callee makes the decompiler see a call into its own body ("Possible PIC
  construction ... Changing call to branch").
- Direct tail jumps (``jmp rel32`` / ``jcc rel32`` to another function's entry)
  and no-return calls are rewritten to jump to their own stub, so the output
  reads ``helper(...); return ...;`` or ``exit(1); return;`` and stops there. A
  stub per site keeps two calls with different arguments apart.
- Every function entry and PLT stub starts with ``jmp S`` to its own stub (or a
  lone ``ret`` when fewer than 5 bytes fit before the next known start), which
  catches flow that reaches another function by a short jump or a fall-through.

For the function being decompiled, its own entry bytes are put back
(`FunctionImages.image_for`); everything else is shared. A ``call T; ret`` stub at
the entry itself would not work: the stub would be in the caller's body and the
call into it is again taken for PIC code, which turned every stub into an
endless loop when tried on gcc 12 output.

Known limits: jumps with 8-bit displacements reach the entry stub (one shared
stub per callee), and functions found only later by the decompiler have no
entry stub and no retargeted calls.
"""

from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from reforge.binary.disassembly import Insn
from reforge.binary.discovery import Discovery
from reforge.binary.loader import LoadedBinary

_STUB_SIZE = 8
_STUB_CODE = b"\xe8\x01\x00\x00\x00\xc3\xc3\xcc"  # call S+6; ret; (S+6: ret); int3 padding
_CALL_TARGET_OFFSET = 6
_ENTRY_STUB_SIZE = 5
_RET = b"\xc3"


StubKind = Literal["entry", "tail_call", "noreturn_call"]


@dataclass(frozen=True, slots=True)
class StubCall:
    """The original call that a trampoline call stands for."""

    target: int
    """The real callee: a function entry or a PLT stub."""
    site: int
    """Address of the original instruction (the tail jump or no-return call); the
    callee's entry for entry stubs."""
    kind: StubKind
    """``entry`` for the stub at a function entry (also the target of retargeted
    plain calls), else what the rewritten instruction was."""


@dataclass(frozen=True, slots=True)
class PatchedImage:
    """The patched image shared by every function of one binary."""

    image: bytes
    image_base: int
    trampoline_start: int
    restore: dict[int, bytes]
    """Function entry -> the bytes its entry stub covers, put back when decompiling it."""
    call_targets: dict[int, StubCall]
    """Trampoline call target ``T`` -> the real call it stands for."""
    stub_entries: dict[int, int]
    """Entry or PLT stub address -> size of the entry stub written there."""
    stub_entry_starts: tuple[int, ...]
    """The keys of `stub_entries`, sorted."""

    def stub_at(self, address: int, *, own_entry: int | None = None) -> StubCall | None:
        """Return the stub an instruction address belongs to, or None for real code.

        `own_entry` is the function being decompiled: its entry bytes are restored,
        so its entry is real code.
        """
        if address >= self.trampoline_start:
            start = address - (address - self.trampoline_start) % _STUB_SIZE
            return self.call_targets.get(start + _CALL_TARGET_OFFSET)
        index = bisect_right(self.stub_entry_starts, address) - 1
        if index < 0:
            return None
        start = self.stub_entry_starts[index]
        if start == own_entry or address >= start + self.stub_entries[start]:
            return None
        return StubCall(target=start, site=start, kind="entry")

    def is_stub_address(self, address: int, *, own_entry: int | None = None) -> bool:
        """Tell whether an instruction address belongs to a stub rather than to real code."""
        return self.stub_at(address, own_entry=own_entry) is not None

    def resolve_call_target(self, address: int) -> int:
        """Map a trampoline call target back to the real callee; other addresses pass through."""
        stub = self.call_targets.get(address)
        return stub.target if stub is not None else address


def prepare_image(
    binary: LoadedBinary, discovery: Discovery, noreturn: Iterable[int]
) -> PatchedImage:
    """Build the shared patched image of one binary (see the module docstring)."""
    noreturn = frozenset(noreturn)
    functions = set(discovery.functions)
    known = sorted(functions | set(binary.plt_stubs))
    trampoline_start = (binary.image_end + 0xF) & ~0xF
    image = bytearray(binary.image)
    image += bytes(trampoline_start - binary.image_end)
    builder = _StubBuilder(image, binary.image_base, trampoline_start)

    # One stub per known entry, then retarget calls and tail jumps in swept code.
    entry_stubs = {target: builder.add(target, target, "entry") for target in known}
    for owner, insn in _iter_unique_insns(discovery.insns):
        target = insn.target
        if target is None or target not in entry_stubs:
            continue
        if insn.kind == "call" and target in noreturn:
            stub = builder.add(target, insn.address, "noreturn_call")
            builder.redirect(insn, stub, as_jump=True)
        elif insn.kind == "call":
            builder.retarget_call(insn, entry_stubs[target] + _CALL_TARGET_OFFSET)
        elif insn.kind in ("jmp", "jcc") and target not in owner:
            stub = builder.add(target, insn.address, "tail_call")
            builder.redirect(insn, stub, as_jump=False)

    # Save what each entry stub covers, then write the entry stubs.
    boundaries = _stub_boundaries(binary, known)
    restore: dict[int, bytes] = {}
    stub_entries: dict[int, int] = {}
    for target in known:
        room = boundaries[target] - target
        size = _ENTRY_STUB_SIZE if room >= _ENTRY_STUB_SIZE else min(room, 1)
        if size == 0:
            continue
        offset = target - binary.image_base
        if target in functions:
            restore[target] = bytes(image[offset : offset + size])
        if size == _ENTRY_STUB_SIZE:
            image[offset : offset + size] = _jump_rel32(target, entry_stubs[target])
        else:
            image[offset : offset + 1] = _RET
        stub_entries[target] = size

    return PatchedImage(
        image=bytes(builder.finish()),
        image_base=binary.image_base,
        trampoline_start=trampoline_start,
        restore=restore,
        call_targets=builder.call_targets,
        stub_entries=stub_entries,
        stub_entry_starts=tuple(sorted(stub_entries)),
    )


class FunctionImages:
    """Per-process helper that hands out the image for one function at a time."""

    def __init__(self, patched: PatchedImage) -> None:
        self.patched = patched
        self._buffer = bytearray(patched.image)

    def image_for(self, entry: int) -> bytes:
        """Return the shared image with `entry`'s own bytes put back (one copy of the image)."""
        original = self.patched.restore.get(entry)
        if original is None:
            return self.patched.image
        offset = entry - self.patched.image_base
        end = offset + len(original)
        stub = bytes(self._buffer[offset:end])
        self._buffer[offset:end] = original
        try:
            return bytes(self._buffer)
        finally:
            self._buffer[offset:end] = stub


class _StubBuilder:
    def __init__(self, image: bytearray, image_base: int, trampoline_start: int) -> None:
        self.image = image
        self.image_base = image_base
        self.next_stub = trampoline_start
        self.call_targets: dict[int, StubCall] = {}
        self._stubs = bytearray()

    def add(self, target: int, site: int, kind: StubKind) -> int:
        """Append a ``call T; ret`` stub standing for a call of `target` at `site`."""
        stub = self.next_stub
        self._stubs += _STUB_CODE
        self.next_stub += _STUB_SIZE
        self.call_targets[stub + _CALL_TARGET_OFFSET] = StubCall(target, site, kind)
        return stub

    def retarget_call(self, insn: Insn, new_target: int) -> None:
        offset = insn.address - self.image_base
        if insn.size == 5 and self.image[offset] == 0xE8:
            struct.pack_into("<i", self.image, offset + 1, new_target - insn.end)

    def redirect(self, insn: Insn, stub: int, *, as_jump: bool) -> None:
        """Point a ``call``/``jmp``/``jcc`` with a 32-bit displacement at `stub`."""
        offset = insn.address - self.image_base
        opcode = self.image[offset]
        if insn.size == 5 and opcode in (0xE8, 0xE9):
            if as_jump:
                self.image[offset] = 0xE9
            struct.pack_into("<i", self.image, offset + 1, stub - insn.end)
        elif insn.size == 6 and opcode == 0x0F and 0x80 <= self.image[offset + 1] <= 0x8F:
            struct.pack_into("<i", self.image, offset + 2, stub - insn.end)

    def finish(self) -> bytearray:
        return self.image + self._stubs


def _jump_rel32(source: int, target: int) -> bytes:
    return b"\xe9" + struct.pack("<i", target - (source + _ENTRY_STUB_SIZE))


def _iter_unique_insns(insns: Mapping[int, list[Insn]]) -> Iterable[tuple[frozenset[int], Insn]]:
    """Yield each swept instruction once with the entries whose bodies contain it."""
    owners: dict[int, set[int]] = {}
    by_address: dict[int, Insn] = {}
    for entry, body in insns.items():
        for insn in body:
            owners.setdefault(insn.address, set()).add(entry)
            by_address[insn.address] = insn
    for address in sorted(by_address):
        yield frozenset(owners[address]), by_address[address]


def _stub_boundaries(binary: LoadedBinary, known: list[int]) -> dict[int, int]:
    """Return, for each known start, the next known start or the end of its section."""
    boundaries: dict[int, int] = {}
    for index, start in enumerate(known):
        section = binary.section_at(start)
        limit = section.end if section is not None else start
        if index + 1 < len(known):
            limit = min(limit, known[index + 1])
        boundaries[start] = limit
    return boundaries
