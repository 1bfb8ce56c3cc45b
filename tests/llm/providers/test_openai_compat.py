"""The OpenAI-compatible provider against the scripted server over real HTTP."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from reforge.config import Settings
from reforge.errors import (
    ConfigError,
    ModelApiError,
    PermanentModelError,
    RateLimitError,
    TransientModelError,
)
from reforge.llm.cache import ResponseCache, request_cache_key
from reforge.llm.parsing import parse_reply
from reforge.llm.providers import ModelRequest, ServerBusyError, get_provider
from reforge.llm.providers.openai_compat import (
    OpenAICompatibleProvider,
    parse_retry_after,
)
from reforge.llm.scripted_server import (
    ScriptedResponse,
    ScriptedServer,
    choice_error,
    error_in_body,
    fenced,
    http_error,
    invalid_json,
    prose,
    rate_limit,
    reasoning_only,
    server_error,
    timeout,
)

MODEL = "openai/gpt-4o-mini"


def _request(prompt: str, model: str = MODEL, **options: object) -> ModelRequest:
    return ModelRequest(model=model, prompt=prompt, **options)  # type: ignore[arg-type]


FAULTS = [
    pytest.param(rate_limit(retry_after=1), RateLimitError, 429, id="429-retry-after"),
    pytest.param(server_error(500), TransientModelError, 500, id="500"),
    pytest.param(server_error(502), TransientModelError, 502, id="502"),
    pytest.param(server_error(503, retry_after=2), ServerBusyError, 503, id="503-retry-after"),
    pytest.param(http_error(408, "Request timed out"), TransientModelError, 408, id="408"),
    pytest.param(timeout(5.0), TransientModelError, None, id="timeout"),
    pytest.param(error_in_body(), TransientModelError, 200, id="error-in-200"),
    pytest.param(choice_error(), TransientModelError, 200, id="choice-error"),
    pytest.param(invalid_json(), TransientModelError, 200, id="invalid-json"),
    pytest.param(http_error(400, "Invalid parameter"), PermanentModelError, 400, id="400"),
    pytest.param(http_error(401, "User not found"), PermanentModelError, 401, id="401"),
    pytest.param(http_error(402, "Insufficient credits"), PermanentModelError, 402, id="402"),
    pytest.param(http_error(403, "Input flagged"), PermanentModelError, 403, id="403"),
    pytest.param(http_error(404, "No such model"), PermanentModelError, 404, id="404"),
    pytest.param(http_error(422, "Unprocessable"), PermanentModelError, 422, id="422"),
]


@pytest.mark.parametrize(("fault", "expected", "status"), FAULTS)
async def test_fault_maps_to_exception(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    fault: ScriptedResponse,
    expected: type[ModelApiError],
    status: int | None,
) -> None:
    server.enqueue(fault)
    with pytest.raises(expected) as caught:
        await openrouter.generate(_request(c_prompt))
    assert type(caught.value) is expected
    assert caught.value.status == status
    assert MODEL in str(caught.value)


async def test_rate_limit_carries_retry_after(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str
) -> None:
    server.enqueue(rate_limit(retry_after=7))
    with pytest.raises(RateLimitError) as caught:
        await openrouter.generate(_request(c_prompt))
    assert caught.value.retry_after == 7.0


async def test_no_credit_message(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str
) -> None:
    server.enqueue(http_error(402, "Insufficient credits. Add more using the dashboard"))
    with pytest.raises(PermanentModelError) as caught:
        await openrouter.generate(_request(c_prompt))
    message = str(caught.value)
    assert "402" in message
    assert "Insufficient credits" in message
    assert "credit" in message.split("Insufficient credits")[1]


async def test_timeout_chains_httpx_error(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str
) -> None:
    server.enqueue(timeout(5.0))
    with pytest.raises(TransientModelError) as caught:
        await openrouter.generate(_request(c_prompt))
    assert isinstance(caught.value.__cause__, httpx.TimeoutException)


async def test_refused_connection_is_transient(c_prompt: str) -> None:
    with ScriptedServer() as stopped:
        base_url = stopped.base_url
    provider = get_provider("openai-compatible", base_url=base_url, timeout=2.0)
    try:
        with pytest.raises(TransientModelError) as caught:
            await provider.generate(_request(c_prompt))
    finally:
        await provider.aclose()
    assert caught.value.status is None
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("reset"),
        httpx.WriteError("broken pipe"),
        httpx.RemoteProtocolError("peer closed connection"),
        httpx.LocalProtocolError("bad request line"),
        httpx.ProxyError("proxy failed"),
        httpx.PoolTimeout("no connection free"),
        httpx.ReadTimeout("slow"),
        httpx.DecodingError("bad gzip"),
        httpx.TooManyRedirects("loop"),
        httpx.UnsupportedProtocol("gopher"),
    ],
    ids=lambda error: type(error).__name__,
)
async def test_every_httpx_error_is_mapped(error: httpx.HTTPError, c_prompt: str) -> None:
    """An httpx error raised by the transport leaves the provider as a ModelApiError."""

    def raise_error(request: httpx.Request) -> httpx.Response:
        raise error

    provider = OpenAICompatibleProvider(
        base_url="http://127.0.0.1:9/v1", transport=httpx.MockTransport(raise_error)
    )
    with pytest.raises(ModelApiError) as caught:
        await provider.generate(_request(c_prompt))
    await provider.aclose()
    assert caught.value.__cause__ is error
    expected = PermanentModelError if isinstance(error, httpx.UnsupportedProtocol) else None
    if expected is not None:
        assert isinstance(caught.value, expected)
    else:
        assert isinstance(caught.value, TransientModelError)


async def test_usage_cost_and_upstream_recorded(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str
) -> None:
    body = {
        "id": "gen-123",
        "object": "chat.completion",
        "model": "openai/gpt-4o-mini-2024-07-18",
        "provider": "Azure",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "parse_config"},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 812,
            "completion_tokens": 5,
            "total_tokens": 817,
            "cost": 0.00012495,
        },
    }
    server.enqueue(ScriptedResponse(body=body))

    reply = await openrouter.generate(_request(c_prompt))

    assert reply.text == "parse_config"
    assert reply.input_tokens == 812
    assert reply.output_tokens == 5
    assert reply.cost_usd == pytest.approx(0.00012495)
    assert reply.upstream_provider == "Azure"
    assert reply.model == "openai/gpt-4o-mini-2024-07-18"
    assert reply.finish_reason == "stop"
    assert reply.raw["id"] == "gen-123"
    assert reply.latency_ms > 0


async def test_default_answer_has_usage(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str
) -> None:
    reply = await openrouter.generate(_request(c_prompt))
    assert reply.text == "usage_config"
    assert reply.input_tokens > 0
    assert reply.output_tokens > 0
    assert reply.cost_usd is not None and reply.cost_usd > 0
    assert reply.upstream_provider == "Scripted"


async def test_reasoning_only_reply(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str
) -> None:
    server.enqueue(reasoning_only("check_config_file"))
    reply = await openrouter.generate(_request(c_prompt, model="deepseek/deepseek-r1"))
    assert reply.text == ""
    assert reply.reasoning is not None
    assert reply.finish_reason == "length"
    parsed = parse_reply(reply.text, reply.reasoning)
    assert parsed.parse_ok
    assert parsed.name == "check_config_file"


async def test_reasoning_content_field(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str
) -> None:
    """vLLM and DeepSeek's API name the field reasoning_content."""
    body = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "reasoning_content": "so `f`"},
                "finish_reason": "length",
            }
        ]
    }
    server.enqueue(ScriptedResponse(body=body))
    reply = await openrouter.generate(_request(c_prompt))
    assert reply.text == ""
    assert reply.reasoning == "so `f`"
    assert reply.cost_usd is None
    assert reply.input_tokens == 0


