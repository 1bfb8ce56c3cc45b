"""``/results``: posting model results, scoring them and reading scores and reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from reforge.api.deps import MAX_PAGE_SIZE, LimitParam, OffsetParam, SessionDep
from reforge.api.security import WriteAccess
from reforge.store.experiments import get_experiment
from reforge.store.results import (
    ResultIn,
    list_results,
    outside_selection,
    save_results,
    total_spent_usd,
    unknown_function_uids,
)
from reforge.store.scores import score_experiment, score_rows

router = APIRouter(prefix="/results", tags=["results"])

MAX_BATCH = 1000
RunParam = Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_.:-]{1,60}$")]


class ResultBatch(BaseModel):
    """A batch of results for one experiment."""

    model_config = ConfigDict(extra="forbid")

    experiment_id: str = Field(min_length=1, max_length=120)
    results: list[ResultIn] = Field(max_length=MAX_BATCH)
    dry_run: bool = False
    """Validate the batch and report what would be stored, without storing it."""


@router.post("/batch", dependencies=[WriteAccess])
def post_batch(batch: ResultBatch, session: SessionDep) -> dict[str, Any]:
    """Store a batch of results; a function's final result is never written twice."""
    get_experiment(session, batch.experiment_id)
    if batch.dry_run:
        uids = [item.dwarf_function_id for item in batch.results]
        unknown = unknown_function_uids(session, uids)
        return {
            "experiment_id": batch.experiment_id,
            "dry_run": True,
            "valid": len(batch.results),
            "inserted": 0,
            "replaced": 0,
            "skipped": 0,
            "unknown_functions": unknown,
            "outside_selection": outside_selection(
                session, batch.experiment_id, sorted(set(uids) - set(unknown))
            ),
        }
    outcome = save_results(session, batch.experiment_id, batch.results)
    return {
        "experiment_id": batch.experiment_id,
        "dry_run": False,
        "inserted": outcome.inserted,
        "replaced": outcome.replaced,
        "skipped": outcome.skipped,
        "unknown_functions": outcome.unknown_functions,
        "outside_selection": outcome.outside_selection,
    }


@router.get("/spend")
def get_spend(session: SessionDep, experiment_id: str | None = None) -> dict[str, Any]:
    """Total provider cost recorded so far, over all experiments unless one is named."""
    if experiment_id is not None:
        get_experiment(session, experiment_id)
    return {
        "experiment_id": experiment_id,
        "spent_usd": total_spent_usd(session, experiment_id=experiment_id),
    }


@router.get("/{experiment_id}")
def get_results(
    experiment_id: str,
    session: SessionDep,
    run_id: RunParam = None,
    include_text: bool = False,
    limit: LimitParam = MAX_PAGE_SIZE,
    offset: OffsetParam = 0,
) -> list[dict[str, Any]]:
    """List the results of one experiment."""
    get_experiment(session, experiment_id)
    return list_results(
        session,
        experiment_id,
        run_id=run_id,
        include_text=include_text,
        limit=limit,
        offset=offset,
    )


@router.post("/{experiment_id}/score", dependencies=[WriteAccess])
def post_score(experiment_id: str, session: SessionDep, rescore: bool = False) -> dict[str, Any]:
    """Score every unscored result of one experiment with the current scorer."""
    get_experiment(session, experiment_id)
    return score_experiment(session, experiment_id, rescore=rescore)


@router.get("/{experiment_id}/scores")
def get_scores(
    experiment_id: str,
    session: SessionDep,
    run_id: RunParam = None,
    limit: LimitParam = MAX_PAGE_SIZE,
    offset: OffsetParam = 0,
) -> dict[str, Any]:
    """Return the score rows of one experiment with a summary of the answered ones."""
    get_experiment(session, experiment_id)
    return score_rows(session, experiment_id, run_id=run_id, limit=limit, offset=offset)


@router.get("/{experiment_id}/report", response_class=HTMLResponse)
def get_report(experiment_id: str, session: SessionDep) -> HTMLResponse:
    """Return an HTML report of one experiment with its figures inline."""
    from reforge.report.experiment_page import render_experiment_report

    get_experiment(session, experiment_id)
    return HTMLResponse(render_experiment_report(session, experiment_id))
