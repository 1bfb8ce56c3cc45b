"""Writing the analysis report: HTML page, PNG figures, CSV and LaTeX tables, summary JSON.

`write_report` reads the store once, runs `reforge.report.analysis.analyse`
and writes::

    out_dir/index.html        figures with captions, tables inline
    out_dir/figures/*.png
    out_dir/tables/*.csv, *.tex
    out_dir/summary.json      headline numbers

It works with any amount of data. Without scored results the report
contains the confidence funnel and tier transitions and states that no model
results exist. Tests that cannot run on the data show empty statistics with the
reason instead of failing.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reforge.report.analysis import Analysis, analyse
from reforge.report.corpus import CORPUS_CAPTION, load_corpus_frame
from reforge.report.figures import Figure, write_report_figures
from reforge.report.frame import load_funnel_frame, load_score_frame, load_tier_frame
from reforge.report.tables import Table, write_report_tables, write_table
from reforge.scoring import SCORER_VERSION
from reforge.store.functions import DEFAULT_VARIANT
from reforge.store.models import Result, Score

logger = logging.getLogger(__name__)

TEMPLATE_DIR = Path(__file__).with_name("templates")

FAILURE_NOTE = (
    "Every result has one outcome: answered (the provider replied and a name was parsed), "
    "parse_failure (the reply held no usable name) or provider_failure (the call failed, "
    "after retries for transient errors). F1 and exact-match means are taken over answered "
    "results only. Failures are counted in their own columns and in the outcomes figure, "
    "and never count as an empty prediction. Costs and token counts include failed calls."
)
NO_RESULTS_SENTENCE = (
    "No model results exist yet for scorer version {version}: no experiment in this report "
    "has a scored result, so the report shows the corpus only. Run experiments with "
    "`reforge run`, score them with `reforge score` and write the report again."
)
RESULTS_ONLY_TABLES = frozenset(
    {"model_ranking", "model_ranking_gold", "opt_levels", "statistical_tests", "topk"}
)


def template_environment() -> Environment:
    """Return the Jinja2 environment of the report templates, with HTML autoescaping."""
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def write_report(
    session: Session,
    out_dir: Path,
    *,
    experiments: Sequence[str] | None = None,
    mcnemar_models: tuple[str | None, str | None] = (None, None),
    variant: str | None = DEFAULT_VARIANT,
) -> Path:
    """Write the analysis report into `out_dir` and return the path of its ``index.html``.

    `experiments` limits the model results to those experiment ids (the
    funnel and tier transitions always cover the whole corpus of build
    `variant`). `mcnemar_models` names the two models (slug or catalog label)
    whose exact matches McNemar's test compares. Each None is filled with
    the best-ranked model that shares results with the other side,
    preferring models that are not baselines.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    # Load the store and compute every number once.
    scores = load_score_frame(session, experiments)
    funnel = load_funnel_frame(session, variant=variant)
    tiers = load_tier_frame(session, variant=variant)
    requested = _resolve_models(scores, mcnemar_models)
    analysis = analyse(scores, funnel, tiers, mcnemar_models=requested)

    # Render figures and tables.
    figures = write_report_figures(analysis, out_dir / "figures")
    corpus = load_corpus_frame(session, variant=variant)
    corpus_table = write_table(
        corpus, out_dir / "tables", "corpus", title="Corpus", caption=CORPUS_CAPTION
    )
    tables = [corpus_table, *write_report_tables(analysis, out_dir / "tables")]

    # Headline numbers and the page.
    notes = _store_notes(session, experiments)
    summary = report_summary(analysis, figures, tables, notes=notes)
    summary["programs"] = sorted(set(corpus["program"]))
    summary["builds"] = len(corpus)
    (out_dir / "summary.json").write_text(
        json.dumps(summary, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    index = out_dir / "index.html"
    index.write_text(_render_index(analysis, figures, tables, summary, notes), encoding="utf-8")
    logger.info(
        "report written to %s: %d figures, %d tables, %d scored results",
        index,
        len(figures),
        len(tables),
        len(scores),
    )
    return index


def _resolve_models(
    scores: Any, requested: tuple[str | None, str | None]
) -> tuple[str | None, str | None]:
    """Map catalog labels to the model slugs used in the score frame."""
    by_label = dict(zip(scores["model_label"], scores["model"], strict=True))
    known = set(scores["model"])
    resolved: list[str | None] = []
    for name in requested:
        if name is None or name in known:
            resolved.append(name)
        elif name in by_label:
            resolved.append(by_label[name])
        else:
            logger.warning("McNemar model %r has no scored result in this report", name)
            resolved.append(name)
    return resolved[0], resolved[1]


def _store_notes(session: Session, experiments: Sequence[str] | None) -> list[str]:
    """Describe results the report leaves out because they lack a current score."""
    scored = select(Score.result_id).where(Score.scorer_version == SCORER_VERSION).scalar_subquery()
    statement = select(func.count(Result.id), func.count(func.distinct(Result.experiment_id)))
    statement = statement.where(Result.id.not_in(scored))
    if experiments is not None:
        statement = statement.where(Result.experiment_id.in_(list(experiments)))
    unscored, unscored_experiments = session.execute(statement).one()
    if not unscored:
        return []
    logger.warning(
        "%d results in %d experiments have no score of version %s",
        unscored,
        unscored_experiments,
        SCORER_VERSION,
    )
    return [
        f"{unscored} results in {unscored_experiments} experiments have no score of scorer "
        f"version {SCORER_VERSION} and are left out; run `reforge score` to include them."
    ]


def _finite(value: Any) -> Any:
    """Return `value` with NaN replaced by None, so it is valid JSON."""
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _model_headline(row: Any) -> dict[str, Any]:
    return {
        "model": row["model"],
        "label": row["model_label"],
        "is_baseline": bool(row["is_baseline"]),
        "answered": int(row["n_answered"]),
        "parse_failures": int(row["n_parse_failures"]),
        "provider_failures": int(row["n_provider_failures"]),
        "mean_token_f1": _finite(float(row["mean_token_f1"])),
        "token_f1_ci": [
            _finite(float(row["token_f1_ci_low"])),
            _finite(float(row["token_f1_ci_high"])),
        ],
        "exact_match_rate": _finite(float(row["exact_match_rate"])),
        "exact_match_ci": [
            _finite(float(row["exact_match_ci_low"])),
            _finite(float(row["exact_match_ci_high"])),
        ],
        "cost_usd": float(row["cost_usd"]),
    }


def report_summary(
    analysis: Analysis,
    figures: Sequence[Figure],
    tables: Sequence[Table],
    *,
    notes: Sequence[str] = (),
) -> dict[str, Any]:
    """Return the report's headline numbers as a JSON-ready dict (NaN becomes null).

    ``best_model`` is the model with the highest mean token F1 that is not a
    baseline (a baseline only when no other model answered), or None.
    """
    models = [_model_headline(row) for _, row in analysis.ranking.iterrows()]
    answered = [model for model in models if model["mean_token_f1"] is not None]
    best = next((model for model in answered if not model["is_baseline"]), None)
    if best is None and answered:
        best = answered[0]
    outcomes = analysis.scores["outcome"].value_counts().to_dict()
    return {
        "scorer_version": SCORER_VERSION,
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "has_results": analysis.has_results,
        "experiments": analysis.n_experiments,
        "models": analysis.n_models,
        "functions": analysis.n_functions,
        "results": len(analysis.scores),
        "outcomes": {str(key): int(value) for key, value in outcomes.items()},
        "best_model": best,
        "ranking": models,
        "gold_functions": {
            str(row["opt"]): int(row["gold"]) for _, row in analysis.funnel.iterrows()
        },
        "mcnemar_models": list(analysis.paired.mcnemar_models or []),
        "figures": [figure.path.name for figure in figures],
        "tables": [table.csv_path.name for table in tables],
        "notes": list(notes),
    }


def _render_index(
    analysis: Analysis,
    figures: Sequence[Figure],
    tables: Sequence[Table],
    summary: dict[str, Any],
    notes: Sequence[str],
) -> str:
    visible_tables = [
        table
        for table in tables
        if not table.frame.empty and (analysis.has_results or table.name not in RESULTS_ONLY_TABLES)
    ]
    template = template_environment().get_template("report.html")
    return template.render(
        summary=summary,
        figures=figures,
        tables=visible_tables,
        failure_note=FAILURE_NOTE,
        no_results=None
        if analysis.has_results
        else NO_RESULTS_SENTENCE.format(version=SCORER_VERSION),
        notes=notes,
    )
