"""Offline baselines: providers that name functions without a language model.

They give the result tables a floor to compare models against, need no
network, and report zero tokens and zero cost. Both read the same prompt text
a model gets and answer in text that `reforge.llm.parsing.parse_reply` parses
like a model's reply: a bare name, or for top-k and JSON requests
``{"candidates": [{"name": ..., "confidence": ...}, ...]}``.

- ``baseline-nn`` (`NearestNeighbourBaseline`) retrieves the most similar
  function of another program. It takes the code out of the prompt's C fence
  and turns it into TF-IDF vectors of lexical features: called functions,
  string literal words, constants and operators (see `reforge.llm.codetext`,
  which also drops the names the decompiler made up). The reply contains the
  names of the most cosine-similar training functions whose `group` differs
  from the request's.
- ``baseline-trivial`` (`TrivialBaseline`) always returns the most frequent
  name of the training set, again leaving out the request's own program.

Training rows are `TrainingExample` values: decompiled code of functions from
other programs with their true names. A request whose `group` is None
excludes nothing::

    baseline = get_provider("baseline-nn", examples=rows)
    reply = await baseline.generate(ModelRequest(model="baseline-nn", prompt=text, group="zlib"))
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from reforge.errors import PermanentModelError
from reforge.llm.codetext import code_tokens, extract_code, split_identifier
from reforge.llm.providers.base import ModelReply, ModelRequest, Provider


@dataclass(frozen=True, slots=True)
class TrainingExample:
    """One function with a known name, from a program other than those being evaluated."""

    text: str
    """Decompiled code, or a prompt that contains it in a C fence."""
    name: str
    """True function name."""
    group: str
    """Program the function comes from; a baseline never returns names of the request's group."""


@dataclass(frozen=True, slots=True)
class Neighbour:
    """A training function ranked by similarity to the query."""

    name: str
    group: str
    similarity: float


class _Baseline(Provider):
    is_baseline = True

    def _reply(
        self,
        request: ModelRequest,
        ranked: list[tuple[str, float]],
        raw: dict[str, Any],
        started: float,
    ) -> ModelReply:
        return ModelReply(
            text=_answer_text(request, ranked),
            reasoning=None,
            input_tokens=0,
            output_tokens=0,
            cost_usd=0.0,
            upstream_provider=None,
            model=self.name,
            finish_reason="stop",
            latency_ms=(time.perf_counter() - started) * 1000.0,
            raw={"baseline": self.name, **raw},
        )

    def max_connections(self) -> int:
        """Return a high limit: baselines run in-process and need no connection pool."""
        return 64


