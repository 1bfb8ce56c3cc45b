"""Control-flow graph of one decompiled function, rebuilt from the decompiler's P-code.

The enriched result lists the P-code ops left after simplification, each with the
address of the machine instruction it came from. Sorted by address, the ops are
cut into basic blocks at every branch target (``BRANCH``/``CBRANCH`` input 0, the
recovered jump-table targets of a ``BRANCHIND``) and after every ``BRANCH``,
``CBRANCH``, ``BRANCHIND`` and ``RETURN``. Edges come from the branch targets and
from fall-through into the next block. Ops of the stubs that
`reforge.binary.patching` added are moved to the instruction they stand for, so a
tail call or a no-return call ends its block as an exit. The cyclomatic
complexity is ``E - N + 2`` over the graph in which every exit (return, tail
call, no-return call) is joined to one virtual exit node. `bb_count` and
`edge_count` count only the real blocks and edges.

Simplification removes ops (a folded ``lea``, dead stores), so a branch target
may have no op of its own. Its block then starts at the target address and holds
the next ops in address order. An intra-instruction branch (target in the ``const`` space, e.g. from
``rep movsb``) does not split blocks.

`format_cfg` renders the graph for a model::

    cfg: 4 blocks, 4 edges, cyclomatic 2, indirect jumps 0, completeness HIGH
    B0 00401266..00401275 -> B1, B2
    B1 00401281..0040128b -> B3
    B2 0040128d..00401297 -> B3
    B3 004012a1..004012a2 -> return
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

from flatline import JumpTableInfo, PcodeOpInfo, VarnodeInfo

# NOTE: flatline 0.1.2 names some high opcodes wrongly (MULTIEQUAL shows as BUILD,
# INDIRECT as DELAY_SLOT); the control-flow opcodes used here are named correctly.
_TERMINATORS = frozenset({"BRANCH", "CBRANCH", "BRANCHIND", "RETURN"})
MAX_LISTED_BLOCKS = 200


class StubSite(NamedTuple):
    """Location of a stub's code in the original function."""

    site: int
    """Address of the instruction the stub stands for (for a shared entry stub, the
    entry of the callee)."""
    exit: str
    """Exit description, e.g. ``tail call FUN_00401220``."""
    shared: bool
    """True for a callee's entry stub, which every jump into that entry reaches."""


StubResolver = Callable[[int], StubSite | None]
"""Instruction address -> its `StubSite` for stub code, None for real code."""


@dataclass(frozen=True, slots=True)
class Block:
    """One basic block: its leader address, last op address and how it ends."""

    start: int
    last: int
    successors: tuple[int, ...]
    """Leader addresses of the successor blocks."""
    exit: str | None = None
    """Exit kind of the block: ``return``, ``tail call <callee>``, ``call <callee>
    (no return)``, ``indirect jump`` or ``halt``. None when control only goes to
    `successors`."""


@dataclass(frozen=True, slots=True)
class Cfg:
    """Blocks and edge counts of one function."""

    blocks: tuple[Block, ...]
    edge_count: int
    indirect_jumps: int
    unresolved_indirect_jumps: int
    instruction_addresses: frozenset[int] = field(default=frozenset())
    """Distinct machine-instruction addresses of the ops (stub ops count at their site)."""

    @property
    def block_count(self) -> int:
        return len(self.blocks)

    @property
    def exit_count(self) -> int:
        return sum(1 for block in self.blocks if block.exit is not None)

    @property
    def cyclomatic(self) -> int:
        """``E - N + 2`` with every exit joined to one virtual exit node.

        With a single exit this is the plain ``E - N + 2``; with several returns it
        still counts one per decision, so ``if (c) return 1; return 0;`` is 2.
        """
        if not self.blocks:
            return 0
        return (self.edge_count + self.exit_count) - (self.block_count + 1) + 2


@dataclass(frozen=True, slots=True)
class _Op:
    address: int
    op: PcodeOpInfo
    exit: str | None
    """For the RETURN of a stub, the call it stands for."""


