"""A small benchmark store for the report tests: corpus rows, experiments and scored results.

Two programs: ``alpha`` built at O0..O3 and ``beta`` at O0 and O3, plus one
PIE build of ``alpha`` that the report must ignore. Every DWARF function is
listed in `CORPUS` with its code range, first failed GOLD gate and tier, so
the tests can count the funnel by hand. Three models have results. Model A
runs at every opt level with context L0, and at O0 also with L1, L2 and
top-k. Model B runs at O0 and O3, with every third call failed and one
unparseable reply. The trivial baseline runs at O0. Scores come from the
real scorer.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reforge.experiments import ExperimentConfig
from reforge.store.db import Store, open_store
from reforge.store.models import (
    Alignment,
    BinaryFunction,
    Build,
    DwarfFunction,
    Experiment,
    JoinedFunction,
    Program,
    Result,
)
from reforge.store.scores import score_experiment

MODEL_A = "openai/gpt-4o-mini"
MODEL_B = "anthropic/claude-3.5-sonnet"
BASELINE = "baseline-trivial"

# (name, decl_line, has_range, gold_reject_reason, tier, joined)
Row = tuple[str, int, bool, str | None, str | None, bool]

ALPHA_LOW: list[Row] = [
    ("parse_header", 10, True, None, "GOLD", True),
    ("read_config_file", 20, True, None, "GOLD", True),
    ("compute_checksum", 30, True, None, "GOLD", True),
    ("free_buffer", 40, True, None, "GOLD", True),
    ("init_table", 50, True, None, "GOLD", True),
    ("list_append", 60, True, "cfg_completeness", "SILVER", True),
    ("frame_dummy", 70, True, "noise", "SILVER", True),
    ("inlined_twice", 80, False, "dwarf_verdict", None, True),
    ("weak_match", 90, True, "join_strength", "BRONZE", True),
]
ALPHA_O3: list[Row] = [
    ("parse_header", 10, True, None, "GOLD", True),
    ("read_config_file", 20, True, None, "GOLD", True),
    ("compute_checksum", 30, True, None, "GOLD", True),
    ("init_table", 50, True, "fatal_warning", "SILVER", True),
    ("list_append", 60, True, "join_strength", "BRONZE", True),
    ("frame_dummy", 70, True, "noise", "SILVER", True),
    ("inlined_twice", 80, False, "dwarf_verdict", None, True),
    ("weak_match", 90, True, "decompiled", "SILVER", True),
    ("unjoined_fn", 100, True, None, None, False),
]
BETA: list[Row] = [
    ("beta_main_loop", 5, True, None, "GOLD", True),
    ("beta_cleanup", 15, True, "source_alignment", "SILVER", True),
]
CORPUS: dict[tuple[str, str], list[Row]] = {
    ("alpha", "O0"): ALPHA_LOW,
    ("alpha", "O1"): ALPHA_LOW,
    ("alpha", "O2"): ALPHA_LOW,
    ("alpha", "O3"): ALPHA_O3,
    ("beta", "O0"): BETA,
    ("beta", "O3"): BETA,
}
PIE_ROWS: list[Row] = [("parse_header", 10, True, None, "GOLD", True)]

OPT_SHIFT = {"O0": 0, "O1": 0, "O2": 1}


def variant(name: str, index: int) -> str:
    """Return prediction `index` (0 exact, 3 unrelated) for the true name `name`."""
    tokens = name.split("_")
    options = [
        name,
        f"{tokens[0]}_value",
        f"process_{tokens[-1]}_data",
        "func_unknown",
    ]
    return options[min(index, 3)]


def base_index(name: str) -> int:
    """Return a function's prediction index for model A at O0 with context L0 (0 or 1)."""
    return len(name) % 2


@dataclass
class FilledStore:
    """The filled store and the facts the tests need to recompute numbers."""

    store: Store
    uid_to_key: dict[str, str] = field(default_factory=dict)
    uid_to_opt: dict[str, str] = field(default_factory=dict)
    uid_to_tier: dict[str, str | None] = field(default_factory=dict)
    experiments: dict[str, list[str]] = field(default_factory=dict)
    """Model slug -> its experiment ids."""
    failed_b: int = 0
    parse_failed_b: int = 0


