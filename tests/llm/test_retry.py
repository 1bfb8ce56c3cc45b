"""The retry loop, driven by real provider calls against the scripted server."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import pytest

from reforge.errors import (
    ModelApiError,
    PermanentModelError,
    RateLimitError,
    TransientModelError,
)
from reforge.llm.providers import ModelReply, ModelRequest
from reforge.llm.providers.openai_compat import OpenAICompatibleProvider
from reforge.llm.retry import RetryKind, RetryPolicy, call_with_retries
from reforge.llm.scripted_server import (
    ScriptedServer,
    error_in_body,
    http_error,
    rate_limit,
    server_error,
)

MODEL = "openai/gpt-4o-mini"


class SleepRecorder:
    """Stands in for asyncio.sleep: records each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@pytest.fixture
def sleep() -> SleepRecorder:
    return SleepRecorder()


def _call(provider: OpenAICompatibleProvider, prompt: str) -> Callable[[], Awaitable[ModelReply]]:
    request = ModelRequest(model=MODEL, prompt=prompt)
    return lambda: provider.generate(request)


async def test_retry_after_is_honoured(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    sleep: SleepRecorder,
) -> None:
    server.enqueue(rate_limit(retry_after=1))
    policy = RetryPolicy(base_delay=0.01, max_delay=30)
    outcome = await call_with_retries(_call(openrouter, c_prompt), policy, sleep=sleep)
    assert outcome.value.text == "usage_config"
    assert outcome.attempts == 2
    assert outcome.rate_limit_retries == 1
    assert outcome.transient_retries == 0
    assert len(sleep.delays) == 1
    assert sleep.delays[0] >= 1.0
    assert server.request_count == 2


async def test_retry_after_above_max_delay_stops(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    sleep: SleepRecorder,
) -> None:
    server.enqueue(rate_limit(retry_after=120))
    with pytest.raises(RateLimitError):
        await call_with_retries(_call(openrouter, c_prompt), RetryPolicy(max_delay=60), sleep=sleep)
    assert sleep.delays == []
    assert server.request_count == 1


async def test_retries_stop_at_max_attempts(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    sleep: SleepRecorder,
) -> None:
    server.enqueue(*(server_error(500) for _ in range(5)))
    policy = RetryPolicy(max_attempts=3, base_delay=0.5, max_delay=10)
    with pytest.raises(TransientModelError) as caught:
        await call_with_retries(_call(openrouter, c_prompt), policy, sleep=sleep)
    assert caught.value.status == 500
    assert server.request_count == 3
    assert len(sleep.delays) == 2
    assert sleep.delays[0] <= 0.5
    assert sleep.delays[1] <= 1.0


async def test_permanent_error_not_retried(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    sleep: SleepRecorder,
) -> None:
    server.enqueue(http_error(400, "temperature is not supported"))
    with pytest.raises(PermanentModelError) as caught:
        await call_with_retries(_call(openrouter, c_prompt), RetryPolicy(), sleep=sleep)
    assert caught.value.status == 400
    assert server.request_count == 1
    assert sleep.delays == []


async def test_error_in_200_is_retried(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    sleep: SleepRecorder,
) -> None:
    server.enqueue(error_in_body(502, "Upstream timed out"))
    outcome = await call_with_retries(_call(openrouter, c_prompt), RetryPolicy(), sleep=sleep)
    assert outcome.value.text == "usage_config"
    assert outcome.attempts == 2
    assert outcome.transient_retries == 1
    assert outcome.rate_limit_retries == 0
    assert server.request_count == 2


async def test_rate_limits_have_own_budget(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    sleep: SleepRecorder,
) -> None:
    server.enqueue(
        rate_limit(retry_after=0),
        rate_limit(retry_after=0),
        server_error(502),
        rate_limit(retry_after=0),
        server_error(503),
    )
    policy = RetryPolicy(max_attempts=3, max_rate_limit_retries=3, base_delay=0.01)
    outcome = await call_with_retries(_call(openrouter, c_prompt), policy, sleep=sleep)
    assert outcome.attempts == 6
    assert outcome.rate_limit_retries == 3
    assert outcome.transient_retries == 2
    assert server.request_count == 6


