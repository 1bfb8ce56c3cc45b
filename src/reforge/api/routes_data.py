"""``/data``: experiments and the ground-truth tables (for analysis, never for models)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query
from pydantic import BaseModel, ConfigDict

from reforge.api.deps import MAX_PAGE_SIZE, LimitParam, OffsetParam, SessionDep
from reforge.api.security import WriteAccess
from reforge.experiments import ExperimentConfig
from reforge.store.experiments import (
    get_experiment,
    list_experiments,
    set_status,
    upsert_experiments,
)
from reforge.store.functions import training_rows, truth_rows
from reforge.store.summary import corpus_summary

router = APIRouter(prefix="/data", tags=["data"])

OptParam = Annotated[str | None, Query(pattern=r"^O[0-3]$")]
TierParam = Annotated[str | None, Query(pattern=r"^(GOLD|SILVER|BRONZE)$")]
NameParam = Annotated[str | None, Query(max_length=120)]
VariantParam = Annotated[str, Query(pattern=r"^(nopie|pie)$")]


@router.get("/experiments")
def get_experiments(session: SessionDep) -> list[dict[str, Any]]:
    """List every registered experiment."""
    return [config.model_dump(mode="json") for config in list_experiments(session)]


@router.get("/experiments/{experiment_id}")
def get_one_experiment(experiment_id: str, session: SessionDep) -> dict[str, Any]:
    """Return one experiment."""
    return get_experiment(session, experiment_id).model_dump(mode="json")


@router.post("/experiments", dependencies=[WriteAccess])
def post_experiment(config: ExperimentConfig, session: SessionDep) -> dict[str, Any]:
    """Register (or update) one experiment."""
    created, updated = upsert_experiments(session, [config])
    return {"id": config.id, "created": created, "updated": updated}


@router.post("/experiments/bulk", dependencies=[WriteAccess])
def post_experiments_bulk(
    configs: Annotated[list[ExperimentConfig], Body(max_length=MAX_PAGE_SIZE)],
    session: SessionDep,
) -> dict[str, int]:
    """Register many experiments at once; return registered, created and updated counts."""
    created, updated = upsert_experiments(session, configs)
    return {"registered": len(configs), "created": created, "updated": updated}


@router.get("/functions")
def get_functions(
    session: SessionDep,
    program: NameParam = None,
    test_case: NameParam = None,
    opt: OptParam = None,
    tier: TierParam = None,
    variant: VariantParam = "nopie",
    include_code: bool = False,
    limit: LimitParam = MAX_PAGE_SIZE,
    offset: OffsetParam = 0,
) -> list[dict[str, Any]]:
    """List DWARF functions with alignment, join and tier (ground truth, for analysis)."""
    return truth_rows(
        session,
        program=program or test_case,
        opt=opt,
        variant=variant,
        tier=tier,
        include_code=include_code,
        include_unjoined=False,
        limit=limit,
        offset=offset,
    )


@router.get("/summary")
def get_summary(session: SessionDep) -> dict[str, Any]:
    """Counts per program and opt level: functions, verdicts, join kinds and tiers."""
    return corpus_summary(session)


class StatusUpdate(BaseModel):
    """A new status for an experiment."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["draft", "ready", "running", "completed", "legacy"]


@router.post("/experiments/{experiment_id}/status", dependencies=[WriteAccess])
def post_experiment_status(
    experiment_id: str, update: StatusUpdate, session: SessionDep
) -> dict[str, str]:
    """Set an experiment's status (the runner marks running and completed)."""
    set_status(session, experiment_id, update.status)
    return {"id": experiment_id, "status": update.status}


@router.get("/training")
def get_training(
    session: SessionDep,
    opt: OptParam = None,
    limit: Annotated[int, Query(ge=1, le=50_000)] = 50_000,
) -> list[dict[str, str]]:
    """Labelled decompiled functions for fitting offline baselines (ground truth).

    Each row is the decompiled code, the true name and the program as `group`;
    a baseline must never answer with a name of the queried function's own group.
    """
    return training_rows(session, opt=opt, limit=limit)
