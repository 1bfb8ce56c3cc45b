"""Token metrics: precision, recall and F1 of a predicted name's tokens against the true name's.

Three variants share one counting scheme and differ only in when a predicted
token matches a true token:

- `token_scores`: the tokens are equal. This is the subtoken precision/recall/F1
  that method-name and function-name prediction work reports; SymLM's public
  evaluation script (Jin et al., CCS 2022; ``training_evaluation/evaluation.py``
  in the OSUSecLab/SymLM repository) computes it over word sets.
- `relaxed_token_scores`: equal, or one is a prefix or suffix of the other and
  the shorter is at least two characters long (``buf``/``buffer``).
- `synonym_token_scores`: equal after mapping both through the synonym table
  (``init``/``initialize``, ``cnt``/``count``; see `reforge.scoring.synonyms`).

Counting is over multisets, not sets: a token repeated in the prediction
must be matched by as many copies in the truth. With ``matched`` the size of
the multiset intersection (or of a maximum one-to-one matching, for the
relaxed variant)::

    precision = matched / len(pred_tokens)
    recall    = matched / len(truth_tokens)
    f1        = 2 * precision * recall / (precision + recall)   (0 when both are 0)

``get_get_value`` against ``get_value`` therefore scores precision 2/3,
recall 1 and F1 0.8, where set counting would give 1.0.

Empty sides: an empty prediction against a non-empty truth scores 0 on every
metric, and so does a non-empty prediction against an empty truth. When both
are empty every metric is 1.0, following the SQuAD convention that an empty
prediction matches an empty reference. A true name always has tokens unless it has no letters
or digits at all.

Every function accepts names (split with `split_name_tokens`) or token
sequences that are already split.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from reforge.scoring.synonyms import SynonymTable, load_synonym_table
from reforge.scoring.tokens import split_name_tokens

RELAXED_MIN_LENGTH = 2
"""Shortest token that may match a longer token as its prefix or suffix."""


@dataclass(frozen=True, slots=True)
class TokenScores:
    """Precision, recall and F1 of one prediction, each in [0, 1]."""

    precision: float
    recall: float
    f1: float


def token_scores(pred: str | Sequence[str], truth: str | Sequence[str]) -> TokenScores:
    """Score exact token overlap between a prediction and the true name (multiset counting)."""
    pred_tokens = _as_tokens(pred)
    truth_tokens = _as_tokens(truth)
    matched = sum((Counter(pred_tokens) & Counter(truth_tokens)).values())
    return _scores_from_counts(matched, len(pred_tokens), len(truth_tokens))


def relaxed_token_scores(
    pred: str | Sequence[str],
    truth: str | Sequence[str],
    *,
    min_length: int = RELAXED_MIN_LENGTH,
) -> TokenScores:
    """Score token overlap where a prefix or suffix of length >= `min_length` also matches.

    A predicted token matches a true token when both are equal, or when the
    shorter one is at least `min_length` characters long and is a prefix or a
    suffix of the longer one. So ``buf`` matches ``buffer``, ``init`` matches
    ``initialize`` and ``str`` matches ``string``, but ``s`` does not match
    ``str``. Each token takes part in at most one match, and ``matched`` is
    the size of a maximum one-to-one matching between the two token lists.

    The rule is lenient by design and also accepts unrelated pairs such as
    ``set``/``reset`` or ``in``/``init``, so read it as an upper bound next
    to the exact and synonym variants.

    NOTE: no published definition of this exact rule was verified; treat the
    variant as reforge's own lenient reading of abbreviation-tolerant
    evaluations such as SymLM's word-cluster matching.
    """
    pred_tokens = _as_tokens(pred)
    truth_tokens = _as_tokens(truth)
    if not pred_tokens or not truth_tokens:
        return _scores_from_counts(0, len(pred_tokens), len(truth_tokens))

    # A maximum bipartite matching, found as an assignment that maximises the
    # number of matching (pred, truth) pairs.
    allowed = np.array(
        [[_relaxed_match(p, t, min_length) for t in truth_tokens] for p in pred_tokens],
        dtype=float,
    )
    rows, cols = linear_sum_assignment(allowed, maximize=True)
    matched = int(allowed[rows, cols].sum())
    return _scores_from_counts(matched, len(pred_tokens), len(truth_tokens))


def synonym_token_scores(
    pred: str | Sequence[str],
    truth: str | Sequence[str],
    *,
    table: SynonymTable | None = None,
) -> TokenScores:
    """Score token overlap after mapping both sides to canonical words of the synonym table.

    `table` defaults to the built-in ``synonyms.toml``. Counting is the same
    multiset intersection as `token_scores`, on the canonical words.
    """
    synonyms = table if table is not None else load_synonym_table()
    return token_scores(
        synonyms.canonicalise(_as_tokens(pred)), synonyms.canonicalise(_as_tokens(truth))
    )


def _as_tokens(name_or_tokens: str | Sequence[str]) -> list[str]:
    # A str is itself a Sequence[str] of characters, so test for it first.
    if isinstance(name_or_tokens, str):
        return split_name_tokens(name_or_tokens)
    return list(name_or_tokens)


def _relaxed_match(pred_token: str, truth_token: str, min_length: int) -> bool:
    if pred_token == truth_token:
        return True
    shorter, longer = sorted((pred_token, truth_token), key=len)
    if len(shorter) < min_length:
        return False
    return longer.startswith(shorter) or longer.endswith(shorter)


def _scores_from_counts(matched: int, n_pred: int, n_truth: int) -> TokenScores:
    if n_pred == 0 and n_truth == 0:
        return TokenScores(precision=1.0, recall=1.0, f1=1.0)
    if n_pred == 0 or n_truth == 0 or matched == 0:
        return TokenScores(precision=0.0, recall=0.0, f1=0.0)

    precision = matched / n_pred
    recall = matched / n_truth
    f1 = 2 * precision * recall / (precision + recall)
    return TokenScores(precision=precision, recall=recall, f1=f1)
