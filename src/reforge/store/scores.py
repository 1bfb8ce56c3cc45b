"""Scoring stored results against ground truth, after the fact.

Scoring reads each result's parsed name and candidates, the true name of its
DWARF function and the join's leak flag. It never reads the prompt or the
reply text, so nothing a model saw can change how it is judged. Provider
failures and unparseable replies are scored as their own outcomes with no
metrics, so they never count as empty predictions.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from reforge.scoring import SCORER_VERSION, score_prediction
from reforge.store.models import DwarfFunction, JoinedFunction, Result, Score

SCORE_FIELDS = (
    "outcome",
    "exact_match",
    "exact_match_norm",
    "token_precision",
    "token_recall",
    "token_f1",
    "relaxed_f1",
    "synonym_f1",
    "is_trivial",
    "topk_best_f1",
    "topk_exact_any",
    "topk_uplift",
    "leak",
)


def outcome_of(result: Result) -> str:
    """Classify a stored result as answered, parse_failure or provider_failure."""
    if result.status != "ok":
        return "provider_failure"
    if not result.parse_ok or not result.predicted_name:
        return "parse_failure"
    return "answered"


def _candidate_names(result: Result) -> list[str]:
    names = []
    for candidate in result.candidates or []:
        name = candidate.get("name") if isinstance(candidate, dict) else None
        if isinstance(name, str) and name:
            names.append(name)
    return names


def score_experiment(
    session: Session, experiment_id: str, *, rescore: bool = False
) -> dict[str, Any]:
    """Score the results of one experiment that have no score of the current version."""
    statement = (
        select(Result, DwarfFunction.name, JoinedFunction.leak)
        .join(DwarfFunction, DwarfFunction.id == Result.dwarf_function_id)
        .outerjoin(JoinedFunction, JoinedFunction.dwarf_function_id == DwarfFunction.id)
        .where(Result.experiment_id == experiment_id)
        .order_by(Result.id)
    )
    existing = {
        row.result_id: row
        for row in session.scalars(
            select(Score)
            .join(Result, Result.id == Score.result_id)
            .where(Result.experiment_id == experiment_id, Score.scorer_version == SCORER_VERSION)
        )
    }
    scored = 0
    outcomes: Counter[str] = Counter()
    for result, truth_name, leak in session.execute(statement):
        if result.id in existing and not rescore:
            continue
        outcome = outcome_of(result)
        score = score_prediction(
            result.predicted_name if outcome == "answered" else None,
            truth_name or "",
            candidates=_candidate_names(result),
            outcome=outcome,
            leak=bool(leak),
        )
        row = existing.get(result.id) or Score(result_id=result.id, scorer_version=SCORER_VERSION)
        _fill(row, score.to_dict(), truth_name or "")
        session.add(row)
        scored += 1
        outcomes[outcome] += 1
    session.flush()
    return {
        "experiment_id": experiment_id,
        "scorer_version": SCORER_VERSION,
        "scored": scored,
        "outcomes": dict(outcomes),
    }


def _fill(row: Score, data: dict[str, Any], truth_name: str) -> None:
    row.outcome = data["outcome"]
    row.truth_name = truth_name
    for field in SCORE_FIELDS[1:]:
        setattr(row, field, data.get(field))
    row.details = {
        key: value for key, value in data.items() if key not in SCORE_FIELDS and key != "outcome"
    }


def score_rows(
    session: Session,
    experiment_id: str,
    *,
    run_id: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> dict[str, Any]:
    """Return the current-version score rows of an experiment and their summary."""
    statement = (
        select(Score, Result)
        .join(Result, Result.id == Score.result_id)
        .where(Result.experiment_id == experiment_id, Score.scorer_version == SCORER_VERSION)
        .order_by(Result.id)
    )
    if run_id is not None:
        statement = statement.where(Result.run_id == run_id)
    all_rows = [_score_dict(score, result) for score, result in session.execute(statement)]
    page = all_rows[offset : offset + limit] if limit is not None else all_rows[offset:]
    return {
        "experiment_id": experiment_id,
        "scorer_version": SCORER_VERSION,
        "total": len(all_rows),
        "rows": page,
        "summary": summarise_scores(all_rows),
    }


def _score_dict(score: Score, result: Result) -> dict[str, Any]:
    data: dict[str, Any] = {
        "result_id": result.id,
        "experiment_id": result.experiment_id,
        "run_id": result.run_id,
        "dwarf_function_id": result.function_uid,
        "predicted_name": result.predicted_name,
        "truth_name": score.truth_name,
        "cost_usd": result.cost_usd,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "scorer_version": score.scorer_version,
    }
    for field in SCORE_FIELDS:
        data[field] = getattr(score, field)
    return data


def _mean(values: list[float]) -> float | None:
    return math.fsum(values) / len(values) if values else None


def summarise_scores(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Summarise score rows: outcome counts and means over answered rows only."""
    outcomes = Counter(row["outcome"] for row in rows)
    answered = [row for row in rows if row["outcome"] == "answered"]
    return {
        "results": len(rows),
        "answered": outcomes.get("answered", 0),
        "parse_failures": outcomes.get("parse_failure", 0),
        "provider_failures": outcomes.get("provider_failure", 0),
        "mean_token_f1": _mean([row["token_f1"] for row in answered]),
        "exact_match_rate": _mean([float(row["exact_match"]) for row in answered]),
        "exact_match_norm_rate": _mean([float(row["exact_match_norm"]) for row in answered]),
        "mean_relaxed_f1": _mean([row["relaxed_f1"] for row in answered]),
        "mean_synonym_f1": _mean([row["synonym_f1"] for row in answered]),
        "trivial_rate": _mean([float(row["is_trivial"]) for row in answered]),
        "leak_rate": _mean([float(bool(row["leak"])) for row in rows]) if rows else None,
        "cost_usd": math.fsum(row["cost_usd"] or 0.0 for row in rows),
    }
