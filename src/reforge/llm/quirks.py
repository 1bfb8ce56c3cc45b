"""Per-model request quirks: the one table of what each model needs or rejects in a request.

Models behind OpenAI-compatible APIs differ in the request fields they accept.
Reasoning models spend completion tokens on thinking, so a small ``max_tokens``
leaves them no room for the reply. Some of them reject ``temperature``. Only
some models support JSON mode. OpenAI's own API wants ``max_completion_tokens``
for its reasoning models. `apply_quirks` rewrites a chat-completions body
accordingly::

    body = apply_quirks("openai/gpt-5.1", {"model": "openai/gpt-5.1", "max_tokens": 64})

Rows are matched by shell-style glob on the model slug, case-insensitively, and
the first matching row wins, so specific patterns come before general ones. A
slug without a vendor prefix (as Ollama names models, ``deepseek-r1:14b``) is
also matched against the part of each pattern after the slash.

Sources for the request fields: OpenRouter's reasoning-tokens guide documents
``reasoning: {"effort": ...}`` and the ``reasoning`` field of the reply. OpenRouter's
API reference lists ``response_format: {"type": "json_object"}`` as supported
by some models only. OpenAI's API rejects ``temperature`` other than the default
for its o-series and GPT-5 reasoning models, and wants ``max_completion_tokens``
for them. Google's Gemini thinking guide says thinking cannot be disabled for
Gemini 3 Pro. DeepSeek's reasoning-model guide lists ``temperature`` and
``top_p`` as accepted but without effect for ``deepseek-reasoner`` (R1).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Literal

ReasoningEffort = Literal["minimal", "low", "medium", "high"]
Dialect = Literal["openrouter", "openai"]

# Reasoning tokens count as completion tokens, so reasoning models get at least
# this many. The value is an estimate for "low" effort on a short naming task.
REASONING_MAX_TOKENS_FLOOR = 4096


@dataclass(frozen=True, slots=True)
class ModelQuirks:
    """Request adjustments for the models whose slug matches `pattern`."""

    pattern: str
    """Shell-style glob over the lower-case model slug."""
    reasoning: bool = False
    """The model reasons before replying and may put text in a ``reasoning`` field."""
    reasoning_effort: ReasoningEffort | None = None
    """Effort sent as ``reasoning: {"effort": ...}``; None sends no effort setting."""
    include_reasoning: bool = False
    """Send ``include_reasoning: true`` so a router returns the reasoning text."""
    min_max_tokens: int | None = None
    """Lower bound applied to ``max_tokens``."""
    json_mode: bool = False
    """The model accepts ``response_format: {"type": "json_object"}``."""
    drop_params: frozenset[str] = frozenset()
    """Request fields the model rejects; they are removed."""
    token_param: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"
    """Name of the token limit on OpenAI's own API (the ``openai`` dialect)."""
    note: str = ""
    """Reason for the row's settings."""

    def matches(self, model: str) -> bool:
        """Return True if this row's pattern matches the whole slug `model`."""
        return fnmatchcase(model.strip().lower(), self.pattern)

    def matches_name(self, name: str) -> bool:
        """Return True if the part of the pattern after the vendor matches `name`.

        A pattern whose name part is only ``*`` matches no bare name, because it
        does not identify a model.
        """
        _, _, name_pattern = self.pattern.partition("/")
        return name_pattern not in ("", "*") and fnmatchcase(name.strip().lower(), name_pattern)


_SAMPLING = frozenset({"temperature", "top_p"})

