"""Model results: one row per experiment x run x function, written idempotently.

`save_results` is what ``POST /results/batch`` calls. A function that already
has a final result in a run is never written twice, so a runner that crashes
and starts again, or two runners that race, leave exactly one row per
function. A failure that may succeed later (rate limit, timeout, server
error) is not final: a later answer replaces it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from reforge.errors import NotFoundError
from reforge.store.blobs import get_blob, put_blob
from reforge.store.functions import uids_in_selection
from reforge.store.models import DwarfFunction, Experiment, Result

logger = logging.getLogger(__name__)

RETRYABLE_ERROR_KINDS = frozenset({"rate_limit", "transient", "timeout"})
MAX_TEXT_CHARS = 200_000
# Token counts live in 32-bit INTEGER columns (PostgreSQL's int4).
MAX_TOKENS_COUNT = 2**31 - 1


class ResultIn(BaseModel):
    """One result as a runner posts it."""

    model_config = ConfigDict(extra="forbid")

    dwarf_function_id: str = Field(min_length=1, max_length=80)
    """Opaque function key from the LLM view."""
    run_id: str = Field(default="main", pattern=r"^[A-Za-z0-9_.:-]{1,60}$")
    status: Literal["ok", "failed"]
    """``ok`` when the provider answered (the reply may still fail to parse)."""
    model: str = Field(default="", max_length=200)
    provider: str = Field(default="", max_length=40)
    upstream_provider: str | None = Field(default=None, max_length=120)
    template_id: str = Field(default="", max_length=60)
    template_hash: str = Field(default="", max_length=64)
    prompt: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    response: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    predicted_name: str | None = Field(default=None, max_length=200)
    candidates: list[dict[str, Any]] = Field(default_factory=list, max_length=20)
    parse_ok: bool = False
    parse_method: str | None = Field(default=None, max_length=40)
    error_kind: str | None = Field(default=None, max_length=40)
    """``rate_limit``, ``transient``, ``timeout`` (retried on a later run) or ``permanent``."""
    error_message: str | None = Field(default=None, max_length=4000)
    input_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS_COUNT)
    output_tokens: int | None = Field(default=None, ge=0, le=MAX_TOKENS_COUNT)
    cost_usd: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    latency_ms: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    attempts: int = Field(default=1, ge=0, le=100)
    cached: bool = False


@dataclass(frozen=True, slots=True)
class SaveOutcome:
    """Counts of a batch write."""

    inserted: int
    replaced: int
    skipped: int
    unknown_functions: list[str]
    outside_selection: list[str]
    """Stored functions that the experiment's tier, opt and test case do not select."""


def is_final(row: Result) -> bool:
    """Return True when a stored result must not be replaced."""
    return row.status == "ok" or row.error_kind not in RETRYABLE_ERROR_KINDS


