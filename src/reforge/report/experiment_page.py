"""The HTML report page of one experiment, served by ``GET /results/{id}/report``.

The page is a single self-contained document: its PNG figures are inlined
as base64 ``data:`` URIs, so it can be saved or mailed as one file::

    html = render_experiment_report(session, "bench_gpt4o-mini_gold_O3_L2")
"""

from __future__ import annotations

import base64
import logging
import math
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from reforge.report.aggregate import best_and_worst, program_table, summarise_outcomes
from reforge.report.build import FAILURE_NOTE, template_environment
from reforge.report.figures import f1_histogram_png
from reforge.report.frame import load_score_frame
from reforge.report.tables import MISSING, frame_to_html
from reforge.scoring import SCORER_VERSION
from reforge.store.experiments import get_experiment
from reforge.store.models import Result

logger = logging.getLogger(__name__)

EXAMPLES_PER_TABLE = 10
PROGRAM_COLUMNS = (
    "program",
    "n_results",
    "n_answered",
    "n_parse_failures",
    "n_provider_failures",
    "mean_token_f1",
    "token_f1_ci_low",
    "token_f1_ci_high",
    "exact_match_rate",
    "exact_match_norm_rate",
    "cost_usd",
)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _format(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _headline(summary: dict[str, Any]) -> list[tuple[str, str]]:
    f1 = (
        f"{_format(summary['mean_token_f1'])} "
        f"[{_format(summary['token_f1_ci_low'])}, {_format(summary['token_f1_ci_high'])}]"
    )
    exact = (
        f"{_format(summary['exact_match_rate'])} "
        f"[{_format(summary['exact_match_ci_low'])}, {_format(summary['exact_match_ci_high'])}]"
    )
    return [
        ("scored results", str(summary["n_results"])),
        ("answered", str(summary["n_answered"])),
        ("parse failures", str(summary["n_parse_failures"])),
        ("provider failures", str(summary["n_provider_failures"])),
        ("functions", str(summary["n_functions"])),
        ("mean token F1 [95% CI]", f1),
        ("exact-match rate [95% CI]", exact),
        ("normalised exact-match rate", _format(summary["exact_match_norm_rate"])),
        ("mean relaxed F1", _format(summary["mean_relaxed_f1"])),
        ("mean synonym F1", _format(summary["mean_synonym_f1"])),
        ("trivial-name rate", _format(summary["trivial_rate"])),
        ("leak share", _format(summary["leak_share"])),
        ("cost (USD)", _format(summary["cost_usd"], 4)),
        (
            "input / output tokens",
            f"{summary['input_tokens']:.0f} / {summary['output_tokens']:.0f}",
        ),
    ]


def render_experiment_report(session: Session, experiment_id: str) -> str:
    """Render the HTML report of one experiment.

    Shows its config, outcome counts, mean token F1 and exact-match rate
    with bootstrap 95% intervals, a per-program table, a histogram of token
    F1 and the best and worst predictions next to the true names. Raises
    `reforge.errors.NotFoundError` for an unknown experiment.
    """
    config = get_experiment(session, experiment_id)
    scores = load_score_frame(session, [experiment_id])
    stored = session.scalar(
        select(func.count(Result.id)).where(Result.experiment_id == experiment_id)
    )
    summary = summarise_outcomes(scores)
    answered = scores[scores["answered"]]

    histogram = None
    if not answered.empty:
        png = f1_histogram_png(
            answered["token_f1"].tolist(), f"{experiment_id}: token F1 of answered results"
        )
        histogram = _data_uri(png)
    best, worst = best_and_worst(scores, EXAMPLES_PER_TABLE)
    programs = program_table(scores)[list(PROGRAM_COLUMNS)]

    unscored = (stored or 0) - len(scores)
    if unscored:
        logger.info(
            "experiment %s has %d results without a score of version %s",
            experiment_id,
            unscored,
            SCORER_VERSION,
        )
    template = template_environment().get_template("experiment.html")
    return template.render(
        experiment_id=experiment_id,
        config=config.model_dump(mode="json"),
        scorer_version=SCORER_VERSION,
        stored=stored or 0,
        unscored=unscored,
        headline=_headline(summary),
        n_answered=len(answered),
        n_functions=summary["n_functions"],
        histogram=histogram,
        programs=frame_to_html(programs),
        best=frame_to_html(best),
        worst=frame_to_html(worst),
        failure_note=FAILURE_NOTE,
    )
