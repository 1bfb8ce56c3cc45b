"""The binary-analysis stage: from a stripped ELF file to one record per function.

::

    analysis = analyze_binary("build/prog.O2.stripped", workers=2)
    for function in analysis.functions:
        print(function.ghidra_name, function.status, function.cfg_completeness)

Steps: load the file, discover functions, find the no-return functions and
prepare the patched image. Then decompile every function in worker processes.
Functions that the decompiler's call sites reveal are decompiled in further
rounds (up to `max_rounds`). Last, the callers are added to each ``calls_text``.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path

from tqdm import tqdm

from reforge.binary.calls import add_callers, build_callers
from reforge.binary.decompiler import check_decompiler
from reforge.binary.discovery import Discovery, add_call_targets, discover_functions
from reforge.binary.loader import LoadedBinary, load_binary
from reforge.binary.noreturn import find_noreturn
from reforge.binary.patching import prepare_image
from reforge.binary.pool import FunctionPool, start_forkserver
from reforge.binary.presentation import Symbols, fun_name
from reforge.binary.records import BinaryAnalysis, DecompiledFunction
from reforge.binary.worker import FaultKind, FunctionTask, WorkerContext

logger = logging.getLogger(__name__)

ENTRY_NAME = "entry"
# NOTE: flatline 0.1.2 never returns on some functions (a computed-goto
# interpreter loop in the synthetic corpus), whatever the instruction budget,
# so a wall-clock limit is the only stop. The largest lua function takes about
# 25 s on one core of the 2-core test machine.
DEFAULT_TIMEOUT_SECONDS = 60.0
MIN_STRING_LENGTH = 4
_PRINTABLE_RUN = re.compile(rb"[\x20-\x7e\t\n\r]{%d,}\x00" % MIN_STRING_LENGTH)


def analyze_binary(
    path: str | Path,
    *,
    workers: int | None = None,
    max_instructions: int = 100_000,
    progress: bool = True,
    max_rounds: int = 8,
    in_process: bool = False,
    timeout: float | None = DEFAULT_TIMEOUT_SECONDS,
    _faults: Mapping[int, FaultKind] | None = None,
) -> BinaryAnalysis:
    """Decompile every function of a stripped x86-64 ELF file.

    Args:
        path: the stripped binary.
        workers: worker processes; None uses every CPU this process may run on.
        max_instructions: per-function instruction budget of the decompiler.
        progress: show a tqdm progress bar on stderr.
        max_rounds: decompilation rounds; each round after the first decompiles
            call targets that the previous round found.
        in_process: decompile in the calling process instead of worker processes,
            for debugging or inside a daemonic process that may not start
            children. A crash of the native decompiler then ends the caller.
        timeout: wall-clock seconds one function may take before its worker is
            stopped and the function recorded with error code ``timeout``; None
            waits forever. Not enforced with `in_process`.
        _faults: test-only fault injection, Ghidra entry address -> ``raise`` / ``crash``.

    Raises:
        NotElfError, TruncatedBinaryError, UnsupportedBinaryError: the file is unusable.
        DecompilerError: flatline cannot start. A flatline error, an exception in a
            worker or a worker crash on one function is recorded on that
            function's record instead of raised.
    """
    started = time.perf_counter()
    if not in_process:
        start_forkserver()

    # Load, discover, and prepare the image every worker shares.
    binary = load_binary(path)
    discovery = discover_functions(binary)
    noreturn = find_noreturn(binary, discovery)
    patched = prepare_image(binary, discovery, noreturn)
    check_decompiler()
    names = function_names(binary, discovery)
    symbols = build_symbols(binary, discovery, noreturn, names)
    context = WorkerContext(
        symbols=symbols,
        patched=patched,
        ghidra_offset=binary.ghidra_offset,
        max_instructions=max_instructions,
        faults=dict(_faults or {}),
    )

    # Decompile in rounds; each round adds the call targets the previous one revealed.
    records: dict[int, DecompiledFunction] = {}
    pending = [_task(entry, discovery, names, noreturn) for entry in sorted(discovery.functions)]
    bar = tqdm(
        total=len(pending), unit="fn", desc=binary.path.name, disable=not progress, leave=False
    )
    with FunctionPool(context, workers, in_process=in_process, timeout=timeout) as pool:
        while pending and discovery.stats.rounds < max_rounds:
            discovery.stats.rounds += 1
            round_records = list(pool.run(pending, on_done=bar.update))
            records.update((record.ghidra_entry_va, record) for record in round_records)
            targets = [c for r in round_records for c in r.callees if isinstance(c, int)]
            added = add_call_targets(discovery, binary, targets)
            pending = [
                _task(e, discovery, names, noreturn)
                for e in sorted(discovery.functions)
                if e not in records
            ]
            if added:
                logger.info("Round %d found %d new call targets", discovery.stats.rounds, added)
                bar.total += len(pending)
                bar.refresh()
        peak_rss = dict(pool.peak_rss)
        cpu_seconds = dict(pool.cpu_seconds)
        worker_count = pool.workers
    bar.close()

    # Callers, from the call graph over all functions.
    functions = [records[entry] for entry in sorted(records)]
    add_all_callers(functions)
    return BinaryAnalysis(
        path=binary.path,
        elf_type=binary.elf_type,
        image_base=binary.image_base,
        ghidra_offset=binary.ghidra_offset,
        entry_va=binary.to_elf(binary.entry),
        functions=functions,
        imports=dict(binary.imports),
        strings_count=count_strings(binary),
        discovery=discovery.stats,
        noreturn_count=len(noreturn),
        workers=worker_count,
        seconds=time.perf_counter() - started,
        worker_peak_rss=peak_rss,
        worker_cpu_seconds=cpu_seconds,
    )


def add_all_callers(functions: list[DecompiledFunction]) -> None:
    """Append the ``called by:`` section to every function's ``calls_text``."""
    callers = build_callers({f.ghidra_entry_va: f.callees for f in functions})
    names = {f.ghidra_entry_va: f.ghidra_name for f in functions}
    for function in functions:
        if function.status != "ok":
            continue
        caller_names = [
            names.get(entry, fun_name(entry)) for entry in callers.get(function.ghidra_entry_va, [])
        ]
        function.calls_text = add_callers(function.calls_text, caller_names)


