"""A pool of decompiler worker processes for the functions of one binary.

Every worker is initialised once with the binary's `WorkerContext`
(`worker.initialize_worker`), so tasks carry only function addresses and ranges.
Tasks go out in chunks, largest functions first, with a bounded number of chunks
in flight, so a very large function starts early instead of ending the run alone.

A worker that dies (a crash inside the native decompiler) breaks the whole
`ProcessPoolExecutor`. The pool is then rebuilt, and the chunks that did not
finish are retried one function per task. Functions that still fail that way
are retried alone in a one-process pool. A function that takes that pool down
is recorded with ``error_code = "worker_crash"``.

A function can also hang inside the native decompiler, where no budget or
signal reaches it. With a `timeout`, workers announce each function on a
queue; the parent kills a worker whose current function has run longer than
the timeout, records that function with ``error_code = "timeout"`` and
retries the others the dead worker took down.

The processes start with the ``forkserver`` method (the pool may be created
while the parent runs threads, such as the progress bar's, which ``fork`` does
not handle safely) and the server preloads this package. As with any
non-``fork`` start method, a script that runs the stage needs the
``if __name__ == "__main__":`` guard. ``in_process=True`` runs everything in the
calling process instead, for debugging or inside a daemonic process that may
not start children. A native crash then takes the caller down.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver
from typing import Any

from reforge.binary.records import DecompiledFunction
from reforge.binary.worker import (
    ChunkResult,
    FunctionTask,
    WorkerContext,
    initialize_worker,
    mark_failed,
    new_record,
    run_chunk,
    shutdown_worker,
)

logger = logging.getLogger(__name__)

_IN_FLIGHT_PER_WORKER = 2
_POLL_SECONDS = 0.5
_MAX_CHUNK = 16
_PRELOAD = ["reforge.binary.worker"]


def start_forkserver() -> None:
    """Start the fork server now, so its imports overlap with the caller's own work."""
    multiprocessing.get_context("forkserver").set_forkserver_preload(_PRELOAD)
    forkserver.ensure_running()


