"""Scale-out: pipeline stages as Celery tasks on a Redis broker.

On one machine the stages run in process pools; across machines the same
stage functions run as Celery tasks against a shared PostgreSQL store.
Start workers with ``reforge worker`` (each machine needs the same
``REFORGE_DATABASE_URL`` and ``REFORGE_REDIS_URL``) and submit with
`submit_stage`, or with ``POST /pipeline/...`` on an API server started with
``REFORGE_PIPELINE_BACKEND=celery``::

    result = submit_stage("analyze", programs=["lua"], opts=["O2"])
    print(result.get(timeout=3600))

Workers use Celery's ``solo`` pool: a stage already spreads over every core
with its own process pool, and Celery's prefork children are daemonic
processes that may not start pools of their own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from celery import Celery
from celery.result import AsyncResult

from reforge.config import get_settings

logger = logging.getLogger(__name__)

TASK_NAME = "reforge.run_stage"


def make_celery(broker_url: str | None = None) -> Celery:
    """Create the Celery application on the configured Redis broker."""
    url = broker_url or get_settings().redis_url
    app = Celery("reforge", broker=url, backend=url)
    app.conf.update(
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_acks_late=True,
        worker_prefetch_multiplier=1,
        task_track_started=True,
        broker_connection_retry_on_startup=True,
    )
    app.task(name=TASK_NAME)(_run_stage_task)
    return app


def _run_stage_task(
    stage: str, programs: list[str] | None, opts: list[str] | None, pie: bool
) -> dict[str, Any]:
    from reforge.stages import run_stage
    from reforge.store.db import open_store

    settings = get_settings()
    store = open_store(settings.effective_database_url)
    try:
        logger.info("stage %s started for %s %s", stage, programs or "all programs", opts or "")
        return run_stage(
            stage,  # type: ignore[arg-type]
            store=store,
            settings=settings,
            programs=programs,
            opts=opts,
            pie=pie,
            progress=False,
        )
    finally:
        store.dispose()


def submit_stage(
    stage: str,
    *,
    programs: Sequence[str] | None = None,
    opts: Sequence[str] | None = None,
    pie: bool = False,
    app: Celery | None = None,
) -> AsyncResult:
    """Queue one stage for a worker and return its Celery result handle."""
    celery_app = app or make_celery()
    return celery_app.send_task(
        TASK_NAME, args=[stage, list(programs or []) or None, list(opts or []) or None, pie]
    )


def run_worker(*, concurrency_name: str = "reforge-worker", broker_url: str | None = None) -> None:
    """Run a Celery worker in this process until it is stopped."""
    app = make_celery(broker_url)
    app.worker_main(
        ["worker", "--pool=solo", "--loglevel=INFO", f"--hostname={concurrency_name}@%h"]
    )
