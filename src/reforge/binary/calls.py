"""The calls one function makes, in call-site order, and their text for a model (``calls_text``).

Call sites come from the decompiler (`flatline.FunctionInfo.call_sites`). A call
made from one of the stubs of `reforge.binary.patching` is mapped back to the
original instruction and callee, and is marked as a tail call or a no-return
call. An indirect call through an import's GOT slot (``call [rip + slot]``) is a
call of that import. Other indirect calls are described by the register or the
one-level expression their target comes from::

    calls: 4 callees, 5 call sites
      FUN_00401400
      strtol (import)
      FUN_00401440 (tail call)
      exit (import, no return)
      indirect call via *(RDI + 0x10)
    called by:
      FUN_004010e0
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from flatline import CallSiteInfo, ParameterInfo, PcodeOpInfo, VarnodeInfo

from reforge.binary.noreturn import NORETURN_IMPORTS
from reforge.binary.patching import PatchedImage
from reforge.binary.presentation import Symbols
from reforge.binary.registers import register_name

CallKind = Literal["call", "tail_call", "noreturn_call", "indirect"]


@dataclass(frozen=True, slots=True)
class Call:
    """One call site, mapped back to the original code."""

    site: int
    """Ghidra address of the calling (or tail-jumping) instruction."""
    callee: int | None
    """Function entry or PLT stub called; None for an indirect call."""
    kind: CallKind
    via: str | None = None
    """For an indirect call, where the target comes from (a register or an expression)."""


def collect_calls(
    call_sites: Iterable[CallSiteInfo],
    ops: list[PcodeOpInfo],
    varnodes: list[VarnodeInfo],
    symbols: Symbols,
    patched: PatchedImage | None,
    *,
    own_entry: int | None = None,
    parameters: Iterable[ParameterInfo] = (),
) -> list[Call]:
    """Return the function's calls sorted by call-site address."""
    calls: list[Call] = []
    call_sites = list(call_sites)
    resolve = patched.resolve_call_target if patched is not None else (lambda a: a)
    callees = {
        site.instruction_address: resolve(site.target_address)
        for site in call_sites
        if site.target_address is not None
    }
    describe = _IndirectTargets(ops, varnodes, symbols, callees, parameters)
    for site in call_sites:
        address, target = site.instruction_address, site.target_address
        if target is None:
            slot = describe.got_slot(address)
            if slot is not None:
                calls.append(Call(address, None, "call", via=symbols.got_slots[slot]))
            else:
                calls.append(Call(address, None, "indirect", via=describe.target_of(address)))
            continue
        stub = patched.call_targets.get(target) if patched is not None else None
        if stub is None:
            calls.append(Call(address, target, "call"))
        elif patched is not None and patched.is_stub_address(address, own_entry=own_entry):
            kind: CallKind = "tail_call" if stub.kind in ("entry", "tail_call") else "noreturn_call"
            calls.append(Call(stub.site, stub.target, kind))
        else:
            calls.append(Call(address, stub.target, "call"))
    return sorted(calls, key=lambda call: call.site)


def callee_label(call: Call, symbols: Symbols) -> str:
    """Return the one-line description of a call's callee."""
    if call.kind == "indirect":
        return f"indirect call via {call.via}"
    if call.callee is None:
        name, is_import = call.via or "?", True
    else:
        name = symbols.function_name(call.callee)
        is_import = call.callee in symbols.plt_stubs
    notes = []
    if is_import:
        notes.append("import")
    if call.kind == "tail_call":
        notes.append("tail call")
    if call.callee is None:
        noreturn = call.via in NORETURN_IMPORTS
    else:
        noreturn = call.kind == "noreturn_call" or call.callee in symbols.noreturn
    if noreturn:
        notes.append("no return")
    return f"{name} ({', '.join(notes)})" if notes else name


def callee_keys(calls: Iterable[Call], symbols: Symbols) -> tuple[int | str, ...]:
    """Return the distinct direct callees: function entries as ints, imports as names."""
    keys: dict[int | str, None] = {}
    for call in calls:
        if call.kind == "indirect":
            continue
        if call.callee is None:
            keys[call.via or "?"] = None
        elif call.callee in symbols.plt_stubs:
            keys[symbols.plt_stubs[call.callee]] = None
        else:
            keys[call.callee] = None
    return tuple(keys)


def format_calls(calls: list[Call], symbols: Symbols) -> str:
    """Render ``calls_text``: one line per distinct callee, in call-site order."""
    labels = list(dict.fromkeys(callee_label(call, symbols) for call in calls))
    if not labels:
        return "calls: none"
    header = f"calls: {len(labels)} callees, {len(calls)} call sites"
    return "\n".join([header, *(f"  {label}" for label in labels)])


