"""PLT stubs: the small jumps through the GOT that stand for imported functions.

A stub is found by its ``jmp qword ptr [rip + disp]`` instruction whose memory
operand is a GOT slot with a ``JUMP_SLOT``/``GLOB_DAT`` relocation. This works for
the lazy ``.plt`` layout (``jmp [slot]; push n; jmp PLT0``), the IBT layout in
``.plt.sec`` (``endbr64; bnd jmp [slot]``) and ``.plt.got`` (``jmp [slot]; xchg``)
without knowing the entry sizes. PLT0 (``push [GOT+8]; jmp [GOT+16]``) has no
relocated slot and is skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import capstone

PLT_SECTION_NAMES = frozenset({".plt", ".plt.sec", ".plt.got", ".iplt"})

_ENDBR64 = b"\xf3\x0f\x1e\xfa"
_RIP_OPERAND = re.compile(r"\[rip ([+-]) (0x[0-9a-f]+|\d+)\]")


def find_plt_stubs(
    image: bytes,
    image_base: int,
    plt_sections: Iterable[tuple[str, int, int]],
    got_slots: Mapping[int, str],
) -> dict[int, str]:
    """Map each stub address in the PLT sections to the import name of its GOT slot."""
    disassembler = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    stubs: dict[int, str] = {}
    for _name, start, end in plt_sections:
        code = image[start - image_base : end - image_base]
        for address, size, mnemonic, operands in disassembler.disasm_lite(code, start):
            if not mnemonic.endswith("jmp") or "[rip" not in operands:
                continue
            slot = rip_relative_target(address, size, operands)
            if slot is None or slot not in got_slots:
                continue
            stub = address
            if image[stub - image_base - 4 : stub - image_base] == _ENDBR64:
                stub -= 4
            stubs[stub] = got_slots[slot]
    return stubs


def rip_relative_target(address: int, size: int, operands: str) -> int | None:
    """Return the address named by a ``[rip + disp]`` operand, or None if there is none."""
    match = _RIP_OPERAND.search(operands)
    if match is None:
        return None
    displacement = int(match.group(2), 0)
    if match.group(1) == "-":
        displacement = -displacement
    return address + size + displacement
