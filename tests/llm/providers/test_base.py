"""The provider interface, its request and reply types, and the registry by name."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from reforge.errors import ConfigError, TransientModelError
from reforge.llm.providers import (
    ChatMessage,
    ModelReply,
    ModelRequest,
    Provider,
    get_provider,
    provider_names,
    register_provider,
    unregister_provider,
)
from reforge.llm.retry import RetryPolicy, call_with_retries


class FlakyProvider(Provider):
    """Fails with a transient error `failures` times, then echoes the prompt's length."""

    name = "fake-flaky"

    def __init__(self, failures: int = 0, answer: str = "fake_name") -> None:
        self.failures = failures
        self.answer = answer
        self.calls = 0

    async def generate(self, request: ModelRequest) -> ModelReply:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientModelError(f"fake failure {self.calls}", status=503)
        return ModelReply(text=self.answer, input_tokens=len(request.user_text))


@pytest.fixture
def fake_registered() -> Iterator[str]:
    register_provider("fake-flaky", FlakyProvider)
    yield "fake-flaky"
    unregister_provider("fake-flaky")


async def test_registered_fake_provider(fake_registered: str) -> None:
    provider = get_provider(fake_registered, failures=2, answer="scripted_answer")
    assert isinstance(provider, FlakyProvider)
    request = ModelRequest(model="fake/model", prompt="abcd")
    outcome = await call_with_retries(
        lambda: provider.generate(request), RetryPolicy(base_delay=0), sleep=_no_sleep
    )
    assert outcome.value.text == "scripted_answer"
    assert outcome.value.input_tokens == 4
    assert outcome.attempts == 3
    assert provider.calls == 3


async def _no_sleep(delay: float) -> None:
    return None


def test_registered_name_listed(fake_registered: str) -> None:
    assert fake_registered in provider_names()


def test_duplicate_registration_rejected(fake_registered: str) -> None:
    with pytest.raises(ConfigError, match="already registered"):
        register_provider(fake_registered, FlakyProvider)
    with pytest.raises(ConfigError, match="already registered"):
        register_provider("openrouter", FlakyProvider)
    register_provider(fake_registered, lambda: FlakyProvider(answer="replaced"), replace=True)
    provider = get_provider(fake_registered)
    assert isinstance(provider, FlakyProvider)
    assert provider.answer == "replaced"


def test_unknown_name_lists_known() -> None:
    with pytest.raises(ConfigError) as caught:
        get_provider("no-such-provider")
    message = str(caught.value)
    assert "'no-such-provider'" in message
    for name in ("openrouter", "openai-compatible", "openai", "baseline-nn", "baseline-trivial"):
        assert name in message


def test_alias_openai() -> None:
    provider = get_provider("openai", base_url="http://127.0.0.1:8000/v1")
    assert provider.name == "openai-compatible"
    assert not provider.is_baseline


def test_lookup_ignores_case() -> None:
    assert get_provider("Baseline-Trivial").name == "baseline-trivial"


def test_concrete_providers_imported_lazily() -> None:
    code = (
        "import sys\n"
        "from reforge.llm.providers import get_provider\n"
        "lazy = ('reforge.llm.providers.openai_compat', 'reforge.llm.providers.baseline', 'httpx',"
        " 'numpy')\n"
        "print(sorted(m for m in lazy if m in sys.modules))\n"
        "get_provider('baseline-trivial')\n"
        "print('reforge.llm.providers.baseline' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines() == ["[]", "True"]


def test_request_needs_prompt_or_messages() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ModelRequest(model="m")
    with pytest.raises(ValueError, match="exactly one"):
        ModelRequest(model="m", prompt="p", messages=(ChatMessage("user", "p"),))
    with pytest.raises(ValueError, match="top_k"):
        ModelRequest(model="m", prompt="p", top_k=0)


def test_request_messages() -> None:
    request = ModelRequest(model="m", prompt="code here", system="be brief")
    assert request.chat_messages() == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "code here"},
    ]
    conversation = ModelRequest(
        model="m",
        messages=(ChatMessage("system", "s"), ChatMessage("user", "u1"), ChatMessage("user", "u2")),
    )
    assert conversation.user_text == "u1\n\nu2"
    assert len(conversation.chat_messages()) == 3


def test_request_accepts_message_dicts() -> None:
    request = ModelRequest(model="m", messages=[{"role": "user", "content": "hi"}])  # type: ignore[arg-type]
    assert request.messages == (ChatMessage("user", "hi"),)
    with pytest.raises(ValueError, match="role"):
        ModelRequest(model="m", messages=[{"role": "robot", "content": "hi"}])  # type: ignore[arg-type]


def test_reply_round_trip() -> None:
    reply = ModelReply(
        text="t",
        reasoning="r",
        input_tokens=3,
        output_tokens=4,
        cost_usd=0.5,
        upstream_provider="OpenAI",
        model="openai/gpt-4o",
        finish_reason="stop",
        latency_ms=12.5,
        raw={"a": [1, 2]},
    )
    assert ModelReply.from_dict(reply.to_dict()) == reply


def test_reply_from_invalid_dict() -> None:
    with pytest.raises(ValueError, match="ModelReply"):
        ModelReply.from_dict({"text": None})
