"""The budget guard: reservations against a USD ceiling shared by concurrent calls."""

from __future__ import annotations

import asyncio
import math
import random

from reforge.llm.budget import BudgetGuard, Prices

# gpt-4o-mini's catalog prices, USD per million tokens.
MINI = Prices(0.15, 0.60)


def test_prices_cost() -> None:
    # 1000 prompt tokens at $0.15/M plus 64 completion tokens at $0.60/M.
    assert math.isclose(MINI.cost(1000, 64), 0.00015 + 0.0000384)
    assert Prices(None, 0.6).cost(1000, 64) is None
    assert not Prices(0.15, None).known


def test_worst_case_uses_prices() -> None:
    guard = BudgetGuard(1.0, already_spent_usd=0.0, prices=MINI)
    assert math.isclose(guard.worst_case(2000, 100), (2000 * 0.15 + 100 * 0.60) / 1e6)


async def test_reserve_within_ceiling() -> None:
    guard = BudgetGuard(1.0, already_spent_usd=0.5, prices=MINI)
    assert await guard.reserve(0.3)
    assert await guard.reserve(0.2)
    assert not guard.exhausted


async def test_reserve_beyond_ceiling_rejected() -> None:
    guard = BudgetGuard(1.0, already_spent_usd=0.5, prices=MINI)
    assert await guard.reserve(0.4)
    assert not await guard.reserve(0.2)
    assert guard.exhausted


async def test_settle_replaces_reservation() -> None:
    guard = BudgetGuard(1.0, already_spent_usd=0.0, prices=MINI)
    assert await guard.reserve(0.6)
    await guard.settle(0.6, 0.1)
    assert math.isclose(guard.spent_usd, 0.1)
    # 0.1 spent and nothing reserved: 0.9 fits, 0.91 does not.
    assert await guard.reserve(0.9)
    await guard.settle(0.9, None)
    assert not await guard.reserve(0.91)


async def test_failed_call_releases_reservation() -> None:
    guard = BudgetGuard(1.0, already_spent_usd=0.0, prices=MINI)
    assert await guard.reserve(1.0)
    assert not await guard.reserve(0.01)
    await guard.settle(1.0, None)
    assert guard.spent_usd == 0.0
    assert await guard.reserve(1.0)


def test_actual_cost_prefers_report() -> None:
    guard = BudgetGuard(1.0, already_spent_usd=0.0, prices=MINI)
    assert guard.actual_cost(0.002, 1000, 64) == 0.002
    assert math.isclose(guard.actual_cost(None, 1000, 64), 0.0001884)
    unpriced = BudgetGuard(1.0, already_spent_usd=0.0, prices=Prices(None, None))
    assert unpriced.actual_cost(None, 1000, 64) == 0.0


async def test_unpriced_model_reserves_largest_seen() -> None:
    guard = BudgetGuard(1.0, already_spent_usd=0.0, prices=Prices(None, None))
    assert guard.worst_case(1000, 64) == 0.0
    await guard.settle(0.0, 0.03)
    await guard.settle(0.0, 0.01)
    assert guard.worst_case(1000, 64) == 0.03


async def test_concurrent_calls_never_cross_ceiling() -> None:
    ceiling = 0.05
    guard = BudgetGuard(ceiling, already_spent_usd=0.0, prices=MINI)
    rng = random.Random(7)
    rejected = 0

    async def call(prompt_tokens: int) -> None:
        nonlocal rejected
        reservation = guard.worst_case(prompt_tokens, 64)
        if not await guard.reserve(reservation):
            rejected += 1
            return
        await asyncio.sleep(rng.uniform(0, 0.01))
        # The call costs at most its worst case.
        actual = MINI.cost(rng.randint(1, prompt_tokens), rng.randint(1, 64))
        await guard.settle(reservation, actual)

    await asyncio.gather(*(call(rng.randint(500, 3000)) for _ in range(400)))
    assert rejected > 0
    assert guard.spent_usd <= ceiling