class NearestNeighbourBaseline(_Baseline):
    """Baseline that returns the names of the most similar training functions of other programs."""

    name = "baseline-nn"

    def __init__(self, examples: Iterable[TrainingExample] | None = None) -> None:
        self._names: list[str] = []
        self._groups: list[str] = []
        self._vocabulary: dict[str, int] = {}
        self._idf = np.zeros(0)
        # Column-wise sparse matrix: for each term, the rows that contain it and their weights.
        self._term_rows: list[np.ndarray] = []
        self._term_weights: list[np.ndarray] = []
        if examples is not None:
            self.fit(examples)

    @property
    def size(self) -> int:
        """Number of training functions."""
        return len(self._names)

    def fit(self, examples: Iterable[TrainingExample]) -> NearestNeighbourBaseline:
        """Index `examples`, replacing any earlier training set, and return self."""
        rows = list(examples)
        documents = [Counter(code_tokens(extract_code(row.text))) for row in rows]
        self._names = [row.name for row in rows]
        self._groups = [row.group for row in rows]

        # Vocabulary and smoothed inverse document frequency.
        document_frequency: Counter[str] = Counter()
        for counts in documents:
            document_frequency.update(counts.keys())
        self._vocabulary = {term: index for index, term in enumerate(sorted(document_frequency))}
        total = len(rows)
        self._idf = np.array(
            [math.log((1 + total) / (1 + document_frequency[t])) + 1.0 for t in self._vocabulary]
        )

        # L2-normalised TF-IDF rows, stored per term.
        postings: list[list[tuple[int, float]]] = [[] for _ in self._vocabulary]
        for row_index, counts in enumerate(documents):
            for term_index, weight in self._weights(counts).items():
                postings[term_index].append((row_index, weight))
        self._term_rows = [np.array([r for r, _ in p], dtype=np.int64) for p in postings]
        self._term_weights = [np.array([w for _, w in p], dtype=np.float64) for p in postings]
        return self

    def neighbours(self, code: str, *, exclude_group: str | None = None) -> list[Neighbour]:
        """Return training functions by decreasing cosine similarity to `code`.

        Rows of `exclude_group` are left out; ties keep training order.
        """
        similarities = np.zeros(self.size)
        for term_index, weight in self._weights(Counter(code_tokens(code))).items():
            similarities[self._term_rows[term_index]] += weight * self._term_weights[term_index]
        order = np.argsort(-similarities, kind="stable")
        return [
            Neighbour(self._names[i], self._groups[i], float(similarities[i]))
            for i in order
            if exclude_group is None or self._groups[i] != exclude_group
        ]

    async def generate(self, request: ModelRequest) -> ModelReply:
        """Return a reply with the `top_k` best distinct names of other programs' functions."""
        started = time.perf_counter()
        if self.size == 0:
            raise PermanentModelError(
                "baseline-nn has no training examples; pass examples= to get_provider"
            )
        code = extract_code(request.user_text)
        neighbours = self.neighbours(code, exclude_group=request.group)
        if not neighbours:
            raise PermanentModelError(
                f"baseline-nn has no training function outside group {request.group!r}; "
                "add examples from other programs"
            )
        ranked: list[tuple[str, float]] = []
        for neighbour in neighbours:
            if all(name != neighbour.name for name, _ in ranked):
                ranked.append((neighbour.name, round(max(neighbour.similarity, 0.0), 6)))
            if len(ranked) == request.top_k:
                break
        nearest = [
            {"name": n.name, "group": n.group, "similarity": round(n.similarity, 6)}
            for n in neighbours[: max(request.top_k, 5)]
        ]
        return self._reply(request, ranked, {"neighbours": nearest}, started)

    def _weights(self, counts: Counter[str]) -> dict[int, float]:
        """Return the L2-normalised TF-IDF weights of known terms, sublinear in the count."""
        weights = {
            self._vocabulary[term]: (1.0 + math.log(count)) * self._idf[self._vocabulary[term]]
            for term, count in counts.items()
            if term in self._vocabulary
        }
        norm = math.sqrt(sum(value * value for value in weights.values()))
        if norm == 0.0:
            return {}
        return {index: value / norm for index, value in weights.items()}


class TrivialBaseline(_Baseline):
    """Baseline that returns the most frequent training names, ignoring the code."""

    name = "baseline-trivial"

    def __init__(self, examples: Iterable[TrainingExample] | None = None) -> None:
        self._by_group: dict[str, Counter[str]] = {}
        self._total: Counter[str] = Counter()
        if examples is not None:
            self.fit(examples)

    def fit(self, examples: Iterable[TrainingExample]) -> TrivialBaseline:
        """Count the normalised names of `examples` per group and return self.

        Names are normalised to lower-case snake_case of their words, so
        ``getValue`` and ``get_value`` count as one pattern.
        """
        self._by_group = {}
        self._total = Counter()
        for row in examples:
            pattern = "_".join(split_identifier(row.name)) or row.name
            self._by_group.setdefault(row.group, Counter())[pattern] += 1
            self._total[pattern] += 1
        return self

    def most_common(self, k: int, *, exclude_group: str | None = None) -> list[tuple[str, float]]:
        """Return the `k` most frequent name patterns with their relative frequency."""
        counts = Counter(self._total)
        if exclude_group is not None and exclude_group in self._by_group:
            counts.subtract(self._by_group[exclude_group])
        counts = Counter({name: count for name, count in counts.items() if count > 0})
        total = sum(counts.values())
        # Sort by count, then by name, so that ties give the same answer on every run.
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [(name, round(count / total, 6)) for name, count in ranked]

    async def generate(self, request: ModelRequest) -> ModelReply:
        """Return a reply with the most frequent name patterns outside the request's program."""
        started = time.perf_counter()
        ranked = self.most_common(request.top_k, exclude_group=request.group)
        if not ranked:
            raise PermanentModelError(
                "baseline-trivial has no training names outside group "
                f"{request.group!r}; pass examples= to get_provider"
            )
        return self._reply(request, ranked, {}, started)


def _answer_text(request: ModelRequest, ranked: list[tuple[str, float]]) -> str:
    """Write the answer in the shape the prompt asked for."""
    if request.top_k == 1 and request.response_format == "text":
        return ranked[0][0]
    if request.top_k == 1:
        return json.dumps({"name": ranked[0][0]})
    candidates = [{"name": name, "confidence": score} for name, score in ranked]
    return json.dumps({"candidates": candidates})
