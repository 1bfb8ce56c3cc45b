"""Frame description entries (FDEs) from ``.eh_frame``: where code ranges start and end.

Every function gcc emits has an FDE, even in a stripped binary, so FDE starts are
the main source of function starts. With optimisation gcc also splits rarely run
code into a ``.cold`` part with an FDE of its own. Such a fragment is not entered
by a call, and at its first byte the parent's frame is still set up. So its FDE
redefines the canonical frame address (CFA) before the first ``advance_loc``
(for example ``DW_CFA_def_cfa: rbp+16``). A function entry keeps the CIE's
initial rule, ``rsp+8`` on x86-64 (the return address just pushed by ``call``).

`read_fdes` is called by the loader inside its pyelftools error boundary.
"""

from __future__ import annotations

from dataclasses import dataclass

from elftools.dwarf.callframe import CIE, FDE
from elftools.dwarf.constants import DW_CFA
from elftools.elf.elffile import ELFFile

_ADVANCE_OPCODES = frozenset(
    {
        DW_CFA.advance_loc,
        DW_CFA.advance_loc1,
        DW_CFA.advance_loc2,
        DW_CFA.advance_loc4,
        DW_CFA.set_loc,
    }
)


@dataclass(frozen=True, slots=True)
class Fde:
    """One FDE's code range in Ghidra addresses (``end`` is exclusive)."""

    start: int
    end: int
    is_fragment: bool
    """True when the CFA at `start` differs from the CIE's initial rule (a ``.cold`` part)."""

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class _CfaRule:
    register: int | None = None
    offset: int | None = None
    expression: tuple[object, ...] | None = None


def read_fdes(elf: ELFFile, ghidra_offset: int) -> tuple[Fde, ...]:
    """Return the FDEs of ``.eh_frame`` sorted by start; empty when the section is absent."""
    if elf.get_section_by_name(".eh_frame") is None:
        return ()
    fdes: list[Fde] = []
    for entry in elf.get_dwarf_info(relocate_dwarf_sections=False).EH_CFI_entries():
        if not isinstance(entry, FDE) or entry.header["address_range"] == 0:
            continue
        start = entry.header["initial_location"] + ghidra_offset
        fdes.append(
            Fde(
                start=start,
                end=start + entry.header["address_range"],
                is_fragment=_starts_with_new_cfa(entry),
            )
        )
    return tuple(sorted(fdes, key=lambda fde: fde.start))


def _starts_with_new_cfa(fde: FDE) -> bool:
    """Tell whether the FDE's instructions before the first advance change the CFA rule."""
    cie = fde.cie
    initial = _apply_cfa_instructions(_CfaRule(), cie, cie.instructions)
    at_start = _apply_cfa_instructions(initial, cie, _until_first_advance(fde.instructions))
    return at_start != initial


def _until_first_advance(instructions: list) -> list:
    prefix = []
    for instruction in instructions:
        if instruction.opcode in _ADVANCE_OPCODES:
            break
        prefix.append(instruction)
    return prefix


def _apply_cfa_instructions(rule: _CfaRule, cie: CIE, instructions: list) -> _CfaRule:
    """Fold the CFA-defining instructions (DWARF 5 section 6.4.2.2) into `rule`."""
    register, offset, expression = rule.register, rule.offset, rule.expression
    factor = cie.header.get("data_alignment_factor", 1)
    for instruction in instructions:
        opcode, args = instruction.opcode, instruction.args
        if opcode == DW_CFA.def_cfa:
            register, offset, expression = args[0], args[1], None
        elif opcode == DW_CFA.def_cfa_sf:
            register, offset, expression = args[0], args[1] * factor, None
        elif opcode == DW_CFA.def_cfa_register:
            register, expression = args[0], None
        elif opcode == DW_CFA.def_cfa_offset:
            offset = args[0]
        elif opcode == DW_CFA.def_cfa_offset_sf:
            offset = args[0] * factor
        elif opcode == DW_CFA.def_cfa_expression:
            expression = tuple(repr(arg) for arg in args)
    return _CfaRule(register, offset, expression)