def _add_build(session, program: Program, opt: str, variant_name: str, rows: list[Row]) -> dict:
    build = Build(program=program, opt=opt, variant=variant_name, ok=True)
    session.add(build)
    session.flush()
    functions = {}
    for index, (name, line, has_range, reason, tier, joined) in enumerate(rows):
        low = 0x401000 + 0x100 * index
        uid = f"{program.name}:{opt}:{variant_name}:{0x40 + index:#x}"
        key = f"{program.name}:src/{program.name}.c:{line}:1:{name}"
        dwarf = DwarfFunction(
            build_id=build.id,
            uid=uid,
            die_offset=0x40 + index,
            cu_offset=0x0B,
            name=name,
            low_pc=low if has_range else None,
            high_pc=low + 0x80 if has_range else None,
            ranges=[[low, low + 0x80]] if has_range else [],
            decl_file=f"src/{program.name}.c",
            decl_line=line,
            decl_column=1,
            verdict="ACCEPT" if has_range else "REJECT",
        )
        session.add(dwarf)
        session.flush()
        session.add(
            Alignment(dwarf_function_id=dwarf.id, kind="MATCH", overlap=1.0, stable_key=key)
        )
        binary = None
        if has_range and joined:
            binary = BinaryFunction(
                build_id=build.id,
                entry_va=low,
                ghidra_entry_va=low,
                ghidra_name=f"FUN_{low:08x}",
                body_ranges=[[low, low + 0x80]],
                status="ok",
            )
            session.add(binary)
            session.flush()
        if joined:
            session.add(
                JoinedFunction(
                    build_id=build.id,
                    dwarf_function_id=dwarf.id,
                    binary_function_id=binary.id if binary else None,
                    match_kind="JOINED_STRONG" if has_range else "NO_MATCH",
                    overlap=1.0 if has_range else 0.0,
                    confidence_tier=tier,
                    gold_reject_reason=reason,
                    leak=name == "frame_dummy",
                    stable_key=key,
                )
            )
        functions[uid] = (dwarf.id, name, key, tier)
    session.flush()
    return functions


def _add_experiment(session, config: ExperimentConfig) -> None:
    session.add(
        Experiment(
            id=config.id,
            name=config.name,
            model=config.model,
            provider=config.provider,
            config=config.model_dump(mode="json"),
        )
    )
    session.flush()


def _tiered(functions: dict, opt: str) -> list[tuple[str, int, str, str]]:
    return [
        (uid, dwarf_id, name, key)
        for (program, level), entries in functions.items()
        if level == opt
        for uid, (dwarf_id, name, key, tier) in entries.items()
        if tier is not None
    ]


def fill_store(store: Store, *, with_results: bool = True) -> FilledStore:
    """Insert the corpus and, unless `with_results` is False, experiments and scored results."""
    filled = FilledStore(store)
    with store.session() as session:
        programs = {name: Program(name=name, kind="synthetic") for name in ("alpha", "beta")}
        session.add_all(programs.values())
        session.flush()
        functions = {
            (program, opt): _add_build(session, programs[program], opt, "nopie", rows)
            for (program, opt), rows in CORPUS.items()
        }
        _add_build(session, programs["alpha"], "O0", "pie", PIE_ROWS)
        for (_, opt), entries in functions.items():
            for uid, (_, _, key, tier) in entries.items():
                filled.uid_to_key[uid] = key
                filled.uid_to_opt[uid] = opt
                filled.uid_to_tier[uid] = tier
        if not with_results:
            return filled

        _add_model_a(session, functions, filled)
        _add_model_b(session, functions, filled)
        _add_baseline(session, functions, filled)
        for experiment_ids in filled.experiments.values():
            for experiment_id in experiment_ids:
                score_experiment(session, experiment_id)
    return filled


def _result(experiment_id: str, uid: str, dwarf_id: int, model: str, **fields) -> Result:
    values = {
        "status": "ok",
        "parse_ok": True,
        "provider": "openrouter",
        "input_tokens": 500,
        "output_tokens": 6,
    }
    values.update(fields)
    return Result(
        experiment_id=experiment_id,
        run_id="main",
        dwarf_function_id=dwarf_id,
        function_uid=uid,
        model=model,
        **values,
    )