def _function_ids(session: Session, uids: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    unique = sorted(set(uids))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        statement = select(DwarfFunction.uid, DwarfFunction.id).where(DwarfFunction.uid.in_(chunk))
        found.update({uid: row_id for uid, row_id in session.execute(statement)})
    return found


def unknown_function_uids(session: Session, uids: Sequence[str]) -> list[str]:
    """Return the function keys among `uids` that name no stored DWARF function, sorted."""
    return sorted(set(uids) - _function_ids(session, uids).keys())


def outside_selection(session: Session, experiment_id: str, uids: Sequence[str]) -> list[str]:
    """Return the stored function keys among `uids` that the experiment does not select, sorted.

    The selection is the experiment's tier, opt level and test case, as in
    ``GET /llm/functions``. Its `limit` is not applied, because which functions
    fall under a limit depends on the order of a listing, not on the function.
    """
    row = session.get(Experiment, experiment_id)
    if row is None:
        raise NotFoundError(f"experiment {experiment_id!r} not found")
    config = row.config
    selected = uids_in_selection(
        session,
        uids,
        opt=config.get("opt"),
        tier=config.get("tier"),
        test_case=config.get("test_case"),
    )
    return sorted(set(uids) - selected)


def _apply(session: Session, row: Result, item: ResultIn) -> None:
    data = item.model_dump(exclude={"dwarf_function_id", "prompt", "response"})
    for key, value in data.items():
        setattr(row, key, value)
    row.prompt_sha256 = put_blob(session, item.prompt) if item.prompt is not None else None
    row.response_sha256 = put_blob(session, item.response) if item.response is not None else None


def save_results(session: Session, experiment_id: str, items: Sequence[ResultIn]) -> SaveOutcome:
    """Write a batch of results for one experiment; see the module docstring for the rules."""
    if session.get(Experiment, experiment_id) is None:
        raise NotFoundError(
            f"experiment {experiment_id!r} not found; register it with POST /data/experiments"
        )
    ids = _function_ids(session, [item.dwarf_function_id for item in items])
    unknown = sorted({item.dwarf_function_id for item in items} - ids.keys())
    outside = outside_selection(session, experiment_id, list(ids))
    for uid in outside:
        del ids[uid]
    if outside:
        logger.warning(
            "experiment %s: skipped results for %d functions it does not select, e.g. %s",
            experiment_id,
            len(outside),
            outside[0],
        )
    inserted = replaced = skipped = 0
    for item in items:
        function_id = ids.get(item.dwarf_function_id)
        if function_id is None:
            skipped += 1
            continue
        existing = session.scalar(
            select(Result).where(
                Result.experiment_id == experiment_id,
                Result.run_id == item.run_id,
                Result.dwarf_function_id == function_id,
            )
        )
        if existing is not None:
            if is_final(existing):
                skipped += 1
                continue
            _apply(session, existing, item)
            replaced += 1
            continue
        row = Result(
            experiment_id=experiment_id,
            dwarf_function_id=function_id,
            function_uid=item.dwarf_function_id,
        )
        _apply(session, row, item)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            # Another writer stored this function between the select and the insert.
            logger.debug("result for %s already stored concurrently", item.dwarf_function_id)
            skipped += 1
            continue
        inserted += 1
    return SaveOutcome(inserted, replaced, skipped, unknown, outside)


def result_dict(session: Session, row: Result, *, include_text: bool = False) -> dict[str, Any]:
    """Return one result as a JSON-ready dict."""
    data: dict[str, Any] = {
        "id": row.id,
        "experiment_id": row.experiment_id,
        "run_id": row.run_id,
        "dwarf_function_id": row.function_uid,
        "status": row.status,
        "model": row.model,
        "provider": row.provider,
        "upstream_provider": row.upstream_provider,
        "template_id": row.template_id,
        "template_hash": row.template_hash,
        "prompt_sha256": row.prompt_sha256,
        "predicted_name": row.predicted_name,
        "candidates": row.candidates,
        "parse_ok": row.parse_ok,
        "parse_method": row.parse_method,
        "error_kind": row.error_kind,
        "error_message": row.error_message,
        "input_tokens": row.input_tokens,
        "output_tokens": row.output_tokens,
        "cost_usd": row.cost_usd,
        "latency_ms": row.latency_ms,
        "attempts": row.attempts,
        "cached": row.cached,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
    if include_text:
        data["prompt"] = get_blob(session, row.prompt_sha256)
        data["response"] = get_blob(session, row.response_sha256)
    return data


def list_results(
    session: Session,
    experiment_id: str,
    *,
    run_id: str | None = None,
    include_text: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Return the results of one experiment (optionally one run) in insertion order."""
    statement = select(Result).where(Result.experiment_id == experiment_id).order_by(Result.id)
    if run_id is not None:
        statement = statement.where(Result.run_id == run_id)
    if limit is not None:
        statement = statement.limit(limit).offset(offset)
    return [
        result_dict(session, row, include_text=include_text) for row in session.scalars(statement)
    ]


def final_function_uids(session: Session, experiment_id: str, run_id: str) -> set[str]:
    """Return the functions of a run whose result is final (skipped on resume)."""
    statement = select(Result).where(Result.experiment_id == experiment_id, Result.run_id == run_id)
    return {row.function_uid for row in session.scalars(statement) if is_final(row)}


def total_spent_usd(session: Session, *, experiment_id: str | None = None) -> float:
    """Return the summed provider cost of stored results, all experiments by default."""
    statement = select(func.coalesce(func.sum(Result.cost_usd), 0.0))
    if experiment_id is not None:
        statement = statement.where(Result.experiment_id == experiment_id)
    return float(session.scalar(statement) or 0.0)
