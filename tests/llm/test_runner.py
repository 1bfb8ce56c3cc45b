"""The experiment runner against the real API and the scripted OpenAI-compatible server."""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.corpus_store import LEAK_FUNCTION, Corpus, fill_corpus
from api.support import GPT4O_MINI, register, result_rows, results_per_function, served
from reforge.api.background import BackgroundServer
from reforge.config import Settings
from reforge.errors import ConfigError, NotFoundError
from reforge.experiments import ExperimentConfig, build_benchmark_matrix, load_catalog
from reforge.llm.budget import BudgetGuard, Prices
from reforge.llm.parsing import parse_reply
from reforge.llm.prompt import load_template
from reforge.llm.providers.base import ModelReply, ModelRequest, Provider
from reforge.llm.retry import RetryPolicy
from reforge.llm.runner import build_prompt, max_prompt_tokens, run_experiment, storable_text
from reforge.llm.scripted_server import (
    PRICE_PER_INPUT_TOKEN,
    PRICE_PER_OUTPUT_TOKEN,
    ScriptedServer,
    answer,
    error_in_body,
    fenced,
    invalid_json,
    prose,
    pseudo_model_name,
    rate_limit,
    reasoning_only,
    server_error,
    timeout,
)
from reforge.store.db import Store
from reforge.store.results import MAX_TEXT_CHARS

SEED_SUMMARY_KEYS = {"total", "completed", "new", "skipped", "errors"}
# Every tiered function with code, both programs, both opt levels (see corpus_store).
ALL_TIERED = 24


@pytest.fixture
def run_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with their own data folder (and so their own reply cache)."""
    for name in ("REFORGE_API_TOKEN", "REFORGE_LLM_BASE_URL", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    return Settings(data_dir=tmp_path / "reforge-data", api_token=None)


@pytest.fixture
def corpus(store: Store) -> Corpus:
    return fill_corpus(store)


@pytest.fixture
def api(
    store: Store, corpus: Corpus, run_settings: Settings
) -> Iterator[tuple[BackgroundServer, httpx.Client]]:
    with served(store, run_settings) as running:
        yield running


@pytest.fixture
def model() -> Iterator[ScriptedServer]:
    with ScriptedServer() as running:
        yield running


def gold_o0(level: str = "L2") -> ExperimentConfig:
    """The seed's experiment shape: gpt-4o-mini on GOLD functions at O0."""
    (config,) = build_benchmark_matrix(
        models=GPT4O_MINI, tiers=["GOLD"], opts=["O0"], context_levels=[level]
    )
    return config


def every_tier(experiment_id: str = "all_tiers_L2") -> ExperimentConfig:
    """An experiment over every tiered function of both opt levels."""
    return ExperimentConfig(id=experiment_id, model="openai/gpt-4o-mini", context_level="L2")


async def run(
    config: ExperimentConfig,
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer | None,
    settings: Settings,
    **options: Any,
) -> dict[str, Any]:
    server, client = api
    register(client, [config])
    return await run_experiment(
        config.id,
        api_base=server.url,
        llm_base_url=model.base_url if model is not None else None,
        settings=settings,
        progress=False,
        **options,
    )


def prompts(model: ScriptedServer) -> list[str]:
    """Return the user message of every chat completion the server received."""
    texts = []
    for request in model.requests:
        if request.path.endswith("/chat/completions"):
            (message,) = request.body["messages"]
            texts.append(message["content"])
    return texts


