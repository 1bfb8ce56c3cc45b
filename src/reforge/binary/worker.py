"""Worker process of the stage: decompile a function and derive everything the stage stores.

A worker is initialised once with a `WorkerContext`: the patched image and the
naming tables of one binary, sent to the process once rather than with every
task. It then runs chunks of `FunctionTask`. Each function becomes a
`DecompiledFunction`; a failure of one function is recorded on its record and
never stops the chunk. The flatline result, which can take hundreds of MB for a
large function, is dropped before the next function starts.
"""

from __future__ import annotations

import logging
import os
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

import capstone

from reforge.binary.calls import callee_keys, collect_calls, format_calls
from reforge.binary.cfg import StubSite, build_cfg, format_cfg
from reforge.binary.decompiler import FunctionDecompileError, FunctionDecompiler
from reforge.binary.discovery import FunctionSource
from reforge.binary.patching import PatchedImage
from reforge.binary.presentation import Symbols, present
from reforge.binary.records import DecompiledFunction
from reforge.binary.variables import collect_variables, format_variables
from reforge.binary.warning_codes import WARNING_CODES, cfg_completeness, warning_codes

logger = logging.getLogger(__name__)

FaultKind = Literal["raise", "crash"]
_MAX_GAP = 32  # bytes between decoded instructions still counted as one range
_disassembler = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)


@dataclass(frozen=True, slots=True)
class WorkerContext:
    """Everything a worker needs about one binary."""

    symbols: Symbols
    patched: PatchedImage
    ghidra_offset: int
    max_instructions: int
    faults: dict[int, FaultKind] = field(default_factory=dict)
    """Test-only: entry -> fault to inject (``raise`` an exception, ``crash`` the process)."""


@dataclass(frozen=True, slots=True)
class FunctionTask:
    """One function to decompile (Ghidra addresses)."""

    entry: int
    name: str
    source: FunctionSource
    body_ranges: tuple[tuple[int, int], ...]
    is_thunk: bool
    is_noreturn: bool

    @property
    def size(self) -> int:
        return sum(end - start for start, end in self.body_ranges)


@dataclass(frozen=True, slots=True)
class ChunkResult:
    """The records of one chunk and the memory high-water mark of the worker that ran it."""

    functions: list[DecompiledFunction]
    pid: int
    peak_rss: int
    """Bytes."""
    cpu_seconds: float
    """User and system CPU time the worker process has used so far."""


@dataclass(slots=True)
class _WorkerState:
    context: WorkerContext
    decompiler: FunctionDecompiler
    progress: Any = None
    """Queue on which the worker announces (pid, entry, start time or None) per function."""


_state: _WorkerState | None = None


def initialize_worker(context: WorkerContext, progress: Any = None) -> None:
    """Process-pool initializer: open this process's decompiler session for one binary.

    `progress`, when given, is a multiprocessing queue; the worker puts
    ``(pid, entry, time.monotonic())`` before each function and
    ``(pid, entry, None)`` after it, so the parent can stop a function that
    runs past its wall-clock limit (the native decompiler cannot be
    interrupted from inside the process).
    """
    # The pool calls tasks as plain functions, so the process's state lives in the module.
    global _state  # noqa: PLW0603
    _state = _WorkerState(
        context=context,
        decompiler=FunctionDecompiler(context.patched, max_instructions=context.max_instructions),
        progress=progress,
    )


def shutdown_worker() -> None:
    """Close this process's decompiler session (used after an in-process run)."""
    global _state  # noqa: PLW0603
    if _state is not None:
        _state.decompiler.close()
        _state = None


def _analyze_announced(state: _WorkerState, task: FunctionTask) -> DecompiledFunction:
    if state.progress is None:
        return analyze_function(state.decompiler, state.context, task)
    pid = os.getpid()
    state.progress.put((pid, task.entry, time.monotonic()))
    try:
        return analyze_function(state.decompiler, state.context, task)
    finally:
        state.progress.put((pid, task.entry, None))


def run_chunk(tasks: list[FunctionTask]) -> ChunkResult:
    """Analyse a chunk of functions in this worker process."""
    if _state is None:
        raise RuntimeError("run_chunk called in a process that initialize_worker did not set up")
    functions = [_analyze_announced(_state, task) for task in tasks]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return ChunkResult(
        functions=functions,
        pid=os.getpid(),
        peak_rss=usage.ru_maxrss * 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
    )


def analyze_function(
    decompiler: FunctionDecompiler, context: WorkerContext, task: FunctionTask
) -> DecompiledFunction:
    """Decompile one function and fill its record; errors are recorded, not raised."""
    started = time.perf_counter()
    record = new_record(task, context.ghidra_offset)
    try:
        _inject_fault(context.faults.get(task.entry))
        result = decompiler.decompile(task.entry)
        _fill_record(record, result, context, task)
    except FunctionDecompileError as exc:
        logger.debug("Function %#x failed: %s", task.entry, exc)
        mark_failed(record, exc.code, str(exc))
    except Exception as exc:
        logger.exception("Unexpected error while analysing function %#x", task.entry)
        mark_failed(record, "worker_exception", f"{type(exc).__name__}: {exc}")
    record.seconds = time.perf_counter() - started
    return record