def default_workers() -> int:
    """Return the number of CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class FunctionPool:
    """Worker processes that decompile the functions of one binary."""

    def __init__(
        self,
        context: WorkerContext,
        workers: int | None = None,
        *,
        in_process: bool = False,
        timeout: float | None = None,
    ) -> None:
        self.context = context
        self.in_process = in_process
        self.workers = 1 if in_process else max(1, workers or default_workers())
        self.timeout = timeout
        self.peak_rss: dict[int, int] = {}
        self.cpu_seconds: dict[int, float] = {}
        self._mp_context = multiprocessing.get_context("forkserver")
        self._mp_context.set_forkserver_preload(_PRELOAD)
        self._executor: ProcessPoolExecutor | None = None
        self._progress: Any = None
        if timeout is not None and not in_process:
            # SimpleQueue writes in the caller's thread; a Queue's feeder thread
            # would never run while the native decompiler holds the GIL.
            self._progress = self._mp_context.SimpleQueue()
        self._current: dict[int, tuple[int, float]] = {}
        """Worker pid -> (entry, start time) of the function it is decompiling."""
        self._timed_out: set[int] = set()

    def __enter__(self) -> FunctionPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def run(
        self,
        tasks: Iterable[FunctionTask],
        on_done: Callable[[int], None] | None = None,
    ) -> Iterator[DecompiledFunction]:
        """Analyse `tasks`, yielding records as chunks finish; `on_done(n)` reports progress."""
        ordered = sorted(tasks, key=lambda task: (-task.size, task.entry))
        if self.in_process:
            yield from self._run_in_process(ordered, on_done)
            return
        failed = yield from self._run_chunks(_chunk(ordered, self.workers), on_done)
        failed = yield from self._record_timeouts(failed, on_done)
        if failed:
            logger.warning("A worker died; retrying %d functions one by one", len(failed))
            failed = yield from self._run_chunks([[task] for task in failed], on_done)
            failed = yield from self._record_timeouts(failed, on_done)
        for task in failed:
            yield from self._run_isolated(task, on_done)

    def _record_timeouts(
        self, tasks: list[FunctionTask], on_done: Callable[[int], None] | None
    ) -> Iterator[DecompiledFunction]:
        """Yield timeout records for tasks whose worker was stopped; return the others."""
        remaining = []
        for task in tasks:
            if task.entry not in self._timed_out:
                remaining.append(task)
                continue
            record = new_record(task, self.context.ghidra_offset)
            message = (
                f"decompiling {task.entry:#x} took longer than {self.timeout:g} s; "
                "its worker process was stopped (raise REFORGE_DECOMPILE_TIMEOUT to allow more)"
            )
            mark_failed(record, "timeout", message)
            if on_done is not None:
                on_done(1)
            yield record
        return remaining

    def _wait_some(self, futures: Iterable[Future[ChunkResult]]) -> set[Future[ChunkResult]]:
        """Wait until a future finishes, stopping a worker whose function overran its time."""
        futures = list(futures)
        while True:
            poll = None if self._progress is None else _POLL_SECONDS
            done, _ = wait(futures, timeout=poll, return_when=FIRST_COMPLETED)
            if done:
                return done
            self._stop_overdue_workers()

    def _drain_progress(self) -> None:
        # Only the live pool's processes count: a message of a worker that a
        # broken pool took down must not time out its function later.
        live = set(getattr(self._executor, "_processes", None) or ())
        while not self._progress.empty():
            pid, entry, started = self._progress.get()
            if started is None or pid not in live:
                self._current.pop(pid, None)
            else:
                self._current[pid] = (entry, started)

    def _stop_overdue_workers(self) -> None:
        self._drain_progress()
        assert self.timeout is not None
        now = time.monotonic()
        for pid, (entry, started) in list(self._current.items()):
            if now - started <= self.timeout:
                continue
            logger.error(
                "Function %#x ran for more than %g s in worker %d; stopping the worker",
                entry,
                self.timeout,
                pid,
            )
            self._timed_out.add(entry)
            del self._current[pid]
            with contextlib.suppress(ProcessLookupError):  # it may have just exited
                os.kill(pid, signal.SIGKILL)

    def _run_chunks(
        self, chunks: list[list[FunctionTask]], on_done: Callable[[int], None] | None
    ) -> Iterator[DecompiledFunction]:
        """Run chunks with a bounded number in flight; return the tasks a dead worker took down."""
        pending = list(reversed(chunks))
        running: dict[Future[ChunkResult], list[FunctionTask]] = {}
        suspects: list[FunctionTask] = []
        while pending or running:
            executor = self._ensure_executor(self.workers)
            broken = False
            while pending and len(running) < self.workers * _IN_FLIGHT_PER_WORKER:
                chunk = pending.pop()
                try:
                    running[executor.submit(run_chunk, chunk)] = chunk
                except BrokenProcessPool:
                    pending.append(chunk)
                    broken = True
                    break
            if running and not broken:
                done = self._wait_some(running)
                for future in done:
                    chunk = running.pop(future)
                    try:
                        yield from self._collect(future, chunk, on_done)
                    except BrokenProcessPool:
                        suspects.extend(chunk)
                        broken = True
            if broken:
                # Every unfinished chunk died with the pool; finished ones still count.
                for future, chunk in running.items():
                    if future.done() and not isinstance(future.exception(), BrokenProcessPool):
                        yield from self._collect(future, chunk, on_done)
                    else:
                        suspects.extend(chunk)
                running.clear()
                self._discard_executor()
        return suspects

    def _collect(
        self,
        future: Future[ChunkResult],
        chunk: list[FunctionTask],
        on_done: Callable[[int], None] | None,
    ) -> Iterator[DecompiledFunction]:
        """Yield a finished chunk's records; an error other than a dead worker fails the chunk."""
        try:
            result = future.result()
        except BrokenProcessPool:
            raise
        except Exception as exc:
            logger.error("A chunk of %d functions failed in its worker: %s", len(chunk), exc)
            records = []
            for task in chunk:
                record = new_record(task, self.context.ghidra_offset)
                mark_failed(record, "worker_exception", f"{type(exc).__name__}: {exc}")
                records.append(record)
        else:
            self._note_usage(result)
            records = result.functions
        if on_done is not None:
            on_done(len(records))
        yield from records

    def _run_isolated(
        self, task: FunctionTask, on_done: Callable[[int], None] | None
    ) -> Iterator[DecompiledFunction]:
        """Run one task alone in a one-process pool; a crash is recorded on its record."""
        self._discard_executor()
        executor = self._ensure_executor(1)
        future = executor.submit(run_chunk, [task])
        try:
            self._wait_some([future])
            yield from self._collect(future, [task], on_done)
        except BrokenProcessPool:
            if task.entry in self._timed_out:
                yield from self._record_timeouts([task], on_done)
                return
            logger.error("Function %#x crashed its worker process", task.entry)
            record = new_record(task, self.context.ghidra_offset)
            message = f"the worker process died while decompiling {task.entry:#x}"
            mark_failed(record, "worker_crash", message)
            if on_done is not None:
                on_done(1)
            yield record
        finally:
            self._discard_executor()

    def _run_in_process(
        self, tasks: list[FunctionTask], on_done: Callable[[int], None] | None
    ) -> Iterator[DecompiledFunction]:
        initialize_worker(self.context)
        try:
            for task in tasks:
                result = run_chunk([task])
                self._note_usage(result)
                if on_done is not None:
                    on_done(1)
                yield from result.functions
        finally:
            shutdown_worker()

    def _note_usage(self, result: ChunkResult) -> None:
        self.peak_rss[result.pid] = max(self.peak_rss.get(result.pid, 0), result.peak_rss)
        self.cpu_seconds[result.pid] = max(
            self.cpu_seconds.get(result.pid, 0.0), result.cpu_seconds
        )

    def _ensure_executor(self, workers: int) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=self._mp_context,
                initializer=initialize_worker,
                initargs=(self.context, self._progress),
            )
        return self._executor

    def _discard_executor(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
        if self._progress is not None:
            self._drain_progress()
        self._current.clear()


def _chunk(tasks: list[FunctionTask], workers: int) -> list[list[FunctionTask]]:
    """Split size-ordered tasks into chunks: single large functions first, then batches."""
    if not tasks:
        return []
    size = max(1, min(_MAX_CHUNK, len(tasks) // (workers * 8)))
    chunks: list[list[FunctionTask]] = []
    # The largest functions go alone so no worker is stuck with a batch of them.
    head = min(len(tasks), workers * 4)
    chunks.extend([task] for task in tasks[:head])
    chunks.extend(tasks[i : i + size] for i in range(head, len(tasks), size))
    return chunks
