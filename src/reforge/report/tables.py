"""Report tables: the figures' numbers written as CSV, LaTeX and inline HTML.

CSV files keep full precision so other tools can recompute from them. The
LaTeX (``DataFrame.to_latex``, booktabs rules, underscores escaped) and HTML
versions round floats to three decimals and show missing values as a dash::

    table = write_table(ranking, out_dir, "model_ranking", title="Model ranking",
                        caption="...")
    table.csv_path, table.tex_path, table.html()
"""

from __future__ import annotations

import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from reforge.report.analysis import Analysis

logger = logging.getLogger(__name__)

FLOAT_FORMAT = "%.3f"
MISSING = "–"

RANKING_CAPTION = (
    "One row per model. n_answered, n_parse_failures and n_provider_failures count results by "
    "outcome. Every mean and rate is over answered results only, so failures never lower it. "
    "Intervals are percentile-bootstrap 95% intervals (2000 resamples, fixed seed). leak_share "
    "is the share of all results whose function name appears in the text the model read. "
    "cost_usd and the token sums include failed calls, and f1_per_dollar is the sum of token "
    "F1 over answered results divided by cost_usd."
)
OPT_CAPTION = (
    "One row per model and opt level of the function's build, with the columns of the model "
    "ranking. Different levels hold different functions; the statistical tests pair them."
)
TESTS_CAPTION = (
    "wilcoxon_opt is the one-sided Wilcoxon signed-rank test of H1 'token F1 at O0 exceeds "
    "O3' on each model's stable-key cohort, with the rank-biserial r as effect size. "
    "friedman_opt is the Friedman test across the opt levels on the same cohort, with "
    "Kendall's W. wilcoxon_context tests one-sided that the higher context level scores "
    "higher, on functions answered at both levels. mcnemar_exact compares the exact-match "
    "rates of two models on their shared results. p_holm is Holm-adjusted over the models of "
    "each test and comparison. When a test is undefined its statistics are empty and note "
    "gives the reason."
)
FUNNEL_CAPTION = (
    "Per opt level: concrete DWARF functions, those with a code range, those with a range but "
    "no joined row, then for each GOLD gate the functions with a range that pass it and every "
    "gate before it, and the tier counts over all DWARF functions."
)
TRANSITIONS_CAPTION = (
    "Stable keys by their tier at O0 (from_tier) and at a higher level (to_tier), in programs "
    "built at both levels. absent means no DWARF function has that key at that level."
)
TOPK_CAPTION = (
    "Answered results that returned ranked candidates: mean token F1 of rank 1 and of the best "
    "candidate, their difference (uplift), and the exact-match rates of rank 1 and of any "
    "candidate."
)

_LATEX_SPECIAL = re.compile(r"([\\&%$#_{}~^])")
_LATEX_REPLACEMENTS = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\^{}"}


def latex_escape(text: str) -> str:
    """Escape the characters LaTeX treats specially (``_``, ``%``, ``&`` and others)."""
    return _LATEX_SPECIAL.sub(
        lambda match: _LATEX_REPLACEMENTS.get(match.group(1), "\\" + match.group(1)), text
    )


@dataclass(frozen=True, slots=True)
class Table:
    """One report table and the files it was written to."""

    name: str
    """File stem and HTML anchor."""
    title: str
    caption: str
    frame: pd.DataFrame
    csv_path: Path
    tex_path: Path

    def html(self) -> str:
        """Return the table as an HTML ``<table>`` with rounded floats."""
        return frame_to_html(self.frame)


def frame_to_html(frame: pd.DataFrame) -> str:
    """Render a frame as an HTML ``<table>``: floats to three decimals, missing values a dash."""
    if frame.empty:
        return '<p class="empty">No rows.</p>'
    return frame.to_html(
        index=False,
        na_rep=MISSING,
        float_format=_format_float,
        classes="data",
        border=0,
        escape=True,
    )


def _format_float(value: float) -> str:
    if math.isnan(value):
        return MISSING
    return FLOAT_FORMAT % value


def _latex(frame: pd.DataFrame, name: str, title: str, caption: str) -> str:
    text = frame.to_latex(
        index=False,
        escape=True,
        na_rep="--",
        float_format=FLOAT_FORMAT,
        caption=latex_escape(f"{title}. {caption}"),
        label=f"tab:{name.replace('_', '-')}",
    )
    return text


def write_table(
    frame: pd.DataFrame, out_dir: Path, name: str, *, title: str, caption: str
) -> Table:
    """Write `frame` to ``out_dir/name.csv`` and ``out_dir/name.tex`` and return the `Table`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / f"{name}.csv"
    tex_path = out_dir / f"{name}.tex"
    frame.to_csv(csv_path, index=False)
    tex_path.write_text(_latex(frame, name, title, caption), encoding="utf-8")
    logger.debug("wrote table %s (%d rows) to %s", name, len(frame), out_dir)
    return Table(name, title, caption, frame, csv_path, tex_path)


def write_report_tables(analysis: Analysis, out_dir: Path) -> list[Table]:
    """Write every table of the report into `out_dir`, also those without rows."""
    specs = (
        ("model_ranking", "Model ranking", analysis.ranking, RANKING_CAPTION),
        (
            "model_ranking_gold",
            "Model ranking, GOLD functions",
            analysis.gold_ranking,
            RANKING_CAPTION + " Only functions in the GOLD tier.",
        ),
        ("opt_levels", "Models by opt level", analysis.opt_summary, OPT_CAPTION),
        ("statistical_tests", "Statistical tests", analysis.paired.tests, TESTS_CAPTION),
        ("funnel", "Confidence funnel", analysis.funnel, FUNNEL_CAPTION),
        ("tier_transitions", "Tier transitions", analysis.transitions, TRANSITIONS_CAPTION),
        ("topk", "Top-k uplift", analysis.topk, TOPK_CAPTION),
    )
    return [
        write_table(frame, out_dir, name, title=title, caption=caption)
        for name, title, frame, caption in specs
    ]
