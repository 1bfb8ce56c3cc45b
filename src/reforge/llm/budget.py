"""A spending ceiling that stops a run before a call could cross it.

Before each call the runner reserves the call's worst-case cost: an upper
bound of its prompt tokens at the input price plus `max_tokens` at the output
price. The runner bounds the prompt tokens by the prompt's UTF-8 byte count
(`reforge.llm.runner.max_prompt_tokens`). The call is refused when the cost
already spent plus every open reservation plus this one would exceed the
ceiling. After the call, the reservation is replaced by the cost the provider
reported (or, without a report, the cost computed from the reported token
counts). With correct prices the spent total can therefore never pass the
ceiling, whatever the concurrency. A provider that bills more than the
catalog price (a price change, or routing to a dearer host) can pass it.

NOTE: a model without a price in the catalog has no worst case; its
reservation is the largest cost one call of the run has reported so far, so
a run of an unpriced model can pass the ceiling by at most one call's cost
per concurrent request.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Prices:
    """USD per million tokens; None when unknown."""

    input_per_mtok: float | None
    output_per_mtok: float | None

    @property
    def known(self) -> bool:
        """True when both prices are known."""
        return self.input_per_mtok is not None and self.output_per_mtok is not None

    def cost(self, input_tokens: int, output_tokens: int) -> float | None:
        """Return the cost of a call with these token counts, or None when prices are unknown."""
        if not self.known:
            return None
        assert self.input_per_mtok is not None and self.output_per_mtok is not None
        return (input_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


class BudgetGuard:
    """Reservations against a USD ceiling shared by the concurrent calls of one run."""

    def __init__(self, ceiling_usd: float, *, already_spent_usd: float, prices: Prices) -> None:
        self.ceiling_usd = ceiling_usd
        self.spent_usd = already_spent_usd
        self.prices = prices
        self._reserved = 0.0
        self._largest_seen = 0.0
        self._lock = asyncio.Lock()
        self.exhausted = False

    def worst_case(self, prompt_tokens: int, max_tokens: int) -> float:
        """Return the most one call with this prompt and completion limit can cost."""
        estimate = self.prices.cost(prompt_tokens, max_tokens)
        return self._largest_seen if estimate is None else estimate

    async def reserve(self, amount: float) -> bool:
        """Reserve `amount`; return False (and mark the budget exhausted) if it does not fit."""
        async with self._lock:
            if self.spent_usd + self._reserved + amount > self.ceiling_usd:
                self.exhausted = True
                return False
            self._reserved += amount
            return True

    async def settle(self, reserved: float, actual: float | None) -> None:
        """Replace a reservation by the actual cost (None: the call cost nothing known)."""
        async with self._lock:
            self._reserved = max(0.0, self._reserved - reserved)
            if actual is not None:
                self.spent_usd += actual
                self._largest_seen = max(self._largest_seen, actual)

    def actual_cost(self, reported: float | None, input_tokens: int, output_tokens: int) -> float:
        """Return the provider's reported cost, or one computed from tokens, or 0."""
        if reported is not None:
            return reported
        computed = self.prices.cost(input_tokens, output_tokens)
        return computed or 0.0