QUIRKS: tuple[ModelQuirks, ...] = (
    # OpenAI reasoning models: GPT-5 family and o-series.
    ModelQuirks(
        "openai/gpt-5*-codex*",
        reasoning=True,
        reasoning_effort="low",
        min_max_tokens=REASONING_MAX_TOKENS_FLOOR,
        drop_params=_SAMPLING,
        token_param="max_completion_tokens",
        note="GPT-5.1-Codex(-Max): reasoning only; JSON mode not assumed, the prompt requests JSON",
    ),
    ModelQuirks(
        "openai/gpt-5*",
        reasoning=True,
        reasoning_effort="low",
        min_max_tokens=REASONING_MAX_TOKENS_FLOOR,
        json_mode=True,
        drop_params=_SAMPLING,
        token_param="max_completion_tokens",
        note="GPT-5 family: temperature other than 1 is rejected",
    ),
    ModelQuirks(
        "openai/o[0-9]*",
        reasoning=True,
        reasoning_effort="low",
        min_max_tokens=REASONING_MAX_TOKENS_FLOOR,
        json_mode=True,
        drop_params=_SAMPLING,
        token_param="max_completion_tokens",
        note="o1/o3/o4 series: temperature other than 1 is rejected",
    ),
    ModelQuirks("openai/gpt-4o*", json_mode=True, note="gpt-4o and gpt-4o-mini"),
    ModelQuirks("openai/*", json_mode=True),
    # DeepSeek: R1 always reasons and returns its thinking in `reasoning`.
    ModelQuirks(
        "deepseek/deepseek-r1*",
        reasoning=True,
        include_reasoning=True,
        min_max_tokens=REASONING_MAX_TOKENS_FLOOR,
        note="R1 always reasons; the DeepSeek API ignores temperature, other hosts honour it",
    ),
    ModelQuirks("deepseek/deepseek-v3*", json_mode=True, note="deepseek-v3.2 and v3.x chat"),
    ModelQuirks("deepseek/deepseek-chat*", json_mode=True),
    ModelQuirks("deepseek/deepseek-coder*", note="DeepSeek-Coder-V2; JSON mode depends on host"),
    # Google: Gemini 3 Pro thinks on every request; effort "low" keeps it short.
    ModelQuirks(
        "google/gemini-3*",
        reasoning=True,
        reasoning_effort="low",
        min_max_tokens=REASONING_MAX_TOKENS_FLOOR,
        json_mode=True,
        note="Gemini 3 Pro thinking cannot be switched off",
    ),
    ModelQuirks("google/gemini-*", json_mode=True),
    # Anthropic: extended thinking is off unless requested, so sampling settings apply.
    ModelQuirks("anthropic/*", note="no JSON mode; the prompt requests JSON instead"),
    ModelQuirks("qwen/qwen3-coder*", json_mode=True, note="non-thinking coder model"),
    ModelQuirks("meta-llama/llama-3*", note="JSON mode depends on the host OpenRouter picks"),
)

DEFAULT_QUIRKS = ModelQuirks("*")
"""Row used for models that no pattern matches: the request is sent unchanged."""


def quirks_for(model: str) -> ModelQuirks:
    """Return the first row of `QUIRKS` that matches `model`, or `DEFAULT_QUIRKS`."""
    for row in QUIRKS:
        if row.matches(model):
            return row
    if "/" not in model:
        for row in QUIRKS:
            if row.matches_name(model):
                return row
    return DEFAULT_QUIRKS


def apply_quirks(
    model: str, body: dict[str, Any], *, dialect: Dialect = "openrouter"
) -> dict[str, Any]:
    """Return a copy of the chat-completions `body` adjusted for `model`.

    `dialect` selects the spelling of reasoning settings and the token limit.
    ``openrouter`` sends ``reasoning: {...}`` and ``max_tokens``. ``openai``
    (OpenAI's API, vLLM and other OpenAI-compatible servers) sends
    ``reasoning_effort`` and the row's `token_param`.
    """
    quirks = quirks_for(model)
    adjusted = {key: value for key, value in body.items() if key not in quirks.drop_params}

    # JSON mode only where the model supports it. A JSON request must ask for JSON
    # in its prompt too.
    if not quirks.json_mode:
        adjusted.pop("response_format", None)

    # Reasoning models need room for their thinking and the reasoning settings.
    if quirks.min_max_tokens is not None:
        current = adjusted.get("max_tokens")
        if current is None or current < quirks.min_max_tokens:
            adjusted["max_tokens"] = quirks.min_max_tokens
    if quirks.reasoning:
        _add_reasoning_settings(adjusted, quirks, dialect)

    # OpenAI's API names the token limit differently for reasoning models.
    if dialect == "openai" and quirks.token_param != "max_tokens" and "max_tokens" in adjusted:
        adjusted[quirks.token_param] = adjusted.pop("max_tokens")
    return adjusted


def _add_reasoning_settings(body: dict[str, Any], quirks: ModelQuirks, dialect: Dialect) -> None:
    if dialect == "openrouter":
        if quirks.reasoning_effort is not None:
            body["reasoning"] = {"effort": quirks.reasoning_effort}
        if quirks.include_reasoning:
            body["include_reasoning"] = True
    elif quirks.reasoning_effort is not None:
        body["reasoning_effort"] = quirks.reasoning_effort
