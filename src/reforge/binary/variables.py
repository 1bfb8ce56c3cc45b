"""The parameters and local variables of one function (``variables_text``).

Names and types are the displayed ones (after `reforge.binary.presentation`):
the type is taken from the declaration in ``c_raw`` when there is one, so arrays
read ``undefined [8]``. The kind is ``param`` for parameters and, for locals, the
storage space: ``stack``, ``register``, ``global`` (``ram``) or ``local``
(anything else, such as a temporary). Storage reads like Ghidra's:
``Stack[-0xc]``, ``RDI``, ``EAX``, ``XMM0_Qa``::

    variables: 2 params, 2 locals
      param_1  int         param  EDI
      param_2  int         param  ESI
      local_c  undefined4  stack  Stack[-0xc]
      uVar3    ulong       register  RAX
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from flatline import FunctionInfo, StorageInfo, TypeInfo

from reforge.binary.presentation import ghidra_type_name
from reforge.binary.registers import register_name

VariableKind = Literal["param", "stack", "register", "global", "local"]

_DECLARATION = re.compile(
    r"^[ \t]+(?P<type>[A-Za-z_][\w ]*?[ *]+)(?P<name>\w+)(?P<array>\s*\[\w+\])?;$", re.MULTILINE
)
_SIGNATURE = re.compile(r"^(?P<head>[^\n/{}]*?\b\w+)\((?P<params>[^)]*)\)\s*$", re.MULTILINE)
_PARAMETER = re.compile(r"^(?P<type>.*?[ *]+)(?P<name>\w+)$")
_SIGN_BIT = 1 << 63


@dataclass(frozen=True, slots=True)
class Variable:
    """One displayed variable."""

    name: str
    type: str
    kind: VariableKind
    storage: str


def collect_variables(info: FunctionInfo, c_raw: str, renames: Mapping[str, str]) -> list[Variable]:
    """Return the parameters, then the locals, with their displayed names and types."""
    declared = _declared_types(c_raw)
    variables = [
        Variable(
            name=renames.get(p.name, p.name),
            type=declared.get(renames.get(p.name, p.name)) or _type_name(p.type),
            kind="param",
            storage=format_storage(p.storage),
        )
        for p in info.prototype.parameters
    ]
    for local in info.local_variables:
        name = renames.get(local.name, local.name)
        variables.append(
            Variable(
                name=name,
                type=declared.get(name) or _type_name(local.type),
                kind=_local_kind(local.storage),
                storage=format_storage(local.storage),
            )
        )
    return variables


def format_variables(variables: list[Variable]) -> str:
    """Render ``variables_text``: a summary line, then one aligned line per variable."""
    params = sum(1 for v in variables if v.kind == "param")
    header = f"variables: {params} params, {len(variables) - params} locals"
    if not variables:
        return header
    widths = [max(len(getattr(v, field)) for v in variables) for field in ("name", "type", "kind")]
    name_width, type_width, kind_width = widths
    lines = [
        f"  {v.name:<{name_width}}  {v.type:<{type_width}}  {v.kind:<{kind_width}}  {v.storage}"
        for v in variables
    ]
    return "\n".join([header, *lines])


def format_storage(storage: StorageInfo | None) -> str:
    """Return Ghidra's notation of a storage location."""
    if storage is None:
        return "-"
    if storage.space == "stack":
        offset = storage.offset - (1 << 64) if storage.offset & _SIGN_BIT else storage.offset
        sign = "-" if offset < 0 else ""
        return f"Stack[{sign}{abs(offset):#x}]"
    if storage.space == "register":
        return register_name(storage.offset, storage.size)
    if storage.space == "ram":
        return f"ram:{storage.offset:08x}"
    return storage.space


def _local_kind(storage: StorageInfo | None) -> VariableKind:
    if storage is None:
        return "local"
    return {"stack": "stack", "register": "register", "ram": "global"}.get(storage.space, "local")


def _type_name(type_info: TypeInfo) -> str:
    if type_info.metatype == "array" and type_info.name == "unknown":
        return f"undefined [{type_info.size}]"
    return ghidra_type_name(type_info.name)


def _declared_types(c_raw: str) -> dict[str, str]:
    """Read ``type name;`` declarations and the signature's parameters from the text."""
    types: dict[str, str] = {}
    for match in _DECLARATION.finditer(c_raw):
        type_text = match.group("type").strip()
        if type_text in ("return", "goto", "else"):
            continue
        array = (match.group("array") or "").strip()
        types.setdefault(
            match.group("name"), f"{type_text} {array}".strip() if array else type_text
        )
    signature = _SIGNATURE.search(c_raw)
    if signature is not None and signature.group("params").strip() not in ("", "void"):
        for parameter in signature.group("params").split(","):
            match = _PARAMETER.match(parameter.strip())
            if match is not None:
                types.setdefault(match.group("name"), match.group("type").strip())
    return types