def build_cfg(
    ops: list[PcodeOpInfo],
    varnodes: list[VarnodeInfo],
    jump_tables: list[JumpTableInfo],
    entry: int,
    *,
    stub_at: StubResolver | None = None,
) -> Cfg:
    """Rebuild the basic blocks and edges of one function from its P-code.

    Ops of a stub are moved to the instruction the stub stands for (the tail jump or
    no-return call). The stub's ``RETURN`` ends that block with the stub's exit
    description, so the graph has the shape of the original machine code.
    """
    raw_targets = _branch_targets(ops, varnodes)
    real_ops, targets = _map_stubs(ops, raw_targets, entry, stub_at)
    if not real_ops:
        return Cfg(blocks=(), edge_count=0, indirect_jumps=0, unresolved_indirect_jumps=0)
    table_targets = {table.switch_address: table.target_addresses for table in jump_tables}

    # Leaders: the entry, branch targets, and the next instruction after each terminator.
    addresses = sorted({item.address for item in real_ops})
    leaders = {entry, addresses[0], *(t for t in targets.values() if t is not None)}
    for table in table_targets.values():
        leaders.update(table)
    for item in real_ops:
        if item.op.opcode in _TERMINATORS:
            index = bisect_right(addresses, item.address)
            if index < len(addresses):
                leaders.add(addresses[index])

    # Group the ops into blocks by address.
    sorted_leaders = sorted(leaders)
    members: dict[int, list[_Op]] = {}
    for item in real_ops:
        leader = sorted_leaders[max(bisect_right(sorted_leaders, item.address) - 1, 0)]
        members.setdefault(leader, []).append(item)
    block_starts = sorted(members)

    def block_of(address: int) -> int | None:
        index = bisect_left(block_starts, address)
        return block_starts[index] if index < len(block_starts) else None

    # Successors and exits of each block.
    blocks: list[Block] = []
    edge_count = indirect = unresolved = 0
    for position, start in enumerate(block_starts):
        block_ops = members[start]
        next_block = block_starts[position + 1] if position + 1 < len(block_starts) else None
        control = _control_op(block_ops)
        successors, exit_kind = _successors(control, next_block, targets, table_targets, block_of)
        if control is not None and control.op.opcode == "BRANCHIND":
            indirect += 1
            unresolved += exit_kind == "indirect jump"
        unique = tuple(dict.fromkeys(successors))
        edge_count += len(unique)
        blocks.append(Block(start, block_ops[-1].address, unique, exit_kind))

    return Cfg(
        blocks=tuple(blocks),
        edge_count=edge_count,
        indirect_jumps=indirect,
        unresolved_indirect_jumps=unresolved,
        instruction_addresses=frozenset(addresses),
    )


def _map_stubs(
    ops: list[PcodeOpInfo],
    targets: dict[int, int | None],
    entry: int,
    stub_at: StubResolver | None,
) -> tuple[list[_Op], dict[int, int | None]]:
    """Move stub ops and branch targets to the sites they stand for; sort by address.

    A shared entry stub entered by exactly one unconditional jump belongs to that
    jump (a short ``jmp`` tail call). One that no branch op enters was merged into
    the block before it by the decompiler, and belongs to that block's last real
    op (or to the entry, if the block has none). Otherwise its ops stay at the
    callee's entry.
    """
    if stub_at is None:
        return sorted((_Op(op.instruction_address, op, None) for op in ops), key=_address), targets

    # Many ops share an instruction address, so resolve each address once.
    resolved: dict[int, StubSite | None] = {}

    def resolve(address: int) -> StubSite | None:
        if address not in resolved:
            resolved[address] = stub_at(address)
        return resolved[address]

    stubs = {op.id: resolve(op.instruction_address) for op in ops}
    target_stubs = {op_id: resolve(t) for op_id, t in targets.items() if t is not None}
    jumps_into: dict[int, list[PcodeOpInfo]] = {}
    for op in ops:
        target_stub = target_stubs.get(op.id)
        if target_stub is not None and target_stub.shared and stubs[op.id] is None:
            jumps_into.setdefault(target_stub.site, []).append(op)
    site_of_shared = {
        site: sources[0].instruction_address
        for site, sources in jumps_into.items()
        if len(sources) == 1 and sources[0].opcode == "BRANCH"
    }
    previous_real = entry
    for op in ops:
        stub = stubs[op.id]
        if stub is None:
            previous_real = entry if op.opcode in _TERMINATORS else op.instruction_address
        elif stub.shared and stub.site not in jumps_into:
            site_of_shared.setdefault(stub.site, previous_real)

    mapped: list[_Op] = []
    mapped_targets: dict[int, int | None] = {}
    for op in ops:
        stub = stubs[op.id]
        address = op.instruction_address
        if stub is not None:
            address = site_of_shared.get(stub.site, stub.site) if stub.shared else stub.site
        if op.id in targets:
            target = targets[op.id]
            target_stub = target_stubs.get(op.id)
            if target_stub is not None:
                target = target_stub.site
                if target_stub.shared:
                    target = site_of_shared.get(target, target)
                if target == address and op.opcode == "BRANCH":
                    continue  # the jump into the stub, which now sits at the jump itself
            mapped_targets[op.id] = target
        exit_kind = stub.exit if stub is not None and op.opcode == "RETURN" else None
        mapped.append(_Op(address, op, exit_kind))
    mapped.sort(key=_address)
    return mapped, mapped_targets


