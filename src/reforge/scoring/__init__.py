"""Scoring: compare a predicted function name with the true name, after the fact.

Scoring reads ground truth and never the prompt. Its pieces:

- `reforge.scoring.tokens`: name tokens, normalisation, trivial predictions;
- `reforge.scoring.metrics`: token precision/recall/F1 in three variants
  (exact, relaxed prefix/suffix, synonym-aware);
- `reforge.scoring.synonyms`: the editable synonym table ``synonyms.toml``;
- `reforge.scoring.score`: `score_prediction`, every metric of one model reply;
- `reforge.scoring.version`: `SCORER_VERSION` and the rule for bumping it
  (MAJOR when an existing value could change, MINOR when only fields are added).

Usage::

    from reforge.scoring import score_prediction
    score_prediction("init_buf", "buffer_init").synonym_f1  # 1.0
"""

from __future__ import annotations

from reforge.scoring.metrics import (
    RELAXED_MIN_LENGTH,
    TokenScores,
    relaxed_token_scores,
    synonym_token_scores,
    token_scores,
)
from reforge.scoring.score import OUTCOMES, Outcome, Score, score_prediction
from reforge.scoring.synonyms import (
    SynonymTable,
    SynonymTableError,
    load_synonym_table,
    parse_synonym_table,
)
from reforge.scoring.tokens import (
    GENERIC_NAME_TOKENS,
    is_trivial_prediction,
    normalise_name,
    split_name_tokens,
)
from reforge.scoring.version import SCORER_VERSION

__all__ = [
    "GENERIC_NAME_TOKENS",
    "OUTCOMES",
    "RELAXED_MIN_LENGTH",
    "SCORER_VERSION",
    "Outcome",
    "Score",
    "SynonymTable",
    "SynonymTableError",
    "TokenScores",
    "is_trivial_prediction",
    "load_synonym_table",
    "normalise_name",
    "parse_synonym_table",
    "relaxed_token_scores",
    "score_prediction",
    "split_name_tokens",
    "synonym_token_scores",
    "token_scores",
]
