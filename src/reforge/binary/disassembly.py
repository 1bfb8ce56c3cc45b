"""Linear-sweep disassembly of code ranges, reduced to what control-flow analysis needs.

gcc's x86-64 code keeps jump tables in ``.rodata``, so a linear sweep over an
FDE range decodes the real instructions. A byte capstone cannot decode is
skipped, and decoding resumes at the next byte. Each instruction is reduced to an
`Insn` (address, size, control-flow kind, target), which keeps a sweep over a
whole binary small and fast (``disasm_lite`` without operand details).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal, NamedTuple

import capstone

from reforge.binary.plt import rip_relative_target

InsnKind = Literal["call", "call_indirect", "jmp", "jmp_indirect", "jcc", "ret", "halt", "other"]

_DIRECT_TARGET = re.compile(r"^0x[0-9a-f]+$")
_CONDITIONAL_PREFIXES = ("j", "loop")
_HALTS = frozenset({"hlt", "ud2", "ud0", "ud1"})
_RETURNS = frozenset({"ret", "retf", "retq", "bnd ret", "iretq", "sysret"})


class Insn(NamedTuple):
    """One decoded instruction."""

    address: int
    size: int
    kind: InsnKind
    target: int | None
    """Direct branch or call target; for ``[rip + disp]`` operands of indirect
    calls and jumps, the memory slot address (a GOT slot for ``-fno-plt`` calls)."""

    @property
    def end(self) -> int:
        return self.address + self.size


_disassembler = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)


def sweep(image: bytes, image_base: int, start: int, end: int) -> list[Insn]:
    """Decode ``[start, end)`` linearly, skipping undecodable bytes."""
    return list(_iter_sweep(image, image_base, start, end))


def _iter_sweep(image: bytes, image_base: int, start: int, end: int) -> Iterator[Insn]:
    code = image[max(start - image_base, 0) : max(end - image_base, 0)]
    position = 0
    while position < len(code):
        resumed_at = position
        for insn_address, size, mnemonic, operands in _disassembler.disasm_lite(
            code[position:], start + position
        ):
            position = insn_address + size - start
            yield classify(insn_address, size, mnemonic, operands)
        if position == resumed_at:
            # capstone stops at the first byte it cannot decode; step over it.
            position += 1


def classify(address: int, size: int, mnemonic: str, operands: str) -> Insn:
    """Reduce one capstone ``disasm_lite`` tuple to an `Insn`."""
    base = mnemonic.removeprefix("bnd ").removeprefix("notrack ")
    if base in _RETURNS or mnemonic in _RETURNS:
        return Insn(address, size, "ret", None)
    if base in _HALTS:
        return Insn(address, size, "halt", None)
    if base in ("call", "jmp"):
        if _DIRECT_TARGET.match(operands):
            return Insn(address, size, base, int(operands, 16))
        slot = rip_relative_target(address, size, operands) if "[rip" in operands else None
        return Insn(address, size, f"{base}_indirect", slot)  # type: ignore[arg-type]
    if base.startswith(_CONDITIONAL_PREFIXES) and _DIRECT_TARGET.match(operands):
        return Insn(address, size, "jcc", int(operands, 16))
    return Insn(address, size, "other", None)