def add_callers(calls_text: str, callers: Iterable[str]) -> str:
    """Append a ``called by:`` section listing caller names (in the given order)."""
    names = list(dict.fromkeys(callers))
    if not names:
        return f"{calls_text}\ncalled by: none known"
    return "\n".join([calls_text, "called by:", *(f"  {name}" for name in names)])


def build_callers(callees_by_function: Mapping[int, Iterable[int | str]]) -> dict[int, list[int]]:
    """Invert a call graph: function entry -> sorted entries of the functions calling it."""
    callers: dict[int, set[int]] = {}
    for caller, callees in callees_by_function.items():
        for callee in callees:
            if isinstance(callee, int) and callee != caller:
                callers.setdefault(callee, set()).add(caller)
    return {callee: sorted(entries) for callee, entries in callers.items()}


class _IndirectTargets:
    """Describe where an indirect call's target comes from, from the P-code.

    The description follows the target's data flow up to three levels: loads
    (``*(...)``), additions, copies and casts. It ends at a constant, a global
    (its ``DAT_``/``PTR_`` name), a parameter (``param_N``), the value returned by
    a call, or a register.
    """

    def __init__(
        self,
        ops: list[PcodeOpInfo],
        varnodes: list[VarnodeInfo],
        symbols: Symbols,
        callees: dict[int, int],
        parameters: Iterable[ParameterInfo],
    ) -> None:
        self._callind = {op.instruction_address: op for op in ops if op.opcode == "CALLIND"}
        self._symbols = symbols
        self._callees = callees
        self._parameters = {
            p.storage.offset: p.name
            for p in parameters
            if p.storage is not None and p.storage.space == "register"
        }
        self._all_ops = ops
        self._ops: dict[int, PcodeOpInfo] | None = None
        self._varnodes_list = varnodes
        self._varnodes: dict[int, VarnodeInfo] | None = None

    def got_slot(self, address: int) -> int | None:
        """Return the import GOT slot the call at `address` loads its target from, if any."""
        varnode = self._target_varnode(address)
        if (
            varnode is not None
            and varnode.space == "ram"
            and varnode.offset in self._symbols.got_slots
        ):
            return varnode.offset
        return None

    def target_of(self, address: int) -> str:
        varnode = self._target_varnode(address)
        return "an unknown target" if varnode is None else self._describe(varnode, depth=3)

    def _target_varnode(self, address: int) -> VarnodeInfo | None:
        op = self._callind.get(address)
        if op is None or not op.input_varnode_ids:
            return None
        return self._varnode(op.input_varnode_ids[0])

    def _varnode(self, varnode_id: int) -> VarnodeInfo | None:
        if self._varnodes is None:
            self._varnodes = {v.id: v for v in self._varnodes_list}
        return self._varnodes.get(varnode_id)

    def _defining_op(self, varnode: VarnodeInfo) -> PcodeOpInfo | None:
        if varnode.defining_op_id is None:
            return None
        if self._ops is None:
            self._ops = {op.id: op for op in self._all_ops}
        return self._ops.get(varnode.defining_op_id)

    def _describe(self, varnode: VarnodeInfo, depth: int) -> str:
        if varnode.space == "const":
            return f"{varnode.offset:#x}"
        if varnode.space == "ram":
            return self._symbols.data_name(varnode.offset)
        if varnode.space == "register" and varnode.flags.is_input:
            return self._parameters.get(varnode.offset) or register_name(
                varnode.offset, varnode.size
            )
        op = self._defining_op(varnode) if depth > 0 else None
        inputs = [self._varnode(i) for i in op.input_varnode_ids] if op is not None else []
        if op is None or any(inner is None for inner in inputs):
            return self._fallback(varnode)
        if op.opcode in ("COPY", "CAST") and inputs:
            return self._describe(inputs[0], depth)
        if op.opcode == "LOAD" and len(inputs) > 1:
            return f"*({self._describe(inputs[1], depth - 1)})"
        if op.opcode == "INT_ADD" and len(inputs) == 2:
            left, right = (self._describe(inner, depth - 1) for inner in inputs)
            return f"{left} + {right}"
        if op.opcode == "CALL" and op.instruction_address in self._callees:
            name = self._symbols.function_name(self._callees[op.instruction_address])
            return f"the value returned by {name}"
        return self._fallback(varnode)

    @staticmethod
    def _fallback(varnode: VarnodeInfo) -> str:
        if varnode.space == "register":
            return register_name(varnode.offset, varnode.size)
        return "a computed pointer"