@pytest.mark.parametrize(
    ("fault", "expected_text"),
    [
        pytest.param(fenced("load_settings", "c"), "```c\nload_settings\n```", id="fenced"),
        pytest.param(
            prose("load_settings"),
            "Looking at the control flow, I would name this function `load_settings`.",
            id="prose",
        ),
    ],
)
async def test_text_passes_through(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    fault: ScriptedResponse,
    expected_text: str,
) -> None:
    server.enqueue(fault)
    reply = await openrouter.generate(_request(c_prompt))
    assert reply.text == expected_text
    assert parse_reply(reply.text).name == "load_settings"


async def test_openrouter_request_shape(
    server: ScriptedServer, openrouter: OpenAICompatibleProvider, c_prompt: str, api_key: str
) -> None:
    await openrouter.generate(_request(c_prompt, system="You name functions.", seed=7))
    (recorded,) = server.requests
    assert recorded.method == "POST"
    assert recorded.path == "/v1/chat/completions"
    assert recorded.headers["authorization"] == f"Bearer {api_key}"
    assert recorded.headers["x-title"] == "reforge"
    assert recorded.headers["http-referer"]
    assert recorded.body["usage"] == {"include": True}
    assert recorded.body["model"] == MODEL
    assert recorded.body["seed"] == 7
    assert recorded.body["temperature"] == 0.0
    assert recorded.body["messages"] == [
        {"role": "system", "content": "You name functions."},
        {"role": "user", "content": c_prompt},
    ]


