"""``/llm``: the LLM view, the only route through which a model's input leaves the store."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from reforge.api.deps import MAX_PAGE_SIZE, LimitParam, OffsetParam, SessionDep
from reforge.store.functions import iter_llm_functions

router = APIRouter(prefix="/llm", tags=["llm"])


@router.get("/functions")
def get_llm_functions(
    session: SessionDep,
    opt: Annotated[str | None, Query(pattern=r"^O[0-3]$")] = None,
    tier: Annotated[str | None, Query(pattern=r"^(GOLD|SILVER|BRONZE)$")] = None,
    test_case: Annotated[str | None, Query(max_length=120)] = None,
    context_level: Literal["L0", "L1", "L2"] = "L2",
    metadata_mode: Literal["STRICT", "ANALYST", "ANALYST_FULL"] = "STRICT",
    variant: Annotated[str, Query(pattern=r"^(nopie|pie)$")] = "nopie",
    limit: LimitParam = MAX_PAGE_SIZE,
    offset: OffsetParam = 0,
) -> list[dict[str, Any]]:
    """Return decompiler-derived fields of tiered functions.

    Context the level does not use is left out (L0: code only; L1: + calls;
    L2: + CFG and variables) and the metadata mode decides which numbers
    travel along (STRICT: none beyond the code and context).
    """
    views = iter_llm_functions(
        session,
        opt=opt,
        tier=tier,
        test_case=test_case,
        variant=variant,
        limit=limit,
        offset=offset,
    )
    return [_shape(view.model_dump(), context_level, metadata_mode) for view in views]


_LEVEL_FIELDS = {
    "L0": (),
    "L1": ("calls_text",),
    "L2": ("calls_text", "cfg_text", "variables_text"),
}
_ANALYST_FIELDS = ("instruction_count", "cfg_completeness")
_ANALYST_FULL_FIELDS = ("warning_codes", "ghidra_entry_va", "size")


def _shape(data: dict[str, Any], context_level: str, metadata_mode: str) -> dict[str, Any]:
    for field in ("calls_text", "cfg_text", "variables_text"):
        if field not in _LEVEL_FIELDS[context_level]:
            data[field] = None
    if metadata_mode == "STRICT":
        hidden = (*_ANALYST_FIELDS, *_ANALYST_FULL_FIELDS)
    elif metadata_mode == "ANALYST":
        hidden = _ANALYST_FULL_FIELDS
    else:
        hidden = ()
    for field in hidden:
        data.pop(field, None)
    return data
