"""Data frames that the report reads from the store: scores, the confidence funnel, tiers.

`load_score_frame` returns one row per score of the current `SCORER_VERSION`,
joined with its result, its experiment's config and the function it names.
`load_funnel_frame` counts, per optimisation level, the DWARF functions that
pass each GOLD gate. `load_tier_frame` gives the tier of every stable key at
every level, for tier transitions::

    with store.session() as session:
        scores = load_score_frame(session)
        answered = scores[scores["answered"]]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reforge.errors import ConfigError
from reforge.experiments import ModelCatalog, load_catalog
from reforge.join.tiers import GOLD_GATES
from reforge.scoring import SCORER_VERSION
from reforge.store.functions import DEFAULT_VARIANT
from reforge.store.models import (
    Alignment,
    Build,
    DwarfFunction,
    Experiment,
    JoinedFunction,
    Program,
    Result,
    Score,
)

logger = logging.getLogger(__name__)

OPT_LEVELS = ("O0", "O1", "O2", "O3")
CONTEXT_LEVELS = ("L0", "L1", "L2")
TIERS = ("GOLD", "SILVER", "BRONZE")
NO_TIER = "none"
"""Tier label of a function that is in the store but has no confidence tier."""

BASELINE_PROVIDER_PREFIX = "baseline"

FLOAT_METRICS = (
    "token_precision",
    "token_recall",
    "token_f1",
    "relaxed_f1",
    "synonym_f1",
    "topk_best_f1",
    "topk_uplift",
)
BOOL_METRICS = ("exact_match", "exact_match_norm", "is_trivial", "topk_exact_any")

SCORE_FRAME_COLUMNS = (
    # result
    "result_id",
    "experiment_id",
    "run_id",
    "model",
    "model_label",
    "provider",
    "is_baseline",
    "upstream_provider",
    "status",
    "error_kind",
    "predicted_name",
    "truth_name",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    # experiment config
    "experiment_tier",
    "experiment_opt",
    "context_level",
    "top_k",
    "metadata_mode",
    "template_id",
    # function
    "program",
    "opt",
    "variant",
    "function_uid",
    "dwarf_function_id",
    "stable_key",
    "tier",
    "join_leak",
    # score
    "outcome",
    "answered",
    *BOOL_METRICS,
    *FLOAT_METRICS,
    "leak",
)
"""Columns of `load_score_frame`, in order.

