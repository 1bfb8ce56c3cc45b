"""CFG rebuilding from P-code, on hand-made op lists whose graphs are known."""

from __future__ import annotations

from flatline import JumpTableInfo, PcodeOpInfo, VarnodeFlags, VarnodeInfo

from reforge.binary.cfg import StubSite, build_cfg, format_cfg

_FLAGS = VarnodeFlags(False, False, False, False, False, False, False, False)


class _Ops:
    """Builds a P-code op list; branch targets become ``ram`` varnodes."""

    def __init__(self) -> None:
        self.ops: list[PcodeOpInfo] = []
        self.varnodes: list[VarnodeInfo] = []

    def add(self, address: int, opcode: str, target: int | None = None) -> None:
        inputs = []
        if target is not None:
            varnode = VarnodeInfo(len(self.varnodes), "ram", target, 1, _FLAGS, None, [])
            self.varnodes.append(varnode)
            inputs.append(varnode.id)
        self.ops.append(PcodeOpInfo(len(self.ops), opcode, address, 0, 0, inputs))


def test_if_else_with_join() -> None:
    # 0x10: cbranch 0x30 | 0x20: call; branch 0x40 | 0x30: call | 0x40: return
    ops = _Ops()
    ops.add(0x10, "INT_SLESS")
    ops.add(0x10, "CBRANCH", 0x30)
    ops.add(0x20, "CALL")
    ops.add(0x28, "BRANCH", 0x40)
    ops.add(0x30, "CALL")
    ops.add(0x40, "RETURN")
    cfg = build_cfg(ops.ops, ops.varnodes, [], 0x10)
    assert cfg.block_count == 4
    assert cfg.edge_count == 4
    assert cfg.cyclomatic == 2


def test_two_returns_count_one_decision() -> None:
    ops = _Ops()
    ops.add(0x10, "CBRANCH", 0x30)
    ops.add(0x20, "RETURN")
    ops.add(0x30, "RETURN")
    cfg = build_cfg(ops.ops, ops.varnodes, [], 0x10)
    assert (cfg.block_count, cfg.edge_count, cfg.cyclomatic) == (3, 2, 2)


def test_loop_back_edge() -> None:
    # 0x10: body; cbranch back to 0x10 | 0x20: return
    ops = _Ops()
    ops.add(0x10, "INT_ADD")
    ops.add(0x18, "CBRANCH", 0x10)
    ops.add(0x20, "RETURN")
    cfg = build_cfg(ops.ops, ops.varnodes, [], 0x10)
    assert cfg.block_count == 2
    assert cfg.blocks[0].successors == (0x10, 0x20)
    assert cfg.cyclomatic == 2


def test_branch_target_without_ops() -> None:
    # The op at the target 0x28 was simplified away; the block keeps the target
    # address as its start and holds the next op, at 0x30.
    ops = _Ops()
    ops.add(0x10, "CBRANCH", 0x28)
    ops.add(0x20, "CALL")
    ops.add(0x30, "RETURN")
    cfg = build_cfg(ops.ops, ops.varnodes, [], 0x10)
    assert [block.start for block in cfg.blocks] == [0x10, 0x20, 0x28]
    assert [block.last for block in cfg.blocks] == [0x10, 0x20, 0x30]
    assert cfg.blocks[0].successors == (0x28, 0x20)


def test_jump_table_edges() -> None:
    ops = _Ops()
    ops.add(0x10, "BRANCHIND")
    for case in range(5):
        ops.add(0x20 + case * 0x10, "RETURN")
    table = JumpTableInfo(0x10, 5, [0x20 + case * 0x10 for case in range(5)])
    cfg = build_cfg(ops.ops, ops.varnodes, [table], 0x10)
    assert cfg.block_count == 6
    assert cfg.edge_count == 5
    assert cfg.indirect_jumps == 1
    assert cfg.unresolved_indirect_jumps == 0
    assert cfg.cyclomatic == 5


def test_unresolved_indirect_jump_is_exit() -> None:
    ops = _Ops()
    ops.add(0x10, "BRANCHIND")
    cfg = build_cfg(ops.ops, ops.varnodes, [], 0x10)
    assert cfg.unresolved_indirect_jumps == 1
    assert cfg.blocks[0].exit == "indirect jump"


def test_stub_ops_move_to_their_site() -> None:
    # 0x10: cbranch 0x30 | 0x20: return | 0x30: jmp to stub 0x9000 (call exit; ret)
    ops = _Ops()
    ops.add(0x10, "CBRANCH", 0x30)
    ops.add(0x20, "RETURN")
    ops.add(0x30, "BRANCH", 0x9000)
    ops.add(0x9000, "CALL")
    ops.add(0x9005, "RETURN")

    def stub_at(address: int) -> StubSite | None:
        if address >= 0x9000:
            return StubSite(0x30, "call exit (no return)", shared=False)
        return None

    cfg = build_cfg(ops.ops, ops.varnodes, [], 0x10, stub_at=stub_at)
    assert [block.start for block in cfg.blocks] == [0x10, 0x20, 0x30]
    assert cfg.blocks[2].exit == "call exit (no return)"
    assert cfg.instruction_addresses == {0x10, 0x20, 0x30}
    assert cfg.cyclomatic == 2


def test_format_lists_blocks() -> None:
    ops = _Ops()
    ops.add(0x401010, "CBRANCH", 0x401030)
    ops.add(0x401020, "RETURN")
    ops.add(0x401030, "RETURN")
    text = format_cfg(build_cfg(ops.ops, ops.varnodes, [], 0x401010), "HIGH")
    assert text.splitlines() == [
        "cfg: 3 blocks, 2 edges, cyclomatic 2, indirect jumps 0, completeness HIGH",
        "B0 00401010..00401010 -> B2, B1",
        "B1 00401020..00401020 -> return",
        "B2 00401030..00401030 -> return",
    ]