def function_names(binary: LoadedBinary, discovery: Discovery) -> dict[int, str]:
    """Return Ghidra's name for every discovered function: export, ``entry`` or ``FUN_``."""
    names = {entry: fun_name(entry) for entry in discovery.functions}
    for address, name in binary.exports.items():
        if address in names:
            names[address] = name
    if binary.entry in names:
        names[binary.entry] = ENTRY_NAME
    return names


def build_symbols(
    binary: LoadedBinary, discovery: Discovery, noreturn: frozenset[int], names: dict[int, str]
) -> Symbols:
    """Collect the naming tables the presentation needs."""
    writable = tuple(
        (s.start, s.end)
        for s in binary.sections
        if s.is_writable and not s.is_executable and s.kind != "SHT_NOBITS"
    )
    return Symbols(
        image=binary.image,
        image_base=binary.image_base,
        function_names=names,
        plt_stubs=dict(binary.plt_stubs),
        got_slots=dict(binary.got_slots),
        data_symbols=dict(binary.data_symbols),
        noreturn=noreturn,
        code_ranges=tuple(sorted(discovery.code_ranges)),
        readonly_ranges=tuple(sorted(binary.readonly_ranges)),
        data_ranges=tuple(sorted(binary.data_ranges)),
        writable_ranges=tuple(sorted(writable)),
    )


def count_strings(binary: LoadedBinary) -> int:
    """Count NUL-terminated printable strings of at least `MIN_STRING_LENGTH` characters."""
    total = 0
    for start, end in binary.readonly_ranges:
        total += len(_PRINTABLE_RUN.findall(binary.read(start, end - start)))
    return total


def _task(
    entry: int, discovery: Discovery, names: dict[int, str], noreturn: frozenset[int]
) -> FunctionTask:
    function = discovery.functions[entry]
    return FunctionTask(
        entry=entry,
        name=names.get(entry, fun_name(entry)),
        source=function.source,
        body_ranges=function.body_ranges,
        is_thunk=function.thunk_target is not None,
        is_noreturn=entry in noreturn,
    )