def _address(item: _Op) -> int:
    return item.address


def _successors(
    control: _Op | None,
    next_block: int | None,
    targets: dict[int, int | None],
    table_targets: dict[int, list[int]],
    block_of: Callable[[int], int | None],
) -> tuple[list[int], str | None]:
    """Return a block's successor leaders and its exit description (None if it has none)."""
    if control is None:
        return ([next_block], None) if next_block is not None else ([], "halt")
    opcode = control.op.opcode
    if opcode == "RETURN":
        return [], control.exit or "return"
    if opcode == "BRANCHIND":
        table = table_targets.get(control.op.instruction_address) or table_targets.get(
            control.address
        )
        if not table:
            return [], "indirect jump"
        return [b for a in table if (b := block_of(a)) is not None], None
    successors: list[int] = []
    target = targets.get(control.op.id)
    if target is None:
        # An intra-instruction branch (``const`` target): control stays in this flow.
        if next_block is not None:
            successors.append(next_block)
    elif (block := block_of(target)) is not None:
        successors.append(block)
    if opcode == "CBRANCH" and next_block is not None:
        successors.append(next_block)
    return successors, None if successors else "halt"


def format_cfg(cfg: Cfg, completeness: str) -> str:
    """Render the CFG as text: a summary line, then one line per block."""
    index = {block.start: number for number, block in enumerate(cfg.blocks)}
    lines = [
        f"cfg: {cfg.block_count} blocks, {cfg.edge_count} edges, cyclomatic {cfg.cyclomatic}, "
        f"indirect jumps {cfg.indirect_jumps}"
        + (
            f" ({cfg.unresolved_indirect_jumps} unresolved)"
            if cfg.unresolved_indirect_jumps
            else ""
        )
        + f", completeness {completeness}"
    ]
    for number, block in enumerate(cfg.blocks[:MAX_LISTED_BLOCKS]):
        targets = [f"B{index[s]}" for s in block.successors]
        if block.exit:
            targets.append(block.exit)
        lines.append(f"B{number} {block.start:08x}..{block.last:08x} -> {', '.join(targets)}")
    if cfg.block_count > MAX_LISTED_BLOCKS:
        lines.append(f"... {cfg.block_count - MAX_LISTED_BLOCKS} more blocks not listed")
    return "\n".join(lines)


def _branch_targets(
    ops: Iterable[PcodeOpInfo], varnodes: list[VarnodeInfo]
) -> dict[int, int | None]:
    """Map each BRANCH/CBRANCH op id to its ``ram`` target address (None for ``const``)."""
    wanted = {
        op.input_varnode_ids[0]: op.id
        for op in ops
        if op.opcode in ("BRANCH", "CBRANCH") and op.input_varnode_ids
    }
    targets: dict[int, int | None] = dict.fromkeys(wanted.values())
    for varnode in varnodes:
        op_id = wanted.get(varnode.id)
        if op_id is not None and varnode.space == "ram":
            targets[op_id] = varnode.offset
    return targets


def _control_op(block_ops: list[_Op]) -> _Op | None:
    """Return the block's last terminator if it belongs to the block's last instruction."""
    last_address = block_ops[-1].address
    for item in reversed(block_ops):
        if item.address != last_address:
            return None
        if item.op.opcode in _TERMINATORS:
            return item
    return None