async def test_summary_matches_database(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
    corpus: Corpus,
) -> None:
    config = gold_o0()
    summary = await run(config, api, model, run_settings)

    expected = {f.uid for f in corpus.select(opt="O0", tier="GOLD")}
    assert set(summary) >= SEED_SUMMARY_KEYS
    assert summary["total"] == len(expected) == 9
    assert summary["new"] == 9
    assert summary["completed"] == 9
    assert summary["skipped"] == 0
    assert summary["errors"] == 0
    assert summary["budget_stopped"] is False

    rows = result_rows(store, config.id)
    assert {row.function_uid for row in rows} == expected
    assert all(row.status == "ok" and row.parse_ok for row in rows)
    assert math.isclose(summary["cost_usd"], sum(row.cost_usd for row in rows), abs_tol=1e-6)
    assert summary["input_tokens"] == sum(row.input_tokens for row in rows)
    assert model.request_count == 9
    status = api[1].get(f"/data/experiments/{config.id}").json()["status"]
    assert status == "completed"


async def test_results_record_the_reply(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
    corpus: Corpus,
) -> None:
    config = gold_o0("L0")
    await run(config, api, model, run_settings)

    rows = {row["dwarf_function_id"]: row for row in _listed(api, config.id)}
    for text in prompts(model):
        function = next(f for f in corpus.select(opt="O0", tier="GOLD") if f.c_raw in text)
        row = rows[function.uid]
        assert row["prompt"] == text
        assert row["predicted_name"] == pseudo_model_name(text)
        assert row["response"] == pseudo_model_name(text)
        assert row["template_id"] == "function_naming_v2_L0"
        assert row["template_hash"] == load_template("function_naming_v2_L0").template_hash
        assert row["provider"] == "openai-compatible"
        assert row["upstream_provider"] == "Scripted"
        assert row["model"] == "openai/gpt-4o-mini"
        assert row["attempts"] == 1


def _listed(api: tuple[BackgroundServer, httpx.Client], experiment_id: str) -> list[dict]:
    response = api[1].get(f"/results/{experiment_id}", params={"include_text": True})
    assert response.status_code == 200
    return response.json()


async def test_second_run_skips_everything(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
    corpus: Corpus,
) -> None:
    config = gold_o0()
    await run(config, api, model, run_settings)
    again = await run(config, api, model, run_settings)

    assert again["total"] == 9
    assert again["skipped"] == again["total"]
    assert again["new"] == 0
    assert again["completed"] == 9
    assert model.request_count == 9
    assert results_per_function(store, config.id) == {
        f.uid: 1 for f in corpus.select(opt="O0", tier="GOLD")
    }


async def test_new_run_id_reuses_cache(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
    corpus: Corpus,
) -> None:
    config = gold_o0()
    await run(config, api, model, run_settings)
    second = await run(config, api, model, run_settings, run_id="repeat")

    assert second["new"] == 9
    assert second["cached"] == 9
    assert second["cost_usd"] == 0
    assert model.request_count == 9
    assert results_per_function(store, config.id) == {
        f.uid: 2 for f in corpus.select(opt="O0", tier="GOLD")
    }


async def test_dry_run_sends_nothing(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
) -> None:
    config = gold_o0()
    summary = await run(config, api, model, run_settings, dry_run=True)

    assert summary["dry_run"] is True
    assert summary["total"] == 9
    assert summary["new"] == 9
    assert summary["completed"] == 0
    assert summary["errors"] == 0
    assert model.request_count == 0
    assert results_per_function(store, config.id) == {}
    assert api[1].get(f"/data/experiments/{config.id}").json()["status"] == "ready"