def _add_model_a(session, functions: dict, filled: FilledStore) -> None:
    ids = []
    for opt in ("O0", "O1", "O2", "O3"):
        config = ExperimentConfig(id=f"a_{opt}_L0", model=MODEL_A, opt=opt, context_level="L0")
        _add_experiment(session, config)
        ids.append(config.id)
        for uid, dwarf_id, name, _ in _tiered(functions, opt):
            shift = OPT_SHIFT.get(opt, 1 + len(name) % 3)
            prediction = variant(name, base_index(name) + shift)
            session.add(
                _result(
                    config.id, uid, dwarf_id, MODEL_A, predicted_name=prediction, cost_usd=0.001
                )
            )
    for level in ("L1", "L2"):
        config = ExperimentConfig(id=f"a_O0_{level}", model=MODEL_A, opt="O0", context_level=level)
        _add_experiment(session, config)
        ids.append(config.id)
        for position, (uid, dwarf_id, name, _) in enumerate(_tiered(functions, "O0")):
            better = position % 3 != 0 if level == "L1" else position % 2 == 0
            index = max(0, base_index(name) - 1) if better else base_index(name) + 1
            session.add(
                _result(
                    config.id,
                    uid,
                    dwarf_id,
                    MODEL_A,
                    predicted_name=variant(name, index),
                    cost_usd=0.002,
                )
            )
    config = ExperimentConfig(id="a_O0_topk", model=MODEL_A, opt="O0", context_level="L2", top_k=3)
    _add_experiment(session, config)
    ids.append(config.id)
    for uid, dwarf_id, name, _ in _tiered(functions, "O0"):
        ranked = [variant(name, 1), variant(name, 0), variant(name, 3)]
        candidates = [{"name": item, "confidence": 0.5} for item in ranked]
        session.add(
            _result(
                config.id,
                uid,
                dwarf_id,
                MODEL_A,
                predicted_name=ranked[0],
                candidates=candidates,
                cost_usd=0.003,
            )
        )
    filled.experiments[MODEL_A] = ids


def _add_model_b(session, functions: dict, filled: FilledStore) -> None:
    ids = []
    for opt in ("O0", "O3"):
        config = ExperimentConfig(id=f"b_{opt}_L0", model=MODEL_B, opt=opt)
        _add_experiment(session, config)
        ids.append(config.id)
        for position, (uid, dwarf_id, name, _) in enumerate(_tiered(functions, opt)):
            if position % 3 == 0:
                row = _result(
                    config.id,
                    uid,
                    dwarf_id,
                    MODEL_B,
                    status="failed",
                    parse_ok=False,
                    error_kind="permanent",
                    error_message="HTTP 400 from the provider",
                    input_tokens=None,
                    output_tokens=None,
                )
                filled.failed_b += 1
            elif position == 1:
                row = _result(config.id, uid, dwarf_id, MODEL_B, parse_ok=False, cost_usd=0.004)
                filled.parse_failed_b += 1
            else:
                index = base_index(name) + (1 if opt == "O0" else 2)
                row = _result(
                    config.id,
                    uid,
                    dwarf_id,
                    MODEL_B,
                    predicted_name=variant(name, index),
                    cost_usd=0.004,
                )
            session.add(row)
    filled.experiments[MODEL_B] = ids


def _add_baseline(session, functions: dict, filled: FilledStore) -> None:
    config = ExperimentConfig(id="trivial_O0", model=BASELINE, provider=BASELINE, opt="O0")
    _add_experiment(session, config)
    for uid, dwarf_id, name, _ in _tiered(functions, "O0"):
        prediction = name if name == "init_table" else "process_data"
        session.add(
            _result(
                config.id,
                uid,
                dwarf_id,
                BASELINE,
                provider=BASELINE,
                predicted_name=prediction,
                cost_usd=0.0,
                input_tokens=0,
                output_tokens=0,
            )
        )
    filled.experiments[BASELINE] = [config.id]


@pytest.fixture(scope="module")
def filled_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FilledStore]:
    """The filled store on SQLite, shared by the tests of one module."""
    path = tmp_path_factory.mktemp("report-store") / "s.sqlite"
    store = open_store(f"sqlite:///{path}")
    try:
        yield fill_store(store)
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def report_dir(filled_store: FilledStore, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the filled store, written once per module."""
    from reforge.report.build import write_report

    out = tmp_path_factory.mktemp("report")
    with filled_store.store.session() as session:
        write_report(session, out)
    return out
