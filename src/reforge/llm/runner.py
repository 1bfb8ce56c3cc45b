"""The experiment runner: prompts for every function of an experiment, answers stored.

`run_experiment` reads an experiment and its functions through the reforge
API, renders one prompt per function, asks the experiment's provider with
bounded concurrency, parses each reply into a name and posts the results in
small batches::

    summary = await run_experiment("bench_gpt4o-mini_gold_O0_L0",
                                   api_base="http://127.0.0.1:8080", concurrency=5)

Guarantees:
- Resume: functions with a final result in this run are skipped, and the
  store keeps one row per function, so a crash at any point followed by a
  restart loses nothing already posted and creates no duplicate. Replies are
  cached by content before they are posted, so work lost in a crash is
  redone from the cache at no cost.
- Failures: rate limits, server errors, timeouts and errors inside a 200 body
  are retried with backoff; what still fails is stored with its reason and
  scored as a provider failure, never as a prediction.
- Budget: no call starts that could push the recorded spend past the ceiling
  (see `reforge.llm.budget`).
- Memory: functions stream from the API page by page through a bounded
  queue; results leave in batches.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from reforge.config import Settings, get_settings
from reforge.errors import BudgetExceededError, ConfigError, ModelApiError, RateLimitError
from reforge.experiments import ExperimentConfig, load_catalog
from reforge.experiments.catalog import BASELINE_PROVIDER_PREFIX
from reforge.llm.api_client import ReforgeApiClient
from reforge.llm.budget import BudgetGuard, Prices
from reforge.llm.cache import ResponseCache, request_cache_key
from reforge.llm.parsing import parse_reply
from reforge.llm.prompt import PromptTemplate, load_template, render_prompt
from reforge.llm.providers.base import ModelReply, ModelRequest, Provider, get_provider
from reforge.llm.retry import RetryPolicy, call_with_retries
from reforge.llm.view import prompt_metadata
from reforge.store.results import MAX_TEXT_CHARS

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "http://127.0.0.1:8080"
FINAL_OK_STATUSES = frozenset({"ok"})
RETRYABLE_KINDS = frozenset({"rate_limit", "transient", "timeout"})
# Seconds a finished result may wait in the runner for its batch to fill.
MAX_BATCH_WAIT = 2.0
# Tokens a provider adds around the prompt (chat roles and separators); generous.
CHAT_OVERHEAD_TOKENS = 64


@dataclass(slots=True)
class RunStats:
    """Counters of one run, returned as the summary."""

    total: int = 0
    skipped: int = 0
    skipped_answered: int = 0
    """Skipped functions whose stored result is an answer, not a permanent failure."""
    new: int = 0
    errors: int = 0
    parse_failures: int = 0
    cached: int = 0
    not_attempted: int = 0
    cost_usd: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    error_kinds: dict[str, int] = field(default_factory=dict)


@dataclass(slots=True)
class _Context:
    """Everything the per-function work needs, built once per run."""

    config: ExperimentConfig
    template: PromptTemplate
    run_id: str
    provider: Provider | None
    provider_label: str
    base_url: str | None
    cache: ResponseCache | None
    guard: BudgetGuard | None
    policy: RetryPolicy
    stats: RunStats
    stop: asyncio.Event
    setup: Callable[[], Awaitable[None]] | None = None
    """Work done once before the first model call (fitting a baseline), or None."""
    setup_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def ensure_setup(self) -> None:
        """Run `setup` once, on the first call that needs the provider."""
        if self.setup is None:
            return
        async with self.setup_lock:
            if self.setup is not None:
                await self.setup()
                self.setup = None


def build_prompt(config: ExperimentConfig, template: PromptTemplate, view: dict[str, Any]) -> str:
    """Render the prompt of one LLM-view function for an experiment."""
    metadata = None
    if config.metadata_mode != "STRICT":
        metadata = {k: v for k, v in prompt_metadata(view).items() if v is not None}
    return render_prompt(
        template,
        view.get("c_raw") or "",
        calls=view.get("calls_text"),
        cfg_summary=view.get("cfg_text"),
        variables=view.get("variables_text"),
        metadata=metadata,
        metadata_mode=config.metadata_mode,
        top_k=config.top_k,
    )


def _function_query(config: ExperimentConfig) -> dict[str, Any]:
    return {
        "opt": config.opt,
        "tier": config.tier,
        "test_case": config.test_case,
        "context_level": config.context_level,
        "metadata_mode": config.metadata_mode,
    }


def _is_final(result: dict[str, Any]) -> bool:
    return result.get("status") in FINAL_OK_STATUSES or (
        result.get("error_kind") not in RETRYABLE_KINDS
    )


async def run_experiment(
    exp_id: str,
    api_base: str = DEFAULT_API_BASE,
    openrouter_key: str | None = None,
    concurrency: int = 5,
    dry_run: bool = False,
    *,
    run_id: str = "main",
    llm_base_url: str | None = None,
    budget_usd: float | None = None,
    cache_dir: str | Path | None = None,
    progress: bool = True,
    batch_size: int = 20,
    retry_policy: RetryPolicy | None = None,
    api_token: str | None = None,
    settings: Settings | None = None,
    provider_factory: Callable[[ExperimentConfig], Provider] | None = None,
) -> dict[str, Any]:
    """Run one experiment and return its summary (the seed's fields and more)."""
    settings = settings or get_settings()
    if concurrency < 1:
        raise ConfigError(f"concurrency must be at least 1, got {concurrency}")
    started = time.monotonic()
    token = api_token or (
        settings.api_token.get_secret_value() if settings.api_token is not None else None
    )
    async with ReforgeApiClient(api_base, token=token) as api:
        # Read the experiment, its template and the results already stored.
        config = ExperimentConfig.model_validate(await api.get_experiment(exp_id))
        template = load_template(config.prompt_template_id)
        # Function -> whether its final result is an answer (a permanent
        # failure is final too, but it does not count as completed).
        done = {
            result["dwarf_function_id"]: result.get("status") == "ok"
            for result in await api.get_results(exp_id, run_id)
            if _is_final(result)
        }
        stats = RunStats()

        if dry_run:
            if not config.provider.startswith(BASELINE_PROVIDER_PREFIX):
                _prices(config.model)  # logs the warning for a model without prices
            await _dry_run(api, config, template, run_id, done, stats, batch_size)
            return _summary(config, run_id, stats, started, dry_run=True)

        # Set up the provider, the budget guard and the response cache.
        provider, label, base_url = _make_provider(
            config, settings, openrouter_key, llm_base_url, provider_factory, concurrency
        )
        # A baseline is fitted before the first model call, so a re-run with no
        # pending function does not fetch the training rows.
        setup = None
        if provider.is_baseline and hasattr(provider, "fit"):
            setup = functools.partial(_fit_baseline, api, provider, config)
        guard = None
        if not provider.is_baseline:
            guard = BudgetGuard(
                settings.budget_usd if budget_usd is None else budget_usd,
                already_spent_usd=await api.spent_usd(),
                prices=_prices(config.model),
            )
        # Baselines are free, and their replies depend on the training rows,
        # which the cache key does not cover, so they are never cached.
        cache = None
        if not provider.is_baseline:
            cache = ResponseCache(Path(cache_dir) if cache_dir else settings.data_dir / "llm-cache")
        context = _Context(
            config=config,
            template=template,
            run_id=run_id,
            provider=provider,
            provider_label=label,
            base_url=base_url,
            cache=cache,
            guard=guard,
            policy=retry_policy or RetryPolicy(),
            stats=stats,
            stop=asyncio.Event(),
            setup=setup,
        )

        # Answer every pending function with `concurrency` workers.
        await _mark(api, exp_id, "running")
        try:
            await _run_workers(api, context, done, concurrency, batch_size, progress)
        finally:
            await provider.aclose()
        if not context.stop.is_set():
            await _mark(api, exp_id, "completed")
        summary = _summary(config, run_id, stats, started, dry_run=False)
        summary["budget_stopped"] = context.stop.is_set()
        summary["spent_usd_total"] = guard.spent_usd if guard else None
        return summary


async def _mark(api: ReforgeApiClient, experiment_id: str, status: str) -> None:
    try:
        await api.set_status(experiment_id, status)
    except ConfigError as exc:  # a read-only token or an old server: the run goes on
        logger.warning("could not set status of %s to %s: %s", experiment_id, status, exc)


def _make_provider(
    config: ExperimentConfig,
    settings: Settings,
    openrouter_key: str | None,
    llm_base_url: str | None,
    provider_factory: Callable[[ExperimentConfig], Provider] | None,
    concurrency: int,
) -> tuple[Provider, str, str | None]:
    """Create the provider named by the experiment.

    An explicit OpenAI-compatible base URL (argument or ``REFORGE_LLM_BASE_URL``)
    takes over the experiments that name OpenRouter, so the same matrix runs
    against a local vLLM, Ollama or llama.cpp server with the same model ids.
    HTTP providers get a connection pool of at least `concurrency` connections,
    so no call waits for a connection.
    """
    if provider_factory is not None:
        provider = provider_factory(config)
        return provider, provider.name, None
    name = config.provider
    base_url = llm_base_url or settings.llm_base_url
    pool = max(concurrency, 16)
    if name in ("openrouter", "openai-compatible", "openai") and base_url:
        provider = get_provider(
            "openai-compatible", base_url=base_url, settings=settings, max_connections=pool
        )
        return provider, "openai-compatible", base_url
    if name == "openrouter":
        provider = get_provider(
            "openrouter", api_key=openrouter_key, settings=settings, max_connections=pool
        )
        return provider, "openrouter", settings.openrouter_base_url
    provider = get_provider(name)
    return provider, name, None


async def _fit_baseline(
    api: ReforgeApiClient, provider: Provider, config: ExperimentConfig
) -> None:
    from reforge.llm.providers.baseline import TrainingExample

    rows = await api.training_examples(opt=config.opt)
    examples = [TrainingExample(row["text"], row["name"], row["group"]) for row in rows]
    provider.fit(examples)  # type: ignore[attr-defined]
    logger.info("fitted %s on %d functions", provider.name, len(examples))


def _prices(model: str) -> Prices:
    entry = load_catalog().find(model)
    if entry is None:
        logger.warning(
            "model %r is not in the model catalog, so its prices are unknown; the budget "
            "guard can only use the cost each reply reports. Add the model to "
            "reforge/experiments/models.toml to bound its cost in advance.",
            model,
        )
        return Prices(None, None)
    return Prices(entry.input_usd_per_mtok, entry.output_usd_per_mtok)


async def _dry_run(
    api: ReforgeApiClient,
    config: ExperimentConfig,
    template: PromptTemplate,
    run_id: str,
    done: dict[str, bool],
    stats: RunStats,
    batch_size: int,
) -> None:
    """Render and validate every prompt and round-trip result batches without storing them."""
    batch: list[dict[str, Any]] = []
    async for view in api.iter_llm_functions(_function_query(config), limit=config.limit):
        stats.total += 1
        uid = view["dwarf_function_id"]
        if uid in done:
            stats.skipped += 1
            stats.skipped_answered += done[uid]
            continue
        try:
            prompt = build_prompt(config, template, view)
        except ConfigError as exc:
            stats.errors += 1
            logger.error("prompt for %s failed to render: %s", uid, exc)
            continue
        stats.new += 1
        batch.append(
            {
                "dwarf_function_id": uid,
                "run_id": run_id,
                "status": "ok",
                "model": config.model,
                "template_id": template.name,
                "template_hash": template.template_hash,
                "prompt": storable_text(prompt),
            }
        )
        if len(batch) >= batch_size:
            await api.post_results(config.id, batch, dry_run=True)
            batch = []
    if batch:
        await api.post_results(config.id, batch, dry_run=True)


class _ResultPoster:
    """Posts finished results in batches from its own task, so workers never wait for the API.

    A batch leaves when it has `batch_size` results or when its oldest result
    has waited `MAX_BATCH_WAIT` seconds. The queue is bounded, so a slow API
    slows the workers down instead of letting results pile up in memory.
    """

    def __init__(self, api: ReforgeApiClient, experiment_id: str, batch_size: int) -> None:
        self._api = api
        self._experiment_id = experiment_id
        self._batch_size = batch_size
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(
            maxsize=max(4 * batch_size, 64)
        )

    async def run(self) -> None:
        """Post batches until the None sentinel arrives, then post what is left."""
        finished = False
        while not finished:
            first = await self.queue.get()
            if first is None:
                return
            batch = [first]
            finished = await self._fill(batch)
            await self._api.post_results(self._experiment_id, batch)

    async def _fill(self, batch: list[dict[str, Any]]) -> bool:
        """Add queued results to `batch` until it is full or too old; True at the sentinel."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + MAX_BATCH_WAIT
        while len(batch) < self._batch_size:
            try:
                item = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return False
                try:
                    async with asyncio.timeout(remaining):
                        item = await self.queue.get()
                except TimeoutError:
                    return False
            if item is None:
                return True
            batch.append(item)
        return False


async def _run_workers(
    api: ReforgeApiClient,
    context: _Context,
    done: dict[str, bool],
    concurrency: int,
    batch_size: int,
    progress: bool,
) -> None:
    config = context.config
    queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=concurrency * 2)
    poster = _ResultPoster(api, config.id, batch_size)
    bar = tqdm(
        desc=f"LLM calls ({config.model})", unit="fn", disable=not progress, dynamic_ncols=True
    )

    async def produce() -> None:
        async for view in api.iter_llm_functions(_function_query(config), limit=config.limit):
            context.stats.total += 1
            if view["dwarf_function_id"] in done:
                context.stats.skipped += 1
                context.stats.skipped_answered += done[view["dwarf_function_id"]]
                continue
            if context.stop.is_set():
                context.stats.not_attempted += 1
                continue
            bar.total = (bar.total or 0) + 1
            bar.refresh()
            await queue.put(view)
        for _ in range(concurrency):
            await queue.put(None)

    async def work() -> None:
        while (view := await queue.get()) is not None:
            if context.stop.is_set():
                context.stats.not_attempted += 1
                continue
            result = await answer_function(context, view)
            if result is not None:
                await poster.queue.put(result)
                bar.update()

    # The poster runs until the workers are done; if anything fails, every
    # task is cancelled, so no worker keeps calling the model after the run ended.
    posting = asyncio.create_task(poster.run())
    tasks = [asyncio.create_task(produce())]
    tasks += [asyncio.create_task(work()) for _ in range(concurrency)]
    try:
        await _wait_or_raise([*tasks, posting], wait_for=tasks)
        await poster.queue.put(None)
        await posting
    except BaseException:
        await _cancel(tasks)
        if not posting.done():
            # Post what the workers finished: those calls are paid for.
            await _drain_and_post(poster, posting)
        raise
    finally:
        bar.close()


async def _wait_or_raise(
    tasks: list[asyncio.Task[None]], *, wait_for: list[asyncio.Task[None]]
) -> None:
    """Wait until every task of `wait_for` is done; raise the first error of any task."""
    pending = set(tasks)
    remaining = set(wait_for)
    while remaining:
        finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        for task in finished:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        remaining -= finished


async def _cancel(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel `tasks` and wait until each has finished."""
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def _drain_and_post(poster: _ResultPoster, posting: asyncio.Task[None]) -> None:
    """Let the poster post what is queued, for at most about a minute; log if that fails."""
    try:
        poster.queue.put_nowait(None)
    except asyncio.QueueFull:
        # The queue is full only while the poster works; it takes the sentinel next.
        await asyncio.wait_for(poster.queue.put(None), timeout=30)
    try:
        await asyncio.wait_for(asyncio.shield(posting), timeout=30)
    except Exception as exc:  # the run's own error is raised by the caller
        logger.error("could not post the last results of the run: %s", exc)
        posting.cancel()


async def answer_function(context: _Context, view: dict[str, Any]) -> dict[str, Any] | None:
    """Ask the model about one function and return the result to post (None: budget stop)."""
    config = context.config
    prompt = build_prompt(config, context.template, view)
    request = ModelRequest(
        model=config.model,
        prompt=prompt,
        temperature=config.temperature,
        max_tokens=config.max_tokens,
        response_format=config.response_format,
        top_k=config.top_k,
        function_uid=view["dwarf_function_id"],
        group=view.get("test_case"),
    )
    result: dict[str, Any] = {
        "dwarf_function_id": view["dwarf_function_id"],
        "run_id": context.run_id,
        "model": config.model,
        "provider": context.provider_label,
        "template_id": context.template.name,
        "template_hash": context.template.template_hash,
        "prompt": storable_text(prompt),
    }
    try:
        reply, attempts = await _get_reply(context, request)
    except BudgetExceededError:
        context.stop.set()
        context.stats.not_attempted += 1
        return None
    except ModelApiError as exc:
        kind = _error_kind(exc)
        context.stats.errors += 1
        context.stats.error_kinds[kind] = context.stats.error_kinds.get(kind, 0) + 1
        logger.error("%s on %s failed (%s): %s", config.model, view["dwarf_function_id"], kind, exc)
        result.update(
            status="failed", error_kind=kind, error_message=storable_text(str(exc))[:4000]
        )
        context.stats.new += 1
        return result
    return _result_from_reply(context, result, reply, attempts)


async def _get_reply(context: _Context, request: ModelRequest) -> tuple[ModelReply, int]:
    assert context.provider is not None
    await context.ensure_setup()
    key = request_cache_key(
        context.provider_label,
        request,
        base_url=context.base_url,
        template_hash=context.template.template_hash,
    )
    if context.cache is not None:
        cached = context.cache.get(key)
        if cached is not None:
            return cached, 0

    reservation = 0.0
    guard = context.guard
    if guard is not None:
        reservation = guard.worst_case(
            max_prompt_tokens(request.prompt or ""), request.max_tokens or 0
        )
        if not await guard.reserve(reservation):
            raise BudgetExceededError(
                f"budget ceiling ${guard.ceiling_usd:.2f} reached (spent ${guard.spent_usd:.4f})"
            )
    provider = context.provider
    actual: float | None = None
    try:
        outcome = await call_with_retries(
            lambda: provider.generate(request),
            context.policy,
            label=request.model,
            should_retry=provider.should_retry,
        )
        reply = outcome.value
        if guard is not None:
            actual = guard.actual_cost(reply.cost_usd, reply.input_tokens, reply.output_tokens)
    finally:
        if guard is not None:
            await guard.settle(reservation, actual)
    if context.cache is not None:
        # The cache writes and fsyncs a file; on the event loop that would stall
        # every other call for about a millisecond per reply.
        await asyncio.to_thread(context.cache.put, key, reply)
    return reply, outcome.attempts


def _result_from_reply(
    context: _Context, result: dict[str, Any], reply: ModelReply, attempts: int
) -> dict[str, Any]:
    stats = context.stats
    parsed = parse_reply(reply.text, reply.reasoning, top_k=context.config.top_k)
    cost = 0.0 if reply.cached else reply.cost_usd
    if cost is None and context.guard is not None:
        cost = context.guard.actual_cost(None, reply.input_tokens, reply.output_tokens)
    result.update(
        status="ok",
        upstream_provider=reply.upstream_provider,
        response=storable_text(
            reply.text if not reply.reasoning else f"{reply.text}\n\n[reasoning]\n{reply.reasoning}"
        ),
        predicted_name=parsed.name,
        candidates=[
            {"name": candidate.name, "confidence": candidate.confidence}
            for candidate in parsed.candidates
        ],
        parse_ok=parsed.parse_ok,
        parse_method=parsed.method,
        error_message=None if parsed.parse_ok else f"reply not parsed: {parsed.error}",
        input_tokens=reply.input_tokens,
        output_tokens=reply.output_tokens,
        cost_usd=cost,
        latency_ms=reply.latency_ms,
        attempts=attempts,
        cached=reply.cached,
    )
    stats.new += 1
    stats.cached += int(reply.cached)
    stats.parse_failures += int(not parsed.parse_ok)
    stats.cost_usd += cost or 0.0
    stats.input_tokens += reply.input_tokens
    stats.output_tokens += reply.output_tokens
    return result


def max_prompt_tokens(prompt: str) -> int:
    """Return an upper bound of the tokens a prompt can cost, for budget reservations.

    Byte-level BPE tokenizers (GPT, Llama 3, Qwen, DeepSeek) emit at most one
    token per UTF-8 byte, so the byte count bounds the prompt, and the chat
    format adds a few tokens. The usual four characters per token is an
    average, not a bound: code with many symbols and hex constants needs more.
    """
    return len(prompt.encode("utf-8")) + CHAT_OVERHEAD_TOKENS


def storable_text(text: str) -> str:
    """Return `text` in a form the store accepts: valid UTF-8, no NUL, not over-long.

    A reply the API rejects would make every resume fail on the same cached
    reply, so NUL characters (refused by PostgreSQL text columns) and lone
    surrogates are replaced and text beyond the API's limit is cut.
    """
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) > MAX_TEXT_CHARS:
        marker = "\n[cut by reforge: text too long to store]"
        text = text[: MAX_TEXT_CHARS - len(marker)] + marker
    return text


