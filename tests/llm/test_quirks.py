"""The per-model request quirks table, on its own and as sent over HTTP."""

from __future__ import annotations

import pytest

from reforge.llm.providers import ModelRequest
from reforge.llm.providers.openai_compat import OpenAICompatibleProvider
from reforge.llm.quirks import (
    DEFAULT_QUIRKS,
    REASONING_MAX_TOKENS_FLOOR,
    apply_quirks,
    quirks_for,
)
from reforge.llm.scripted_server import ScriptedServer


def _body(model: str, **extra: object) -> dict[str, object]:
    return {
        "model": model,
        "messages": [{"role": "user", "content": "name it"}],
        "temperature": 0.0,
        "max_tokens": 64,
        **extra,
    }


# The 13 models of the benchmark catalog: (slug, reasoning model, JSON mode).
SEED_MODELS = [
    ("openai/gpt-4o-mini", False, True),
    ("openai/gpt-4o", False, True),
    ("anthropic/claude-3.5-sonnet", False, False),
    ("meta-llama/llama-3.1-70b-instruct", False, False),
    ("deepseek/deepseek-coder", False, False),
    ("deepseek/deepseek-v3.2", False, True),
    ("deepseek/deepseek-r1", True, False),
    ("qwen/qwen3-coder", False, True),
    ("anthropic/claude-sonnet-4.5", False, False),
    ("google/gemini-3-pro-preview", True, True),
    ("openai/gpt-5.1", True, True),
    ("openai/gpt-5.1-codex-max", True, False),
    ("anthropic/claude-opus-4.6", False, False),
]


@pytest.mark.parametrize(
    ("model", "reasoning", "json_mode"), SEED_MODELS, ids=[m[0] for m in SEED_MODELS]
)
def test_seed_models_have_rows(model: str, reasoning: bool, json_mode: bool) -> None:
    quirks = quirks_for(model)
    assert quirks is not DEFAULT_QUIRKS
    assert quirks.reasoning is reasoning
    assert quirks.json_mode is json_mode


def test_reasoning_model_openrouter() -> None:
    body = apply_quirks("openai/gpt-5.1", _body("openai/gpt-5.1", top_p=0.9))
    assert "temperature" not in body
    assert "top_p" not in body
    assert body["reasoning"] == {"effort": "low"}
    assert body["max_tokens"] == REASONING_MAX_TOKENS_FLOOR
    assert "max_completion_tokens" not in body


def test_reasoning_model_openai_dialect() -> None:
    body = apply_quirks("openai/o3-mini", _body("openai/o3-mini"), dialect="openai")
    assert "temperature" not in body
    assert "max_tokens" not in body
    assert body["max_completion_tokens"] == REASONING_MAX_TOKENS_FLOOR
    assert body["reasoning_effort"] == "low"
    assert "reasoning" not in body


def test_larger_max_tokens_kept() -> None:
    body = apply_quirks("openai/gpt-5.1", _body("openai/gpt-5.1", max_tokens=20000))
    assert body["max_tokens"] == 20000


def test_r1_keeps_temperature_and_asks_for_reasoning() -> None:
    body = apply_quirks("deepseek/deepseek-r1", _body("deepseek/deepseek-r1"))
    assert body["temperature"] == 0.0
    assert body["include_reasoning"] is True
    assert body["max_tokens"] == REASONING_MAX_TOKENS_FLOOR


def test_json_mode_kept_where_supported() -> None:
    json_format = {"type": "json_object"}
    kept = apply_quirks("openai/gpt-4o-mini", _body("m", response_format=json_format))
    dropped = apply_quirks("anthropic/claude-sonnet-4.5", _body("m", response_format=json_format))
    assert kept["response_format"] == json_format
    assert "response_format" not in dropped
    assert dropped["temperature"] == 0.0


def test_codex_before_gpt5_row() -> None:
    assert quirks_for("openai/gpt-5.1-codex-max").pattern == "openai/gpt-5*-codex*"
    assert quirks_for("openai/gpt-5.1").pattern == "openai/gpt-5*"


def test_mini_matches_gpt4o_row() -> None:
    assert quirks_for("OpenAI/GPT-4o-mini").pattern == "openai/gpt-4o*"


def test_local_slug_without_vendor() -> None:
    assert quirks_for("deepseek-r1:14b").pattern == "deepseek/deepseek-r1*"
    assert quirks_for("qwen3-coder:30b").pattern == "qwen/qwen3-coder*"


def test_unknown_model_unchanged() -> None:
    body = _body("acme/tiny-model")
    assert quirks_for("acme/tiny-model") is DEFAULT_QUIRKS
    assert apply_quirks("acme/tiny-model", body) == body


def test_input_not_mutated() -> None:
    body = _body("openai/gpt-5.1")
    copy = dict(body)
    apply_quirks("openai/gpt-5.1", body)
    assert body == copy


async def test_quirks_sent_over_http(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str
) -> None:
    await openrouter.generate(ModelRequest(model="openai/gpt-5.1", prompt=c_prompt, max_tokens=32))
    await openrouter.generate(
        ModelRequest(model="openai/gpt-4o-mini", prompt=c_prompt, response_format="json")
    )
    reasoning_body, json_body = (recorded.body for recorded in server.requests)
    assert "temperature" not in reasoning_body
    assert reasoning_body["reasoning"] == {"effort": "low"}
    assert reasoning_body["max_tokens"] == REASONING_MAX_TOKENS_FLOOR
    assert json_body["response_format"] == {"type": "json_object"}
    assert json_body["temperature"] == 0.0
