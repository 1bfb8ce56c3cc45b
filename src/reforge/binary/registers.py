"""Names of x86-64 registers in Ghidra's ``register`` space, by offset and size.

The offsets are those of Ghidra's x86 SLEIGH specification (``ia.sinc``):
general-purpose registers 8 bytes apart from 0 (``RAX RCX RDX RBX RSP RBP RSI
RDI``), ``R8``-``R15`` from 0x80, and vector registers 0x40 apart from 0x1200
(``XMM0`` at 0x1200, ``XMM1`` at 0x1240...).
"""

from __future__ import annotations

_LEGACY = ("A", "C", "D", "B", "SP", "BP", "SI", "DI")
_XMM_BASE = 0x1200
_XMM_STRIDE = 0x40
_XMM_COUNT = 32
_FLAGS = {0x200: "CF", 0x202: "PF", 0x204: "AF", 0x206: "ZF", 0x207: "SF", 0x20B: "OF"}


def register_name(offset: int, size: int) -> str:
    """Return Ghidra's name of a register varnode, or ``reg_<offset>_<size>`` if unknown."""
    if offset < 0x40 and offset % 8 == 0:
        return _legacy_name(_LEGACY[offset // 8], size) or f"reg_{offset:x}_{size}"
    if offset < 0x20 and offset % 8 == 1 and size == 1:
        return f"{_LEGACY[offset // 8]}H"
    if 0x80 <= offset < 0xC0 and offset % 8 == 0:
        number = 8 + (offset - 0x80) // 8
        suffix = {8: "", 4: "D", 2: "W", 1: "B"}.get(size)
        if suffix is not None:
            return f"R{number}{suffix}"
    if _XMM_BASE <= offset < _XMM_BASE + _XMM_COUNT * _XMM_STRIDE:
        number, within = divmod(offset - _XMM_BASE, _XMM_STRIDE)
        return _xmm_name(number, within, size)
    if offset in _FLAGS and size == 1:
        return _FLAGS[offset]
    return f"reg_{offset:x}_{size}"


def _legacy_name(base: str, size: int) -> str | None:
    two_letter = len(base) == 2
    if size == 8:
        return f"R{base}" if two_letter else f"R{base}X"
    if size == 4:
        return f"E{base}" if two_letter else f"E{base}X"
    if size == 2:
        return base if two_letter else f"{base}X"
    if size == 1:
        return f"{base}L"
    return None


def _xmm_name(number: int, within: int, size: int) -> str:
    if within == 0 and size in (16, 32, 64):
        return {16: "XMM", 32: "YMM", 64: "ZMM"}[size] + str(number)
    lanes = {8: "Q", 4: "D", 2: "W", 1: "B"}
    if size in lanes and within % size == 0:
        return f"XMM{number}_{lanes[size]}{chr(ord('a') + within // size)}"
    return f"XMM{number}_{within:x}_{size}"