async def test_plain_server_gets_no_app_headers(c_prompt: str) -> None:
    with ScriptedServer() as server:
        provider = get_provider("openai", base_url=server.base_url)
        await provider.generate(_request(c_prompt))
        await provider.aclose()
        (recorded,) = server.requests
    assert "authorization" not in recorded.headers
    assert "x-title" not in recorded.headers
    assert "usage" not in recorded.body


async def test_key_never_leaks(
    server: ScriptedServer,
    openrouter: OpenAICompatibleProvider,
    c_prompt: str,
    api_key: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)

    # A reply whose body echoes the key, as a misbehaving proxy might.
    echo = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "parse_config"},
                "finish_reason": "stop",
            }
        ],
        "echo": {"Authorization": f"Bearer {api_key}", "note": f"key was {api_key}"},
    }
    server.enqueue(ScriptedResponse(body=echo))
    request = _request(c_prompt)
    reply = await openrouter.generate(request)

    # An error whose message repeats the key.
    server.enqueue(http_error(401, f"invalid key {api_key}"))
    with pytest.raises(PermanentModelError) as caught:
        await openrouter.generate(request)

    cache = ResponseCache(tmp_path / "cache")
    cache.put(request_cache_key("openrouter", request, base_url=server.base_url), reply)

    assert server.requests[0].headers["authorization"] == f"Bearer {api_key}"
    assert api_key not in json.dumps(reply.raw)
    assert reply.raw["echo"]["Authorization"] == "[REDACTED]"
    assert api_key not in str(caught.value)
    assert api_key not in repr(openrouter)
    assert all(api_key not in record.getMessage() for record in caplog.records)
    cache_files = list((tmp_path / "cache").rglob("*.json"))
    assert len(cache_files) == 1
    assert all(api_key not in path.read_text() for path in cache_files)


async def test_unauthorised_request_is_permanent(server: ScriptedServer, c_prompt: str) -> None:
    provider = get_provider("openrouter", api_key="sk-wrong", base_url=server.base_url)
    with pytest.raises(PermanentModelError) as caught:
        await provider.generate(_request(c_prompt))
    await provider.aclose()
    assert caught.value.status == 401
    assert "API key" in str(caught.value)


def test_openrouter_needs_key(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="OPENROUTER_API_KEY"):
        get_provider("openrouter", settings=settings)


def test_openai_compatible_needs_base_url(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="REFORGE_LLM_BASE_URL"):
        get_provider("openai-compatible", settings=settings)


def test_base_url_scheme_checked() -> None:
    with pytest.raises(ConfigError, match="ftp://"):
        get_provider("openai", base_url="ftp://127.0.0.1/v1")


def test_openrouter_default_base_url(settings: Settings) -> None:
    provider = get_provider("openrouter", api_key="sk-x", settings=settings)
    assert isinstance(provider, OpenAICompatibleProvider)
    assert provider.base_url == "https://openrouter.ai/api/v1"
    assert provider.connection_key() == "openrouter@openrouter.ai"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        pytest.param("1", 1.0, id="seconds"),
        pytest.param(" 2.5 ", 2.5, id="fraction"),
        pytest.param("Wed, 21 Oct 2015 07:28:30 GMT", 30.0, id="http-date"),
        pytest.param("Wed, 21 Oct 2015 07:27:00 GMT", 0.0, id="date-in-past"),
        pytest.param("-3", 0.0, id="negative"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="absent"),
    ],
)
def test_parse_retry_after(header: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=now) == expected
