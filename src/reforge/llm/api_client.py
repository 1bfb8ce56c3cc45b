"""Async client of the reforge HTTP API, as the runner uses it.

Runners read experiments and the LLM view and post results through the API,
so they can run on machines other than the store's. HTTP errors of the API
are translated into the reforge error tree here::

    async with ReforgeApiClient("http://127.0.0.1:8080") as api:
        config = await api.get_experiment("bench_gpt4o-mini_gold_O0_L0")
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, Self

import httpx

from reforge.errors import ConfigError, NotFoundError, StoreError

logger = logging.getLogger(__name__)

PAGE_SIZE = 1000


class ReforgeApiClient:
    """Thin async wrapper of the endpoints the runner needs."""

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        timeout: float = 120.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.base_url = base_url.rstrip("/")
        self._client = httpx.AsyncClient(
            base_url=self.base_url, headers=headers, timeout=timeout, transport=transport
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise StoreError(
                f"cannot reach the reforge API at {self.base_url} ({method} {path}): {exc}; "
                "start it with `reforge serve` or pass the right --api-base"
            ) from exc
        if response.status_code == 404:
            raise NotFoundError(_detail(response))
        if response.status_code in (400, 401, 403, 422):
            raise ConfigError(
                f"{method} {path} rejected ({response.status_code}): {_detail(response)}"
            )
        if response.status_code >= 400:
            raise StoreError(
                f"{method} {path} failed ({response.status_code}): {_detail(response)}"
            )
        return response.json()

    async def health(self) -> dict[str, Any]:
        """Return ``GET /health``."""
        return await self._request("GET", "/health")

    async def get_experiment(self, experiment_id: str) -> dict[str, Any]:
        """Return one experiment's config."""
        return await self._request("GET", f"/data/experiments/{experiment_id}")

    async def iter_llm_functions(
        self, params: dict[str, Any], *, limit: int | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield LLM-view functions page by page, at most `limit` of them."""
        offset = 0
        served = 0
        while True:
            page_size = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - served)
            if page_size <= 0:
                return
            query = {k: v for k, v in params.items() if v is not None}
            page = await self._request(
                "GET", "/llm/functions", params={**query, "limit": page_size, "offset": offset}
            )
            for item in page:
                yield item
            served += len(page)
            offset += len(page)
            if len(page) < page_size:
                return

    async def get_results(self, experiment_id: str, run_id: str) -> list[dict[str, Any]]:
        """Return every stored result of one experiment run."""
        results: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = await self._request(
                "GET",
                f"/results/{experiment_id}",
                params={"run_id": run_id, "limit": 10_000, "offset": offset},
            )
            results.extend(page)
            if len(page) < 10_000:
                return results
            offset += len(page)

    async def post_results(
        self, experiment_id: str, results: Sequence[dict[str, Any]], *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Post one batch of results; return the server's counts."""
        body = {"experiment_id": experiment_id, "results": list(results), "dry_run": dry_run}
        return await self._request("POST", "/results/batch", json=body)

    async def spent_usd(self) -> float:
        """Return the provider cost recorded in the store over all experiments."""
        data = await self._request("GET", "/results/spend")
        return float(data.get("spent_usd") or 0.0)

    async def training_examples(self, *, opt: str | None) -> list[dict[str, Any]]:
        """Return labelled decompiled functions for fitting offline baselines."""
        params = {"opt": opt} if opt else {}
        return await self._request("GET", "/data/training", params=params)

    async def set_status(self, experiment_id: str, status: str) -> None:
        """Set an experiment's status (``running``, ``completed``)."""
        await self._request(
            "POST", f"/data/experiments/{experiment_id}/status", json={"status": status}
        )


def _detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300]
    if isinstance(data, dict) and "detail" in data:
        return str(data["detail"])[:600]
    return str(data)[:300]
