"""Background jobs for the pipeline endpoints.

A pipeline stage can take minutes, so ``POST /pipeline/...`` starts it on a
single background thread and returns a job id; ``GET /pipeline/jobs/{id}``
reports its state. Jobs run one at a time because every stage already uses
all cores. Job records live in memory and are lost when the server stops;
the stages themselves are idempotent, so re-posting a lost job is safe.
"""

from __future__ import annotations

import logging
import threading
import traceback
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

logger = logging.getLogger(__name__)

JobState = Literal["queued", "running", "succeeded", "failed"]


@dataclass(slots=True)
class Job:
    """One submitted stage run."""

    id: str
    stage: str
    params: dict[str, Any]
    state: JobState = "queued"
    submitted_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    finished_at: str | None = None
    summary: Any = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the job as a JSON-ready dict."""
        return {
            "job_id": self.id,
            "stage": self.stage,
            "params": self.params,
            "state": self.state,
            "submitted_at": self.submitted_at,
            "finished_at": self.finished_at,
            "summary": self.summary,
            "error": self.error,
        }


class JobRunner:
    """Runs submitted jobs one at a time on a background thread."""

    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reforge-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def submit(self, stage: str, params: dict[str, Any], work: Callable[[], Any]) -> Job:
        """Queue `work` and return its job record."""
        job = Job(id=uuid.uuid4().hex[:16], stage=stage, params=params)
        with self._lock:
            self._jobs[job.id] = job
        self._executor.submit(self._run, job, work)
        return job

    def get(self, job_id: str) -> Job | None:
        """Return one job, or None when unknown."""
        with self._lock:
            return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        """Return every job, newest first."""
        with self._lock:
            return sorted(self._jobs.values(), key=lambda job: job.submitted_at, reverse=True)

    def wait(self, job_id: str, timeout: float | None = None) -> Job | None:
        """Block until a job has finished (used by ``?wait=true``)."""
        done = threading.Event()

        def check() -> None:
            done.set()

        self._executor.submit(check)
        done.wait(timeout)
        return self.get(job_id)

    def shutdown(self) -> None:
        """Stop accepting jobs; running ones finish."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run(self, job: Job, work: Callable[[], Any]) -> None:
        job.state = "running"
        logger.info("pipeline job %s (%s) started", job.id, job.stage)
        try:
            job.summary = work()
            job.state = "succeeded"
        except Exception as exc:  # a failed stage is reported on the job, never lost
            job.state = "failed"
            job.error = f"{type(exc).__name__}: {exc}"
            logger.error("pipeline job %s (%s) failed: %s", job.id, job.stage, job.error)
            logger.debug("%s", traceback.format_exc())
        finally:
            job.finished_at = datetime.now(UTC).isoformat()
