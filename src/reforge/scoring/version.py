"""Version of the scoring rules, stored with every score.

``SCORER_VERSION`` is ``MAJOR.MINOR``:

- bump MAJOR when any value that the scorer already produces could change for
  some input: the tokeniser or normalisation rules, the trivial-name rules or
  `GENERIC_NAME_TOKENS`, a metric formula, the relaxed matching rule, or the
  built-in ``synonyms.toml``;
- bump MINOR when a new field or metric is added and every existing value
  stays the same.

Scores with different MAJOR versions are not comparable; rescore stored
results before putting them in one table.
"""

from __future__ import annotations

SCORER_VERSION = "1.0"