def _error_kind(exc: ModelApiError) -> str:
    if isinstance(exc, RateLimitError):
        return "rate_limit"
    from reforge.errors import PermanentModelError, TransientModelError

    if isinstance(exc, PermanentModelError):
        return "permanent"
    if isinstance(exc, TransientModelError):
        return "timeout" if "timed out" in str(exc).lower() else "transient"
    return "permanent"


def _summary(
    config: ExperimentConfig, run_id: str, stats: RunStats, started: float, *, dry_run: bool
) -> dict[str, Any]:
    return {
        "experiment_id": config.id,
        "run_id": run_id,
        "model": config.model,
        "dry_run": dry_run,
        "total": stats.total,
        # A dry run sends no request to a model, so only results stored earlier count.
        "completed": stats.skipped_answered + (0 if dry_run else stats.new - stats.errors),
        "new": stats.new,
        "skipped": stats.skipped,
        "errors": stats.errors,
        "error_kinds": dict(stats.error_kinds),
        "parse_failures": stats.parse_failures,
        "cached": stats.cached,
        "not_attempted": stats.not_attempted,
        "cost_usd": round(stats.cost_usd, 6),
        "input_tokens": stats.input_tokens,
        "output_tokens": stats.output_tokens,
        "elapsed_s": round(time.monotonic() - started, 3),
    }
