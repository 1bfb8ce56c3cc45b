"""The report's analysis: every aggregate and test computed once from the loaded frames.

Figures and tables both render an `Analysis`, so a number in a figure and
the same number in a table cannot disagree::

    analysis = analyse(load_score_frame(session), load_funnel_frame(session),
                       load_tier_frame(session))
    analysis.ranking, analysis.paired.tests
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from reforge.report.aggregate import (
    model_opt_matrix,
    model_ranking,
    opt_table,
    tier_transition_table,
    topk_table,
)
from reforge.report.paired import PairedAnalysis, analyse_pairs


@dataclass(frozen=True, slots=True)
class Analysis:
    """Frames loaded from the store and everything derived from them."""

    scores: pd.DataFrame
    """`load_score_frame` output."""
    funnel: pd.DataFrame
    """`load_funnel_frame` output."""
    tiers: pd.DataFrame
    """`load_tier_frame` output."""
    ranking: pd.DataFrame
    """`model_ranking` over all tiers."""
    gold_ranking: pd.DataFrame
    """`model_ranking` over functions in the GOLD tier only."""
    opt_summary: pd.DataFrame
    """`opt_table`: one row per model and opt level."""
    opt_matrix: pd.DataFrame
    """Model labels x opt levels of mean token F1."""
    topk: pd.DataFrame
    """`topk_table` of answered results with candidates."""
    transitions: pd.DataFrame
    """`tier_transition_table` from O0 to each higher level."""
    paired: PairedAnalysis
    """Paired cohorts and statistical tests."""

    @property
    def has_results(self) -> bool:
        """True when at least one scored result exists."""
        return not self.scores.empty

    @property
    def n_functions(self) -> int:
        """Distinct DWARF functions with a scored result."""
        return int(self.scores["function_uid"].nunique())

    @property
    def n_models(self) -> int:
        """Distinct models with a scored result."""
        return int(self.scores["model"].nunique())

    @property
    def n_experiments(self) -> int:
        """Distinct experiments with a scored result."""
        return int(self.scores["experiment_id"].nunique())


def analyse(
    scores: pd.DataFrame,
    funnel: pd.DataFrame,
    tiers: pd.DataFrame,
    *,
    mcnemar_models: tuple[str | None, str | None] = (None, None),
) -> Analysis:
    """Compute every aggregate and test of the report from the loaded frames."""
    ranking = model_ranking(scores)
    gold_ranking = model_ranking(scores[scores["tier"] == "GOLD"])
    opt_summary = opt_table(scores)
    return Analysis(
        scores=scores,
        funnel=funnel,
        tiers=tiers,
        ranking=ranking,
        gold_ranking=gold_ranking,
        opt_summary=opt_summary,
        opt_matrix=model_opt_matrix(opt_summary, ranking["model_label"].tolist()),
        topk=topk_table(scores),
        transitions=tier_transition_table(tiers),
        paired=analyse_pairs(scores, ranking, mcnemar_models=mcnemar_models),
    )