async def test_dry_run_warns_unpriced_model(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = ExperimentConfig(id="unpriced", model="acme/unpriced-model", tier="GOLD", opt="O0")
    with caplog.at_level(logging.WARNING, logger="reforge.llm.runner"):
        summary = await run(config, api, model, run_settings, dry_run=True)

    assert summary["errors"] == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("'acme/unpriced-model' is not in the model catalog" in w for w in warnings)
    assert model.request_count == 0


async def test_unknown_experiment_raises(
    api: tuple[BackgroundServer, httpx.Client], model: ScriptedServer, run_settings: Settings
) -> None:
    with pytest.raises(NotFoundError, match="bench_nobody"):
        await run_experiment(
            "bench_nobody",
            api_base=api[0].url,
            llm_base_url=model.base_url,
            settings=run_settings,
            progress=False,
        )
    assert model.request_count == 0


async def test_pool_matches_concurrency(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
) -> None:
    model.delay = 0.3
    summary = await run(every_tier(), api, model, run_settings, concurrency=20)
    assert summary["new"] == ALL_TIERED
    # The provider's default pool has 16 connections; the runner widens it to 20.
    assert model.max_in_flight == 20


FAULT_POLICY = RetryPolicy(
    max_attempts=2,
    base_delay=0.0,
    max_delay=1.0,
    jitter=False,
    max_rate_limit_retries=1,
    attempt_timeout=0.5,
)
UNPARSEABLE = "I cannot tell what this function does."


async def test_fault_injection(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
    corpus: Corpus,
) -> None:
    assert not parse_reply(UNPARSEABLE).parse_ok
    order = [f.name for f in corpus.select(opt="O0", tier="GOLD")]
    assert order == [
        "parse_header",
        "read_config_file",
        "compute_checksum",
        "free_buffer",
        "init_table",
        LEAK_FUNCTION,
        "encode_base64",
        "decode_packet",
        "send_reply",
    ]
    # One worker takes the functions in that order; each request takes the next response.
    model.enqueue(
        rate_limit(retry_after=0), answer("check_magic"),  # parse_header: 429, then ok
        server_error(500), server_error(503),  # read_config_file: fails
        timeout(2.0), timeout(2.0),  # compute_checksum: times out twice
        error_in_body(), error_in_body(),  # free_buffer: error inside HTTP 200, twice
        reasoning_only("allocate_table"),  # init_table
        fenced("print_log_line"),  # log_message
        prose("encode_to_base64"),  # encode_base64
        invalid_json(), answer(UNPARSEABLE),  # decode_packet: HTML body, then prose
        rate_limit(retry_after=0), rate_limit(retry_after=0),  # send_reply: 429 twice
    )  # fmt: skip
    config = gold_o0()
    summary = await run(config, api, model, run_settings, concurrency=1, retry_policy=FAULT_POLICY)

    assert model.pending == 0
    assert summary["total"] == 9
    assert summary["new"] == 9
    assert summary["errors"] == 4
    assert summary["error_kinds"] == {"transient": 2, "timeout": 1, "rate_limit": 1}
    assert summary["parse_failures"] == 1
    assert summary["completed"] == 5

    rows = {corpus.by_uid(row.function_uid).name: row for row in result_rows(store, config.id)}
    assert set(rows) == set(order)
    assert (rows["parse_header"].predicted_name, rows["parse_header"].attempts) == (
        "check_magic",
        2,
    )
    assert rows["init_table"].predicted_name == "allocate_table"
    assert rows["init_table"].parse_method == "reasoning"
    assert rows[LEAK_FUNCTION].predicted_name == "print_log_line"
    assert rows["encode_base64"].predicted_name == "encode_to_base64"
    assert rows["decode_packet"].status == "ok"
    assert rows["decode_packet"].parse_ok is False
    assert rows["decode_packet"].predicted_name is None
    expected_kinds = {
        "read_config_file": "transient",
        "compute_checksum": "timeout",
        "free_buffer": "transient",
        "send_reply": "rate_limit",
    }
    for name, kind in expected_kinds.items():
        assert rows[name].status == "failed"
        assert rows[name].error_kind == kind
        assert rows[name].error_message
        assert rows[name].predicted_name is None

    client = api[1]
    assert client.post(f"/results/{config.id}/score").json()["scored"] == 9
    scores = client.get(f"/results/{config.id}/scores").json()
    outcomes = {
        corpus.by_uid(row["dwarf_function_id"]).name: row["outcome"] for row in scores["rows"]
    }
    assert {name for name, o in outcomes.items() if o == "provider_failure"} == set(expected_kinds)
    assert {name for name, o in outcomes.items() if o == "parse_failure"} == {"decode_packet"}
    assert scores["summary"]["answered"] == 4
    for row in scores["rows"]:
        if row["outcome"] != "answered":
            assert row["token_f1"] is None
            assert row["exact_match"] is None


async def test_retryable_failures_redone_on_resume(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
) -> None:
    policy = RetryPolicy(max_attempts=1, max_rate_limit_retries=0, attempt_timeout=5.0)
    model.enqueue(server_error(500), rate_limit(retry_after=0))
    config = gold_o0()
    first = await run(config, api, model, run_settings, concurrency=1, retry_policy=policy)
    assert first["errors"] == 2

    second = await run(config, api, model, run_settings, concurrency=1, retry_policy=policy)
    assert second["skipped"] == 7
    assert second["new"] == 2
    assert second["errors"] == 0
    rows = result_rows(store, config.id)
    assert len(rows) == 9
    assert all(row.status == "ok" for row in rows)


def _scripted_cost(prompt: str) -> float:
    """Return the cost the scripted server reports for its default reply to `prompt`."""
    messages = [{"role": "user", "content": prompt}]
    prompt_tokens = max(1, len(json.dumps(messages)) // 4)
    completion_tokens = max(1, len(pseudo_model_name(prompt)) // 4)
    return prompt_tokens * PRICE_PER_INPUT_TOKEN + completion_tokens * PRICE_PER_OUTPUT_TOKEN


async def test_budget_stops_before_ceiling(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
) -> None:
    config = gold_o0()
    register(api[1], [config])
    views = api[1].get("/llm/functions", params={"opt": "O0", "tier": "GOLD"}).json()
    rendered = [build_prompt(config, load_template(config.prompt_template_id), v) for v in views]
    total_cost = sum(_scripted_cost(text) for text in rendered)
    entry = load_catalog().get("openai/gpt-4o-mini")
    guard = BudgetGuard(
        1.0,
        already_spent_usd=0.0,
        prices=Prices(entry.input_usd_per_mtok, entry.output_usd_per_mtok),
    )
    largest_reservation = max(
        guard.worst_case(max_prompt_tokens(text), config.max_tokens) for text in rendered
    )
    # A ceiling that fits the first call's reservation but not the cost of all calls.
    assert largest_reservation < total_cost
    ceiling = (largest_reservation + total_cost) / 2

    summary = await run(config, api, model, run_settings, concurrency=2, budget_usd=ceiling)

    rows = result_rows(store, config.id)
    spent = sum(row.cost_usd for row in rows)
    assert summary["budget_stopped"] is True
    assert 1 <= len(rows) < 9
    assert spent <= ceiling
    assert summary["not_attempted"] == 9 - len(rows)
    assert model.request_count == len(rows)
    assert api[1].get("/results/spend").json()["spent_usd"] <= ceiling
    assert api[1].get(f"/data/experiments/{config.id}").json()["status"] == "running"


async def test_budget_counts_earlier_spend(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    store: Store,
) -> None:
    first = gold_o0("L0")
    await run(first, api, model, run_settings)
    spent = api[1].get("/results/spend").json()["spent_usd"]
    assert spent > 0

    summary = await run(gold_o0("L1"), api, model, run_settings, budget_usd=spent)
    assert summary["budget_stopped"] is True
    assert summary["new"] == 0
    assert model.request_count == 9


class ByteTokenProvider(Provider):
    """A provider whose every prompt byte costs one token, the most a byte-level BPE can bill."""

    name = "byte-tokens"

    async def generate(self, request: ModelRequest) -> ModelReply:
        prompt_bytes = len((request.prompt or "").encode("utf-8"))
        return ModelReply(text="some_name", input_tokens=prompt_bytes, output_tokens=3)


async def test_budget_holds_when_every_byte_is_a_token(
    api: tuple[BackgroundServer, httpx.Client], run_settings: Settings, store: Store
) -> None:
    config = gold_o0()
    register(api[1], [config])
    views = api[1].get("/llm/functions", params={"opt": "O0", "tier": "GOLD"}).json()
    template = load_template(config.prompt_template_id)
    largest = max(len(build_prompt(config, template, v).encode("utf-8")) for v in views)
    entry = load_catalog().get("openai/gpt-4o-mini")
    prices = Prices(entry.input_usd_per_mtok, entry.output_usd_per_mtok)
    # Room for one call at the byte bound and a half, not for two calls.
    ceiling = 1.5 * prices.cost(largest + 64, config.max_tokens)

    summary = await run_experiment(
        config.id,
        api_base=api[0].url,
        settings=run_settings,
        progress=False,
        concurrency=3,
        budget_usd=ceiling,
        provider_factory=lambda _config: ByteTokenProvider(),
    )

    rows = result_rows(store, config.id)
    assert summary["budget_stopped"] is True
    assert len(rows) >= 1
    assert sum(row.cost_usd for row in rows) <= ceiling


def _truth_identifiers(corpus: Corpus) -> set[str]:
    identifiers = set(corpus.names())
    for function in corpus.functions:
        identifiers |= {function.decl_file, Path(function.decl_file).name, function.program}
    return identifiers


async def test_prompts_hold_no_ground_truth(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    corpus: Corpus,
) -> None:
    matrix = build_benchmark_matrix(
        models=GPT4O_MINI,
        tiers=["GOLD", "SILVER", "BRONZE"],
        opts=["O0", "O2"],
        context_levels=["L0", "L1", "L2"],
        metadata_mode="ANALYST_FULL",
    )
    matrix += build_benchmark_matrix(models=GPT4O_MINI, tiers=["GOLD"], opts=["O0"], top_k=3)
    for config in matrix:
        await run(config, api, model, run_settings)

    received = prompts(model)
    # 12 tiered functions per opt level, 3 context levels, plus 9 top-k prompts.
    assert len(received) == ALL_TIERED * 3 + 9
    truth = _truth_identifiers(corpus)
    bookkeeping = {f.uid for f in corpus.functions} | {f.program for f in corpus.functions}
    leak_seen = False
    for text in received:
        (function,) = [f for f in corpus.select() if f.c_raw and f.c_raw in text]
        for identifier in truth:
            if identifier in text:
                assert identifier in function.c_raw, (identifier, function.uid)
        leak_seen |= function.name == LEAK_FUNCTION and LEAK_FUNCTION in text
        for value in bookkeeping:
            assert value not in text
    assert leak_seen
    for request in model.requests:
        for value in bookkeeping:
            assert value.encode() not in request.raw


async def test_baseline_nn_offline(
    api: tuple[BackgroundServer, httpx.Client],
    run_settings: Settings,
    store: Store,
    corpus: Corpus,
) -> None:
    (config,) = build_benchmark_matrix(
        models=["baseline-nn"], tiers=["GOLD"], opts=["O0"], context_levels=["L0"]
    )
    assert config.provider == "baseline-nn"
    summary = await run(config, api, None, run_settings)

    assert summary["new"] == 9
    assert summary["errors"] == 0
    names_of = {
        program: {f.name for f in corpus.functions if f.program == program}
        for program in ("kestrel", "osprey")
    }
    rows = result_rows(store, config.id)
    assert len(rows) == 9
    for row in rows:
        own = corpus.by_uid(row.function_uid).program
        other = "osprey" if own == "kestrel" else "kestrel"
        assert row.predicted_name not in names_of[own]
        assert row.predicted_name in names_of[other]
        assert row.provider == "baseline-nn"
        assert row.cost_usd == 0
    assert not (run_settings.data_dir / "llm-cache").exists()


async def test_baseline_rerun_skips_fitting(
    api: tuple[BackgroundServer, httpx.Client],
    run_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    (config,) = build_benchmark_matrix(
        models=["baseline-nn"], tiers=["GOLD"], opts=["O0"], context_levels=["L0"]
    )
    with caplog.at_level(logging.INFO, logger="reforge.llm.runner"):
        first = await run(config, api, None, run_settings)
        fitted_first = [r for r in caplog.records if "fitted baseline-nn" in r.getMessage()]
        caplog.clear()
        second = await run(config, api, None, run_settings)
        fitted_second = [r for r in caplog.records if "fitted baseline-nn" in r.getMessage()]

    assert first["new"] == 9
    assert len(fitted_first) == 1
    assert second["new"] == 0
    assert second["completed"] == 9
    assert fitted_second == []


async def test_failed_post_stops_every_worker(
    store: Store, corpus: Corpus, model: ScriptedServer, run_settings: Settings
) -> None:
    guarded = Settings(data_dir=run_settings.data_dir, api_token="right-token")
    with served(store, guarded) as (server, client):
        config = every_tier()
        response = client.post(
            "/data/experiments/bulk",
            json=[config.model_dump()],
            headers={"Authorization": "Bearer right-token"},
        )
        assert response.status_code == 200
        model.delay = 0.2
        with pytest.raises(ConfigError, match="401"):
            await run_experiment(
                config.id,
                api_base=server.url,
                llm_base_url=model.base_url,
                settings=run_settings,
                api_token="wrong-token",
                concurrency=4,
                batch_size=2,
                progress=False,
            )
        # Requests already written to a socket when the run ended may still arrive.
        await asyncio.sleep(0.2)
        sent = model.request_count
        await asyncio.sleep(0.6)
        assert model.request_count == sent
        assert sent < ALL_TIERED


async def test_api_token_from_settings(
    store: Store, corpus: Corpus, model: ScriptedServer, run_settings: Settings
) -> None:
    guarded = Settings(data_dir=run_settings.data_dir, api_token="right-token")
    with served(store, guarded) as (server, client):
        config = gold_o0()
        client.post(
            "/data/experiments/bulk",
            json=[config.model_dump()],
            headers={"Authorization": "Bearer right-token"},
        )
        summary = await run_experiment(
            config.id,
            api_base=server.url,
            llm_base_url=model.base_url,
            settings=guarded,
            progress=False,
        )
    assert summary["new"] == 9
    assert len(result_rows(store, config.id)) == 9


async def test_unstorable_reply_is_cleaned(
    api: tuple[BackgroundServer, httpx.Client],
    model: ScriptedServer,
    run_settings: Settings,
    corpus: Corpus,
) -> None:
    model.enqueue(answer("copy_bytes\x00\ud800"), answer("x" * (MAX_TEXT_CHARS + 10)))
    config = gold_o0()
    summary = await run(config, api, model, run_settings, concurrency=1)

    assert summary["new"] == 9
    texts = {row["dwarf_function_id"]: row["response"] for row in _listed(api, config.id)}
    first, second = (texts[f.uid] for f in corpus.select(opt="O0", tier="GOLD")[:2])
    assert first == "copy_bytes\ufffd?"
    assert len(second) == MAX_TEXT_CHARS
    assert second.endswith("[cut by reforge: text too long to store]")


def test_storable_text() -> None:
    assert storable_text("plain") == "plain"
    assert storable_text("a\x00b") == "a\ufffdb"
    assert storable_text("a\udc80b") == "a?b"
    cut = storable_text("y" * (MAX_TEXT_CHARS * 2))
    assert len(cut) == MAX_TEXT_CHARS


def test_max_prompt_tokens_bounds_bytes() -> None:
    assert max_prompt_tokens("") == 64
    assert max_prompt_tokens("abcd") == 68
    # Each of these characters is three UTF-8 bytes.
    assert max_prompt_tokens("\u2192" * 10) == 94