async def test_rate_limit_budget_exhausted(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    sleep: SleepRecorder,
) -> None:
    server.enqueue(*(rate_limit(retry_after=0) for _ in range(4)))
    policy = RetryPolicy(max_attempts=10, max_rate_limit_retries=2, base_delay=0.01)
    with pytest.raises(RateLimitError):
        await call_with_retries(_call(openrouter, c_prompt), policy, sleep=sleep)
    assert server.request_count == 3


async def test_retry_logged_before_sleep(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    api_key: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="reforge.llm.retry")
    warnings_at_sleep: list[int] = []

    async def sleep(delay: float) -> None:
        warnings_at_sleep.append(len(caplog.records))

    server.enqueue(server_error(503))
    await call_with_retries(
        _call(openrouter, c_prompt), RetryPolicy(base_delay=0.01), label=MODEL, sleep=sleep
    )
    assert warnings_at_sleep == [1]
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    message = record.getMessage()
    assert MODEL in message
    assert "attempt 1" in message
    assert "transient" in message
    assert "503" in message
    assert api_key not in message


async def test_on_retry_callback(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    sleep: SleepRecorder,
) -> None:
    calls: list[tuple[int, RetryKind, type[ModelApiError], float]] = []
    server.enqueue(rate_limit(retry_after=2), server_error(500))
    await call_with_retries(
        _call(openrouter, c_prompt),
        RetryPolicy(base_delay=0.01),
        on_retry=lambda attempt, kind, exc, delay: calls.append((attempt, kind, type(exc), delay)),
        sleep=sleep,
    )
    assert [(a, k, e) for a, k, e, _ in calls] == [
        (1, "rate_limit", RateLimitError),
        (2, "transient", TransientModelError),
    ]
    assert calls[0][3] >= 2.0
    assert [delay for *_, delay in calls] == sleep.delays


async def test_should_retry_veto(sleep: SleepRecorder) -> None:
    attempts = 0

    async def failing() -> ModelReply:
        nonlocal attempts
        attempts += 1
        raise TransientModelError("upstream hiccup", status=502)

    with pytest.raises(TransientModelError):
        await call_with_retries(failing, RetryPolicy(), should_retry=lambda exc: False, sleep=sleep)
    assert attempts == 1


async def test_attempt_timeout_is_transient(sleep: SleepRecorder) -> None:
    attempts = 0

    async def hanging() -> ModelReply:
        nonlocal attempts
        attempts += 1
        await asyncio.sleep(30)
        raise AssertionError("the attempt timeout did not fire")

    policy = RetryPolicy(max_attempts=2, attempt_timeout=0.05, base_delay=0.01)
    with pytest.raises(TransientModelError, match="timed out"):
        await call_with_retries(hanging, policy, sleep=sleep)
    assert attempts == 2
    assert len(sleep.delays) == 1


async def test_non_model_errors_propagate(sleep: SleepRecorder) -> None:
    async def broken() -> ModelReply:
        raise KeyError("programming error")

    with pytest.raises(KeyError):
        await call_with_retries(broken, RetryPolicy(), sleep=sleep)
    assert sleep.delays == []


def test_backoff_full_jitter_bounds() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=5.0)
    rng = random.Random(1234)
    for retry_index, ceiling in enumerate([1.0, 2.0, 4.0, 5.0, 5.0]):
        delays = [policy.backoff(retry_index, rng) for _ in range(200)]
        assert min(delays) >= 0.0
        assert max(delays) <= ceiling
        # Full jitter spreads over the whole range, not only near the ceiling.
        assert min(delays) < ceiling / 4


def test_backoff_without_jitter() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, jitter=False)
    assert [policy.backoff(i) for i in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_policy_rejects_zero_attempts() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
