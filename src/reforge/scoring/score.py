"""Score of one model reply: every metric of one predicted name against the true name.

Scoring runs after the fact and reads only the predicted name(s), the true
name and the function's leak flag, never the prompt::

    score = score_prediction("parseHeader", "parse_header")
    score.exact_match, score.exact_match_norm, score.token_f1  # False, True, 1.0

An attempt that produced no name (the reply could not be parsed, or the
provider call failed) keeps its own outcome and gets None for every metric.
It is never scored as an empty prediction, so failures do not drag the F1
averages down and can be counted separately.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from reforge.scoring.metrics import relaxed_token_scores, synonym_token_scores, token_scores
from reforge.scoring.synonyms import SynonymTable
from reforge.scoring.tokens import is_trivial_prediction, normalise_name, split_name_tokens
from reforge.scoring.version import SCORER_VERSION

Outcome = Literal["answered", "parse_failure", "provider_failure"]
OUTCOMES: tuple[Outcome, ...] = get_args(Outcome)


@dataclass(frozen=True, slots=True)
class Score:
    """All metrics of one model reply; metric fields are None unless `outcome` is ``answered``."""

    outcome: Outcome
    """``answered``, or the failure that left no name to score."""
    exact_match: bool | None
    """The predicted name equals the true name character for character."""
    exact_match_norm: bool | None
    """The names are equal after `normalise_name` (case, separators, camelCase)."""
    token_precision: float | None
    """Share of predicted tokens found among the true tokens (multiset counting)."""
    token_recall: float | None
    """Share of true tokens found among the predicted tokens (multiset counting)."""
    token_f1: float | None
    """Harmonic mean of `token_precision` and `token_recall`."""
    relaxed_precision: float | None
    """Precision where prefix/suffix matches of two or more characters also count."""
    relaxed_recall: float | None
    """Recall where prefix/suffix matches of two or more characters also count."""
    relaxed_f1: float | None
    """F1 where prefix/suffix matches of two or more characters also count."""
    synonym_precision: float | None
    """Precision after mapping tokens through the synonym table."""
    synonym_recall: float | None
    """Recall after mapping tokens through the synonym table."""
    synonym_f1: float | None
    """F1 after mapping tokens through the synonym table."""
    is_trivial: bool | None
    """The prediction is a placeholder or generic name and not the true name."""
    topk_best_f1: float | None
    """Highest `token_f1` over the rank-1 name and all candidates; None without candidates."""
    topk_exact_any: bool | None
    """Some name among rank 1 and the candidates matches after normalisation."""
    topk_uplift: float | None
    """``topk_best_f1 - token_f1``: what the alternatives add over rank 1 (>= 0)."""
    leak: bool
    """The true name survives in the text the model read; copied from the caller."""
    pred_tokens: tuple[str, ...] | None
    """Tokens of the rank-1 prediction; None when no name was returned."""
    truth_tokens: tuple[str, ...]
    """Tokens of the true name."""
    scorer_version: str
    """`SCORER_VERSION` of the code that computed this score."""

    def to_dict(self) -> dict[str, Any]:
        """Return the score as a JSON-ready dict, token tuples as lists."""
        result: dict[str, Any] = {name: getattr(self, name) for name in self.__dataclass_fields__}
        result["pred_tokens"] = None if self.pred_tokens is None else list(self.pred_tokens)
        result["truth_tokens"] = list(self.truth_tokens)
        return result


def score_prediction(
    pred_name: str | None,
    truth_name: str,
    *,
    candidates: Sequence[str] = (),
    outcome: Outcome = "answered",
    leak: bool = False,
    synonym_table: SynonymTable | None = None,
) -> Score:
    """Score one model reply against the true name.

    `pred_name` is the rank-1 name; None with outcome ``answered`` counts as
    an empty prediction (every metric 0, trivial). `candidates` are the
    model's ranked alternatives from a top-k reply. Rank 1 always takes part
    in the top-k metrics, whether or not `candidates` repeats it, and the
    top-k metrics stay None when `candidates` is empty. `leak` is stored
    unchanged for every outcome. `synonym_table` defaults to the built-in
    table.

    Raises ValueError for an `outcome` outside ``answered``,
    ``parse_failure`` and ``provider_failure``, and TypeError when
    `candidates` is a single string instead of a sequence of names.
    """
    if outcome not in OUTCOMES:
        raise ValueError(
            f"unknown outcome {outcome!r} for scoring; use one of {', '.join(OUTCOMES)}"
        )
    if isinstance(candidates, str):
        raise TypeError(
            f"candidates must be a sequence of names, got the string {candidates!r}; "
            "wrap a single name in a list"
        )
    truth_tokens = tuple(split_name_tokens(truth_name))
    if outcome != "answered":
        return _unanswered_score(outcome, truth_tokens, leak)

    # Rank-1 metrics.
    prediction = pred_name or ""
    pred_tokens = tuple(split_name_tokens(prediction))
    truth_norm = normalise_name(truth_name)
    exact_norm = _matches_normalised(prediction, truth_norm)
    plain = token_scores(pred_tokens, truth_tokens)
    relaxed = relaxed_token_scores(pred_tokens, truth_tokens)
    synonym = synonym_token_scores(pred_tokens, truth_tokens, table=synonym_table)

    # Top-k metrics over rank 1 plus the alternatives.
    topk_best_f1: float | None = None
    topk_exact_any: bool | None = None
    topk_uplift: float | None = None
    if candidates:
        candidate_f1 = [token_scores(name or "", truth_tokens).f1 for name in candidates]
        topk_best_f1 = max(plain.f1, *candidate_f1)
        topk_exact_any = exact_norm or any(
            _matches_normalised(name or "", truth_norm) for name in candidates
        )
        topk_uplift = topk_best_f1 - plain.f1

    return Score(
        outcome=outcome,
        exact_match=pred_name is not None and pred_name == truth_name,
        exact_match_norm=exact_norm,
        token_precision=plain.precision,
        token_recall=plain.recall,
        token_f1=plain.f1,
        relaxed_precision=relaxed.precision,
        relaxed_recall=relaxed.recall,
        relaxed_f1=relaxed.f1,
        synonym_precision=synonym.precision,
        synonym_recall=synonym.recall,
        synonym_f1=synonym.f1,
        is_trivial=is_trivial_prediction(pred_name) and not exact_norm,
        topk_best_f1=topk_best_f1,
        topk_exact_any=topk_exact_any,
        topk_uplift=topk_uplift,
        leak=leak,
        pred_tokens=pred_tokens,
        truth_tokens=truth_tokens,
        scorer_version=SCORER_VERSION,
    )


def _matches_normalised(name: str, truth_norm: str) -> bool:
    # An empty normalised prediction never counts as a match, even against an
    # empty normalised truth.
    name_norm = normalise_name(name)
    return name_norm != "" and name_norm == truth_norm


def _unanswered_score(outcome: Outcome, truth_tokens: tuple[str, ...], leak: bool) -> Score:
    return Score(
        outcome=outcome,
        exact_match=None,
        exact_match_norm=None,
        token_precision=None,
        token_recall=None,
        token_f1=None,
        relaxed_precision=None,
        relaxed_recall=None,
        relaxed_f1=None,
        synonym_precision=None,
        synonym_recall=None,
        synonym_f1=None,
        is_trivial=None,
        topk_best_f1=None,
        topk_exact_any=None,
        topk_uplift=None,
        leak=leak,
        pred_tokens=None,
        truth_tokens=truth_tokens,
        scorer_version=SCORER_VERSION,
    )