def new_record(task: FunctionTask, ghidra_offset: int) -> DecompiledFunction:
    """Return the record of a task before decompiling (status ok, no text yet)."""
    return DecompiledFunction(
        entry_va=task.entry - ghidra_offset,
        ghidra_entry_va=task.entry,
        ghidra_name=task.name,
        body_ranges=tuple((s - ghidra_offset, e - ghidra_offset) for s, e in task.body_ranges),
        size=task.size,
        source=task.source,
        is_thunk=task.is_thunk,
        is_noreturn=task.is_noreturn,
    )


def mark_failed(record: DecompiledFunction, code: str, message: str) -> None:
    record.status = "error"
    record.error_code = code
    record.error_message = message
    record.cfg_completeness = "LOW"
    if code == "budget_exceeded":
        record.warning_codes = ("timeout_or_budget",)
        record.fatal_warning = True


def _inject_fault(fault: FaultKind | None) -> None:
    if fault == "raise":
        raise RuntimeError("fault injected by a test")
    if fault == "crash":
        os._exit(70)


def _fill_record(
    record: DecompiledFunction, result, context: WorkerContext, task: FunctionTask
) -> None:
    """Derive text, CFG, calls, variables and warnings from one flatline result."""
    info, pcode = result.function_info, result.enriched.pcode
    symbols, patched = context.symbols, context.patched

    # Ghidra-style text.
    presentation = present(result.c_code, symbols, patched)
    record.c_decompiler = result.c_code
    record.c_raw = presentation.text
    record.loc_decompiled = sum(1 for line in presentation.text.splitlines() if line.strip())

    # Control flow, calls and variables.
    cfg = build_cfg(
        pcode.pcode_ops,
        pcode.varnodes,
        info.jump_tables,
        task.entry,
        stub_at=lambda address: _stub_exit(address, task.entry, symbols, patched),
    )
    calls = collect_calls(
        info.call_sites,
        pcode.pcode_ops,
        pcode.varnodes,
        symbols,
        patched,
        own_entry=task.entry,
        parameters=info.prototype.parameters,
    )
    variables = collect_variables(info, presentation.text, presentation.renames)

    # Warnings and completeness.
    messages = tuple(warning.message for warning in result.warnings)
    codes = warning_codes(messages)
    diagnostics = info.diagnostics
    incomplete = (
        not diagnostics.is_complete
        or diagnostics.has_bad_data
        or diagnostics.has_unimplemented
        or diagnostics.has_no_code
    )
    completeness = cfg_completeness(
        codes,
        diagnostics_incomplete=incomplete,
        unresolved_indirect_jumps=cfg.unresolved_indirect_jumps,
    )

    body = task.body_ranges or ranges_from_addresses(
        cfg.instruction_addresses | {task.entry}, symbols
    )
    record.body_ranges = tuple(
        (s - context.ghidra_offset, e - context.ghidra_offset) for s, e in body
    )
    record.size = sum(end - start for start, end in body)
    record.bb_count = cfg.block_count
    record.edge_count = cfg.edge_count
    record.cyclomatic = cfg.cyclomatic
    record.instruction_count = sum(
        1 for a in cfg.instruction_addresses if any(s <= a < e for s, e in body)
    )
    record.call_count = len(calls)
    record.callees = callee_keys(calls, symbols)
    record.calls_text = format_calls(calls, symbols)
    record.cfg_text = format_cfg(cfg, completeness)
    record.variables_text = format_variables(variables)
    record.warning_codes = codes
    record.warning_messages = messages
    record.fatal_warning = any(WARNING_CODES[code].fatal for code in codes)
    record.cfg_completeness = completeness


def _stub_exit(
    address: int, own_entry: int, symbols: Symbols, patched: PatchedImage
) -> StubSite | None:
    """Return where the stub at `address` belongs and how it leaves, or None for real code."""
    stub = patched.stub_at(address, own_entry=own_entry)
    if stub is None:
        return None
    name = symbols.function_name(stub.target)
    shared = stub.kind == "entry"
    if stub.kind == "noreturn_call" or stub.target in symbols.noreturn:
        return StubSite(stub.site, f"call {name} (no return)", shared)
    return StubSite(stub.site, f"tail call {name}", shared)


def ranges_from_addresses(
    addresses: Iterable[int], symbols: Symbols
) -> tuple[tuple[int, int], ...]:
    """Cover decoded instruction addresses with ranges, for functions without an FDE.

    An instruction's end comes from decoding it. Instructions at most `_MAX_GAP`
    bytes apart share a range, because simplification leaves no op for some of
    them (a ``push``, a folded ``mov``).
    """
    ranges: list[list[int]] = []
    for address in sorted(addresses):
        offset = address - symbols.image_base
        decoded = next(
            _disassembler.disasm_lite(symbols.image[offset : offset + 16], address), None
        )
        end = address + (decoded[1] if decoded else 1)
        if ranges and address - ranges[-1][1] <= _MAX_GAP:
            ranges[-1][1] = max(ranges[-1][1], end)
        else:
            ranges.append([address, end])
    return tuple((start, end) for start, end in ranges)
