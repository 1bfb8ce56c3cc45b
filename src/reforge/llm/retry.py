"""Retries of model calls: exponential backoff with full jitter, honouring ``Retry-After``.

Every provider call goes through `call_with_retries`, so the retry rules live
in this one place::

    outcome = await call_with_retries(lambda: provider.generate(request), RetryPolicy())
    reply, attempts = outcome.value, outcome.attempts

Rules:

- A PermanentModelError is raised at once and never retried.
- RateLimitError (HTTP 429) and TransientModelError (5xx, timeouts, errors
  inside a 200 body) are retried. The two kinds have separate budgets and
  separate backoff counters: a burst of 429s does not use up the attempts
  meant for server failures.
- The delay is drawn uniformly from ``[0, min(max_delay, base_delay * 2**n))``
  ("full jitter"). When the error carries a ``Retry-After`` value, the delay is
  at least that value. If the server requests a wait longer than `max_delay`,
  the loop stops and raises that error, because it may neither retry early nor
  wait longer than the policy allows.
- Each retry is logged at WARNING before sleeping. Messages come from our own
  exception texts, which the providers build without secrets.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from reforge.errors import ModelApiError, RateLimitError, TransientModelError
from reforge.llm.providers.base import is_permanent, retry_after_of

logger = logging.getLogger(__name__)

RetryKind = Literal["rate_limit", "transient"]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Limits and delays of the retry loop. All times are in seconds."""

    max_attempts: int = 5
    """Maximum attempts counting transient failures; retries of those stop after this many tries."""
    base_delay: float = 1.0
    """Backoff base: the n-th retry of one kind waits up to ``base_delay * 2**n``."""
    max_delay: float = 60.0
    """Maximum delay of one backoff; a ``Retry-After`` above it ends the retries."""
    jitter: bool = True
    """Draw each delay uniformly from zero to the backoff value (full jitter)."""
    max_rate_limit_retries: int = 8
    """Maximum retries after HTTP 429, counted apart from `max_attempts`."""
    attempt_timeout: float | None = 180.0
    """Maximum duration of one attempt; exceeding it counts as a transient failure."""
    total_timeout: float | None = None
    """Maximum duration of the whole call, sleeps included; None means no limit."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(
                f"RetryPolicy.max_attempts must be at least 1, got {self.max_attempts}"
            )
        if self.max_rate_limit_retries < 0:
            raise ValueError(
                "RetryPolicy.max_rate_limit_retries must not be negative, "
                f"got {self.max_rate_limit_retries}"
            )
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError(
                f"RetryPolicy delays must not be negative, got base_delay={self.base_delay}, "
                f"max_delay={self.max_delay}"
            )

    def backoff(self, retry_index: int, rng: random.Random | None = None) -> float:
        """Return the delay before retry number `retry_index` (0-based) of one kind."""
        ceiling = min(self.max_delay, self.base_delay * (2.0**retry_index))
        if not self.jitter:
            return ceiling
        return (rng or random).uniform(0.0, ceiling)


@dataclass(frozen=True, slots=True)
class RetryOutcome[T]:
    """Result of a call that succeeded, possibly after retries."""

    value: T
    """Return value of the successful call."""
    attempts: int
    """Number of calls made, the successful one included."""
    rate_limit_retries: int = 0
    """Retries caused by HTTP 429."""
    transient_retries: int = 0
    """Retries caused by transient errors."""
    slept: float = 0.0
    """Total time spent sleeping between attempts, in seconds."""


OnRetry = Callable[[int, RetryKind, ModelApiError, float], None]
"""Callback run before each sleep with (attempt just failed, kind, error, delay)."""


async def call_with_retries[T](
    fn: Callable[[], Awaitable[T]],
    policy: RetryPolicy,
    *,
    label: str = "",
    should_retry: Callable[[BaseException], bool] | None = None,
    on_retry: OnRetry | None = None,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> RetryOutcome[T]:
    """Call `fn` until it succeeds or the policy gives up, and return its value.

    `label` names the call in log messages (the model slug). `should_retry`
    (a provider's hook) may veto retrying an error; PermanentModelError is never
    retried either way. After the last attempt the last error is raised.
    """
    started = time.monotonic()
    attempts = rate_limit_retries = transient_retries = 0
    slept = 0.0
    while True:
        attempts += 1
        try:
            value = await _call_once(fn, policy, label, _remaining(policy, started))
        except ModelApiError as exc:
            kind = _retry_kind(exc, should_retry)
            if kind is None:
                raise

            # Check the budget of this error's kind, then compute the delay.
            retries_of_kind = rate_limit_retries if kind == "rate_limit" else transient_retries
            if _budget_exhausted(kind, retries_of_kind, policy):
                raise
            delay = _delay_for(exc, retries_of_kind, policy, rng, label)
            if delay is None or delay > _remaining(policy, started):
                raise

            # Log, notify and sleep before the next attempt.
            logger.warning(
                "retrying %s after attempt %d failed (%s: %s); sleeping %.2f s",
                label or "model call",
                attempts,
                kind.replace("_", " "),
                exc,
                delay,
            )
            if on_retry is not None:
                on_retry(attempts, kind, exc, delay)
            await sleep(delay)
            slept += delay
            if kind == "rate_limit":
                rate_limit_retries += 1
            else:
                transient_retries += 1
            continue
        return RetryOutcome(value, attempts, rate_limit_retries, transient_retries, slept)


def _remaining(policy: RetryPolicy, started: float) -> float:
    if policy.total_timeout is None:
        return math.inf
    return max(0.0, policy.total_timeout - (time.monotonic() - started))


async def _call_once[T](
    fn: Callable[[], Awaitable[T]], policy: RetryPolicy, label: str, remaining: float
) -> T:
    timeout = min(policy.attempt_timeout or math.inf, remaining)
    if math.isinf(timeout):
        return await fn()
    try:
        async with asyncio.timeout(timeout):
            return await fn()
    except TimeoutError as exc:
        raise TransientModelError(
            f"call to {label or 'the model'} timed out after {timeout:g} s "
            "(RetryPolicy.attempt_timeout or total_timeout)"
        ) from exc


def _retry_kind(
    exc: ModelApiError, should_retry: Callable[[BaseException], bool] | None
) -> RetryKind | None:
    if is_permanent(exc):
        return None
    if should_retry is not None and not should_retry(exc):
        return None
    if isinstance(exc, RateLimitError):
        return "rate_limit"
    return "transient"


def _budget_exhausted(kind: RetryKind, retries_of_kind: int, policy: RetryPolicy) -> bool:
    if kind == "rate_limit":
        return retries_of_kind >= policy.max_rate_limit_retries
    # max_attempts counts tries, so transient failures may be retried max_attempts - 1 times.
    return retries_of_kind + 1 >= policy.max_attempts


def _delay_for(
    exc: ModelApiError,
    retry_index: int,
    policy: RetryPolicy,
    rng: random.Random | None,
    label: str,
) -> float | None:
    """Return the delay before the next attempt, or None if Retry-After exceeds max_delay."""
    delay = policy.backoff(retry_index, rng)
    retry_after = retry_after_of(exc)
    if retry_after is None:
        return delay
    if retry_after > policy.max_delay:
        logger.warning(
            "not retrying %s: the server asked to wait %.1f s, more than max_delay %.1f s; "
            "raise RetryPolicy.max_delay to wait that long",
            label or "model call",
            retry_after,
            policy.max_delay,
        )
        return None
    return max(delay, retry_after)
