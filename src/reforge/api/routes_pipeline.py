"""``/pipeline``: run the build, truth, analysis and join stages from the API."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from reforge.api.deps import StoreDep
from reforge.api.jobs import JobRunner
from reforge.api.security import WriteAccess

router = APIRouter(prefix="/pipeline", tags=["pipeline"])

Stage = Literal["build", "truth", "analyze", "join"]
# Corpus manifest names: no path separators and no leading dot.
PROGRAM_NAME_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$"


class StageRequest(BaseModel):
    """Which programs and levels a stage covers; empty lists mean all."""

    model_config = ConfigDict(extra="forbid")

    programs: list[Annotated[str, Field(max_length=120, pattern=PROGRAM_NAME_PATTERN)]] = Field(
        default_factory=list, max_length=200
    )
    opts: list[Literal["O0", "O1", "O2", "O3"]] = Field(default_factory=list, max_length=4)
    pie: bool = False


def _jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


def _submit(
    stage: Stage, body: StageRequest, request: Request, store: Any, wait: bool
) -> dict[str, Any]:
    from reforge.corpus.registry import list_programs
    from reforge.stages import run_stage

    # Reject unknown names before a job exists, so the caller gets a 422 and
    # not a job that fails in the background.
    known = {manifest.name for manifest in list_programs()}
    unknown = sorted(set(body.programs) - known)
    if unknown:
        raise HTTPException(
            status_code=422,
            detail=(
                f"unknown programs: {', '.join(unknown)}; "
                f"known programs: {', '.join(sorted(known))}"
            ),
        )
    settings = request.app.state.settings
    params = body.model_dump()
    job = _jobs(request).submit(
        stage,
        params,
        lambda: run_stage(
            stage,
            store=store,
            settings=settings,
            programs=body.programs or None,
            opts=body.opts or None,
            pie=body.pie,
            progress=False,
        ),
    )
    if wait:
        finished = _jobs(request).wait(job.id)
        if finished is not None:
            return finished.as_dict()
    return job.as_dict()


WaitParam = Annotated[bool, Query(description="Block until the stage has finished.")]


@router.post("/build", dependencies=[WriteAccess])
def post_build(
    body: StageRequest, request: Request, store: StoreDep, wait: WaitParam = False
) -> dict[str, Any]:
    """Build programs at opt levels (debug and stripped binaries)."""
    return _submit("build", body, request, store, wait)


@router.post("/truth", dependencies=[WriteAccess])
def post_truth(
    body: StageRequest, request: Request, store: StoreDep, wait: WaitParam = False
) -> dict[str, Any]:
    """Run the DWARF and source oracles on built programs."""
    return _submit("truth", body, request, store, wait)


@router.post("/analyze", dependencies=[WriteAccess])
def post_analyze(
    body: StageRequest, request: Request, store: StoreDep, wait: WaitParam = False
) -> dict[str, Any]:
    """Decompile the stripped binaries of built programs."""
    return _submit("analyze", body, request, store, wait)


@router.post("/join", dependencies=[WriteAccess])
def post_join(
    body: StageRequest, request: Request, store: StoreDep, wait: WaitParam = False
) -> dict[str, Any]:
    """Join decompiled functions to ground truth and assign tiers."""
    return _submit("join", body, request, store, wait)


@router.get("/jobs")
def get_jobs(request: Request) -> list[dict[str, Any]]:
    """List pipeline jobs, newest first."""
    return [job.as_dict() for job in _jobs(request).list()]


@router.get("/jobs/{job_id}")
def get_job(job_id: str, request: Request) -> dict[str, Any]:
    """Return one pipeline job."""
    job = _jobs(request).get(job_id)
    if job is None:
        raise HTTPException(status_code=404, detail=f"pipeline job {job_id!r} not found")
    return job.as_dict()