``tier`` is the function's confidence tier (``none`` without one) and
``experiment_tier`` the tier filter of its experiment (None for all tiers).
``opt`` is the level of the function's build. ``leak`` is the flag the scorer
stored, ``join_leak`` the join's current flag. Boolean metrics use pandas'
nullable ``boolean`` dtype and float metrics are NaN when ``outcome`` is not
``answered``.
"""

FUNNEL_STAGES = ("with_range", *GOLD_GATES)
"""Funnel stages in order: DWARF functions with a code range, then each GOLD gate passed."""


def opt_sort_key(opt: str) -> tuple[int, str]:
    """Order optimisation levels O0 < O1 < O2 < O3, unknown levels after them."""
    return (OPT_LEVELS.index(opt), opt) if opt in OPT_LEVELS else (len(OPT_LEVELS), opt)


def _catalog() -> ModelCatalog | None:
    try:
        return load_catalog()
    except ConfigError as error:
        logger.warning("model catalog unavailable, labelling models by slug: %s", error)
        return None


def _model_identity(model: str, provider: str, catalog: ModelCatalog | None) -> tuple[str, bool]:
    """Return the report label of a model and whether it is an offline baseline."""
    entry = catalog.find(model) if catalog is not None else None
    label = entry.label if entry is not None else model
    baseline = provider.startswith(BASELINE_PROVIDER_PREFIX) or bool(entry and entry.is_baseline)
    return label, baseline


def _score_statement(experiments: Sequence[str] | None) -> Any:
    statement = (
        select(
            Score,
            Result,
            Experiment.model,
            Experiment.provider,
            Experiment.config,
            DwarfFunction.uid,
            Build.opt,
            Build.variant,
            Program.name,
            JoinedFunction.confidence_tier,
            JoinedFunction.leak,
            JoinedFunction.stable_key,
            Alignment.stable_key,
        )
        .join(Result, Result.id == Score.result_id)
        .join(Experiment, Experiment.id == Result.experiment_id)
        .join(DwarfFunction, DwarfFunction.id == Result.dwarf_function_id)
        .join(Build, Build.id == DwarfFunction.build_id)
        .join(Program, Program.id == Build.program_id)
        .outerjoin(JoinedFunction, JoinedFunction.dwarf_function_id == DwarfFunction.id)
        .outerjoin(Alignment, Alignment.dwarf_function_id == DwarfFunction.id)
        .where(Score.scorer_version == SCORER_VERSION)
        .order_by(Result.id)
    )
    if experiments is not None:
        statement = statement.where(Result.experiment_id.in_(list(experiments)))
    return statement


def load_score_frame(session: Session, experiments: Sequence[str] | None = None) -> pd.DataFrame:
    """Load every current-version score with its result, experiment and function.

    `experiments` restricts the frame to those experiment ids. The frame has
    the columns of `SCORE_FRAME_COLUMNS`, also when it has no rows.
    """
    catalog = _catalog()
    identities: dict[tuple[str, str], tuple[str, bool]] = {}
    records: list[dict[str, Any]] = []
    for row in session.execute(_score_statement(experiments)):
        model, provider = row[2], row[3] or row[1].provider or ""
        if (model, provider) not in identities:
            identities[model, provider] = _model_identity(model, provider, catalog)
        records.append(_score_record(row, provider, *identities[model, provider]))
    frame = _typed_score_frame(records)
    logger.debug(
        "loaded %d scores (scorer %s) of %d experiments",
        len(frame),
        SCORER_VERSION,
        frame["experiment_id"].nunique(),
    )
    return frame


def _score_record(row: Any, provider: str, label: str, baseline: bool) -> dict[str, Any]:
    """Flatten one row of `_score_statement` into the fields of `SCORE_FRAME_COLUMNS`."""
    (score, result, model, _, config, uid, opt, variant, program, tier, join_leak) = row[:11]
    joined_key, aligned_key = row[11:]
    config = config or {}
    return {
        "result_id": result.id,
        "experiment_id": result.experiment_id,
        "run_id": result.run_id,
        "model": model,
        "model_label": label,
        "provider": provider,
        "is_baseline": baseline,
        "upstream_provider": result.upstream_provider,
        "status": result.status,
        "error_kind": result.error_kind,
        "predicted_name": result.predicted_name,
        "truth_name": score.truth_name,
        "cost_usd": result.cost_usd,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "latency_ms": result.latency_ms,
        "experiment_tier": config.get("tier"),
        "experiment_opt": config.get("opt"),
        "context_level": config.get("context_level") or "L0",
        "top_k": int(config.get("top_k") or 1),
        "metadata_mode": config.get("metadata_mode") or "STRICT",
        "template_id": config.get("prompt_template_id") or result.template_id,
        "program": program,
        "opt": opt,
        "variant": variant,
        "function_uid": uid,
        "dwarf_function_id": result.dwarf_function_id,
        "stable_key": joined_key or aligned_key,
        "tier": tier or NO_TIER,
        "join_leak": bool(join_leak),
        "outcome": score.outcome,
        "answered": score.outcome == "answered",
        **{name: getattr(score, name) for name in (*BOOL_METRICS, *FLOAT_METRICS)},
        "leak": bool(score.leak),
    }


def _typed_score_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(records, columns=list(SCORE_FRAME_COLUMNS))
    for column in (*FLOAT_METRICS, "cost_usd", "input_tokens", "output_tokens", "latency_ms"):
        frame[column] = pd.to_numeric(frame[column], errors="raise").astype("float64")
    for column in BOOL_METRICS:
        frame[column] = frame[column].astype("boolean")
    for column in ("is_baseline", "answered", "join_leak", "leak"):
        frame[column] = frame[column].astype(bool)
    for column in ("result_id", "dwarf_function_id", "top_k"):
        frame[column] = frame[column].astype("int64")
    return frame


def load_funnel_frame(session: Session, *, variant: str | None = DEFAULT_VARIANT) -> pd.DataFrame:
    """Count, per opt level, the DWARF functions that pass each GOLD gate cumulatively.

    Columns: ``opt``, ``dwarf_functions`` (all concrete DWARF functions),
    ``with_range`` (those with a code range), ``not_joined`` (with a range
    but no joined row, because the join stage has not run for the build),
    then one column per gate of `GOLD_GATES` with the number of functions
    with a range that pass that gate and every gate before it, then the tier
    counts ``gold``, ``silver``, ``bronze`` and ``no_tier`` over all DWARF
    functions. The first failed gate comes from
    ``JoinedFunction.gold_reject_reason``. Rows are ordered O0..O3. `variant`
    selects the build variant (None for all).
    """
    statement = (
        select(
            Build.opt,
            DwarfFunction.low_pc.is_not(None),
            JoinedFunction.id.is_not(None),
            JoinedFunction.gold_reject_reason,
            JoinedFunction.confidence_tier,
            func.count(),
        )
        .select_from(DwarfFunction)
        .join(Build, Build.id == DwarfFunction.build_id)
        .outerjoin(JoinedFunction, JoinedFunction.dwarf_function_id == DwarfFunction.id)
        .group_by(
            Build.opt,
            DwarfFunction.low_pc.is_not(None),
            JoinedFunction.id.is_not(None),
            JoinedFunction.gold_reject_reason,
            JoinedFunction.confidence_tier,
        )
    )
    if variant is not None:
        statement = statement.where(Build.variant == variant)

    counts: dict[str, dict[str, int]] = {}
    unknown_reasons: dict[str, int] = {}
    for opt, has_range, joined, reason, tier, count in session.execute(statement):
        entry = counts.setdefault(opt, _empty_funnel_entry())
        entry["dwarf_functions"] += count
        if tier in TIERS:
            entry[tier.lower()] += count
        if not has_range:
            continue
        entry["with_range"] += count
        if not joined:
            entry["not_joined"] += count
            continue
        passed = _gates_passed(reason)
        if passed is None:
            unknown_reasons[reason] = unknown_reasons.get(reason, 0) + count
            passed = 0
        for gate in GOLD_GATES[:passed]:
            entry[gate] += count

    if unknown_reasons:
        logger.warning(
            "gold_reject_reason values %r are not GOLD gates %r; counted as failing the first "
            "gate. Rerun `reforge join` so the stored reasons match this version",
            unknown_reasons,
            GOLD_GATES,
        )
    rows = []
    for opt in sorted(counts, key=opt_sort_key):
        entry = counts[opt]
        entry["no_tier"] = entry["dwarf_functions"] - entry["gold"] - entry["silver"]
        entry["no_tier"] -= entry["bronze"]
        rows.append({"opt": opt, **entry})
    columns = ["opt", "dwarf_functions", "with_range", "not_joined", *GOLD_GATES]
    return pd.DataFrame(rows, columns=[*columns, "gold", "silver", "bronze", "no_tier"])


def _empty_funnel_entry() -> dict[str, int]:
    names = ("dwarf_functions", "with_range", "not_joined", *GOLD_GATES, "gold", "silver", "bronze")
    return dict.fromkeys(names, 0)


def _gates_passed(reason: str | None) -> int | None:
    """Return how many GOLD gates a row passed, or None for an unknown reason."""
    if reason is None:
        return len(GOLD_GATES)
    if reason in GOLD_GATES:
        return GOLD_GATES.index(reason)
    return None


def load_tier_frame(session: Session, *, variant: str | None = DEFAULT_VARIANT) -> pd.DataFrame:
    """Return the tier of every stable key at every opt level, for tier transitions.

    Columns: ``program``, ``stable_key``, ``opt``, ``tier`` (GOLD, SILVER,
    BRONZE or ``none``). DWARF functions without a stable key are left out.
    When several DWARF functions of one build share a stable key (one header
    function emitted in several translation units), the best tier is kept and
    ``frame.attrs["duplicates"]`` counts the rows dropped.
    """
    statement = (
        select(
            Program.name,
            Build.opt,
            JoinedFunction.stable_key,
            Alignment.stable_key,
            JoinedFunction.confidence_tier,
        )
        .select_from(DwarfFunction)
        .join(Build, Build.id == DwarfFunction.build_id)
        .join(Program, Program.id == Build.program_id)
        .outerjoin(JoinedFunction, JoinedFunction.dwarf_function_id == DwarfFunction.id)
        .outerjoin(Alignment, Alignment.dwarf_function_id == DwarfFunction.id)
    )
    if variant is not None:
        statement = statement.where(Build.variant == variant)

    rank = {tier: position for position, tier in enumerate((*TIERS, NO_TIER))}
    best: dict[tuple[str, str], tuple[str, str]] = {}
    duplicates = 0
    for program, opt, joined_key, aligned_key, tier in session.execute(statement):
        key = joined_key or aligned_key
        if key is None:
            continue
        label = tier if tier in TIERS else NO_TIER
        previous = best.get((key, opt))
        if previous is not None:
            duplicates += 1
            if rank[previous[1]] <= rank[label]:
                continue
        best[key, opt] = (program, label)

    rows = [
        {"program": program, "stable_key": key, "opt": opt, "tier": tier}
        for (key, opt), (program, tier) in best.items()
    ]
    frame = pd.DataFrame(rows, columns=["program", "stable_key", "opt", "tier"])
    frame = frame.sort_values(["program", "stable_key", "opt"], ignore_index=True)
    frame.attrs["duplicates"] = duplicates
    return frame
