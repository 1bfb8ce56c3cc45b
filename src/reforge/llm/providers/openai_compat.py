"""Provider for OpenAI-compatible chat-completions APIs: OpenRouter, vLLM, Ollama, llama.cpp.

One class speaks ``POST {base_url}/chat/completions`` over `httpx.AsyncClient`.
This module is the one place where HTTP outcomes become reforge exceptions:

=====================================================  ==============================
outcome                                                exception
=====================================================  ==============================
HTTP 429                                               RateLimitError (retry_after)
HTTP 5xx or 408, timeout, connection error             TransientModelError
  (with a ``Retry-After`` header)                      ServerBusyError (retry_after)
HTTP 200 whose body has ``error``, or whose            TransientModelError
  ``choices[0]`` has ``error`` or finish_reason error
HTTP 200 whose body is not JSON or has no choices      TransientModelError
other HTTP 4xx (400, 401, 402, 403, 404, 422, ...)     PermanentModelError
invalid base URL or unsupported scheme                 PermanentModelError
=====================================================  ==============================

OpenRouter facts this module relies on, from OpenRouter's API documentation:

- Errors have the shape ``{"error": {"code": int, "message": str, "metadata": {...}}}``.
  The HTTP status equals ``error.code`` only when the request itself is invalid
  or the account has no credit. Once the model started, the status is 200 and
  the error is in the body (Errors and Debugging page).
- 402 means the account or key has insufficient credits. 429 and 503 may carry
  a ``Retry-After`` header in seconds.
- A choice may carry its own ``error`` object and ``finish_reason: "error"``
  (NonStreamingChoice in the API reference).
- ``usage`` has ``prompt_tokens``, ``completion_tokens`` and ``cost`` in credits
  (USD). The Usage Accounting page now calls ``usage: {"include": true}``
  deprecated and says usage is always returned. It is still sent, because it
  does no harm and older deployments needed it.
- The response has a top-level ``provider`` string naming the upstream host
  (for example ``"OpenAI"``), and reasoning text is in ``message.reasoning``.
  vLLM and DeepSeek's API use ``message.reasoning_content`` instead.
- ``HTTP-Referer`` and ``X-Title`` identify the calling app.

The API key is sent only in the ``Authorization`` header. It never appears in
log messages, exception messages or `ModelReply.raw`, where any occurrence is
replaced by ``[REDACTED]``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from reforge.config import Settings, get_settings
from reforge.errors import (
    ConfigError,
    PermanentModelError,
    RateLimitError,
    TransientModelError,
)
from reforge.llm.providers.base import ModelReply, ModelRequest, Provider, ServerBusyError
from reforge.llm.quirks import Dialect, apply_quirks

logger = logging.getLogger(__name__)

DEFAULT_OPENROUTER_BASE_URL = "https://openrouter.ai/api/v1"
# NOTE: placeholder under the reserved .invalid domain (RFC 2606); pass app_url= to
# have OpenRouter attribute the calls to a real project page.
DEFAULT_APP_URL = "https://reforge.invalid/"
DEFAULT_APP_TITLE = "reforge"
REDACTED = "[REDACTED]"

_SECRET_FIELDS = frozenset({"authorization", "api_key", "api-key", "x-api-key", "apikey"})
_STATUS_HINTS = {
    400: "check the request parameters this model accepts (reforge.llm.quirks)",
    401: "check the API key (OPENROUTER_API_KEY or REFORGE_LLM_API_KEY)",
    402: "the account or key has no credit left; add credits or lower max_tokens",
    403: "the provider refused the input (moderation or missing permission)",
    404: "check the model slug and the base URL",
    422: "the server rejected the request body; check the model's parameters",
}
_MAX_MESSAGE_CHARS = 300


class OpenAICompatibleProvider(Provider):
    """Chat-completions client for OpenRouter and any OpenAI-compatible server."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | SecretStr | None = None,
        name: str = "openai-compatible",
        dialect: Dialect = "openai",
        app_url: str | None = None,
        app_title: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        max_connections: int = 16,
        extra_body: Mapping[str, Any] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(
                f"invalid model API base URL {base_url!r}; expected http(s)://host[:port]/path, "
                "for example http://127.0.0.1:8000/v1"
            )
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.dialect: Dialect = dialect
        self.timeout = timeout
        self._api_key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        self._app_headers = _app_headers(dialect, app_url, app_title)
        self._timeouts = httpx.Timeout(timeout, connect=connect_timeout)
        self._max_connections = max_connections
        self._extra_body = dict(extra_body or {})
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        key_state = "set" if self._api_key else "none"
        return (
            f"{type(self).__name__}(name={self.name!r}, base_url={self.base_url!r}, "
            f"key={key_state})"
        )

    def connection_key(self) -> str:
        """Return the pool key: provider name and host, so two base URLs do not share limits."""
        return f"{self.name}@{urlsplit(self.base_url).netloc}"

    def max_connections(self) -> int:
        """Return the configured connection pool size."""
        return self._max_connections

    async def aclose(self) -> None:
        """Close the HTTP client and its connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def build_body(self, request: ModelRequest) -> dict[str, Any]:
        """Return the JSON body for `request`, with the model's quirks applied."""
        body: dict[str, Any] = {"model": request.model, "messages": request.chat_messages()}
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if request.max_tokens is not None:
            body["max_tokens"] = request.max_tokens
        if request.seed is not None:
            body["seed"] = request.seed
        if request.response_format == "json":
            body["response_format"] = {"type": "json_object"}
        if self.dialect == "openrouter":
            body["usage"] = {"include": True}
        body.update(self._extra_body)
        return apply_quirks(request.model, body, dialect=self.dialect)

    async def generate(self, request: ModelRequest) -> ModelReply:
        """Send `request` and return the reply; raise a ModelApiError subclass on failure."""
        body = self.build_body(request)
        url = f"{self.base_url}/chat/completions"
        logger.debug("POST %s model=%s", url, request.model)

        started = time.perf_counter()
        response = await self._post(url, body, request.model)
        latency_ms = (time.perf_counter() - started) * 1000.0

        logger.debug(
            "%s replied HTTP %d for model=%s in %.0f ms",
            self.name,
            response.status_code,
            request.model,
            latency_ms,
        )
        return self._reply_from_response(request.model, response, latency_ms)

    async def _post(self, url: str, body: dict[str, Any], model: str) -> httpx.Response:
        client = self._get_client()
        try:
            return await client.post(url, json=body, headers=self._request_headers())
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            detail = self._redact_text(str(exc))
            raise PermanentModelError(
                f"{self.name} cannot send to {url!r} for model {model!r}: {detail}; "
                "check the base URL"
            ) from exc
        except httpx.TimeoutException as exc:
            raise TransientModelError(
                f"{self.name} request for model {model!r} timed out after {self.timeout:g} s "
                f"({type(exc).__name__})"
            ) from exc
        except httpx.HTTPError as exc:
            raise TransientModelError(
                f"{self.name} request for model {model!r} to {self.base_url} failed: "
                f"{type(exc).__name__}: {self._redact_text(str(exc))}"
            ) from exc

    def _get_client(self) -> httpx.AsyncClient:
        # An AsyncClient's pooled connections belong to one event loop, so a
        # provider reused from another loop (a new notebook cell run) gets a new client.
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            limits = httpx.Limits(
                max_connections=self._max_connections,
                max_keepalive_connections=self._max_connections,
            )
            self._client = httpx.AsyncClient(
                timeout=self._timeouts, limits=limits, transport=self._transport
            )
            self._client_loop = loop
        return self._client

    def _request_headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", **self._app_headers}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        return headers

    def _reply_from_response(
        self, model: str, response: httpx.Response, latency_ms: float
    ) -> ModelReply:
        payload = _json_body(response)
        self._raise_for_status(model, response, payload)
        if not isinstance(payload, dict):
            raise TransientModelError(
                f"{self.name} returned HTTP {response.status_code} for model {model!r} "
                f"with a body that is not a JSON object: {_snippet(response.text)!r}",
                status=response.status_code,
            )
        self._raise_for_body_error(model, response.status_code, payload)
        return self._reply_from_payload(payload, latency_ms)

    def _raise_for_status(self, model: str, response: httpx.Response, payload: object) -> None:
        status = response.status_code
        if status < 400:
            return
        detail = self._redact_text(_error_message(payload) or _snippet(response.text))
        message = f"{self.name} call for model {model!r} failed with HTTP {status}: {detail}"
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            raise RateLimitError(message, status=status, retry_after=retry_after)
        if status == 408 or status >= 500:
            if retry_after is not None:
                raise ServerBusyError(message, status=status, retry_after=retry_after)
            raise TransientModelError(message, status=status)
        hint = _STATUS_HINTS.get(status, "the request is invalid for this provider")
        raise PermanentModelError(f"{message}; {hint}", status=status)

    def _raise_for_body_error(self, model: str, status: int, payload: dict[str, Any]) -> None:
        error = payload.get("error")
        if error:
            detail = self._redact_text(_error_message(payload) or str(error))
            message = (
                f"{self.name} returned an error inside HTTP {status} for model {model!r}: {detail}"
            )
            if isinstance(error, dict) and error.get("code") in (429, "429", "rate_limit_exceeded"):
                raise RateLimitError(message, status=status)
            raise TransientModelError(message, status=status)
        choices = payload.get("choices")
        if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
            raise TransientModelError(
                f"{self.name} returned HTTP {status} for model {model!r} without choices",
                status=status,
            )
        choice = choices[0]
        if choice.get("error") or choice.get("finish_reason") == "error":
            detail = self._redact_text(_error_message(choice) or "finish_reason 'error'")
            raise TransientModelError(
                f"{self.name} generation for model {model!r} ended with an error: {detail}",
                status=status,
            )

    def _reply_from_payload(self, payload: dict[str, Any], latency_ms: float) -> ModelReply:
        choice = payload["choices"][0]
        message = choice.get("message") if isinstance(choice.get("message"), dict) else {}
        usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else {}
        upstream = payload.get("provider")
        reported_model = payload.get("model")
        return ModelReply(
            text=_content_text(message.get("content")),
            reasoning=_reasoning_text(message),
            input_tokens=_int(usage.get("prompt_tokens")),
            output_tokens=_int(usage.get("completion_tokens")),
            cost_usd=_float_or_none(usage.get("cost")),
            upstream_provider=upstream if isinstance(upstream, str) else None,
            model=reported_model if isinstance(reported_model, str) else None,
            finish_reason=_str_or_none(choice.get("finish_reason")),
            latency_ms=latency_ms,
            raw=self._redact(payload),
        )

    def _redact_text(self, text: str) -> str:
        if self._api_key and self._api_key in text:
            return text.replace(self._api_key, REDACTED)
        return text

    def _redact(self, value: Any) -> Any:
        """Return a copy of `value` with secret fields and every occurrence of the key replaced."""
        if isinstance(value, dict):
            return {
                key: REDACTED if str(key).lower() in _SECRET_FIELDS else self._redact(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self._redact(item) for item in value]
        if isinstance(value, str):
            return self._redact_text(value)
        return value


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Return the delay in seconds that a ``Retry-After`` header requests, or None.

    The header holds either a number of seconds or an HTTP date (RFC 9110,
    section 10.2.3). A date in the past gives 0.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        seconds = None
    if seconds is not None:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def create_openrouter_provider(
    *,
    api_key: str | SecretStr | None = None,
    base_url: str | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> OpenAICompatibleProvider:
    """Create the OpenRouter provider; the key comes from `api_key` or ``OPENROUTER_API_KEY``."""
    settings = settings or get_settings()
    key = api_key or settings.openrouter_api_key
    if not key:
        raise ConfigError(
            "OpenRouter needs an API key: set OPENROUTER_API_KEY or pass api_key=; "
            "use the openai-compatible provider for a local server without a key"
        )
    return OpenAICompatibleProvider(
        base_url=base_url or settings.openrouter_base_url or DEFAULT_OPENROUTER_BASE_URL,
        api_key=key,
        name=options.pop("name", "openrouter"),
        dialect="openrouter",
        **options,
    )


def create_openai_compatible_provider(
    *,
    base_url: str | None = None,
    api_key: str | SecretStr | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> OpenAICompatibleProvider:
    """Create a provider for the OpenAI-compatible server at `base_url`.

    Without `base_url`, ``REFORGE_LLM_BASE_URL`` is used; the key is optional.
    """
    settings = settings or get_settings()
    url = base_url or settings.llm_base_url
    if not url:
        raise ConfigError(
            "the openai-compatible provider needs a base URL: set REFORGE_LLM_BASE_URL or pass "
            "base_url=, for example http://127.0.0.1:8000/v1 for vLLM"
        )
    return OpenAICompatibleProvider(
        base_url=url,
        api_key=api_key or settings.llm_api_key,
        name=options.pop("name", "openai-compatible"),
        dialect=options.pop("dialect", "openai"),
        **options,
    )


def _app_headers(dialect: Dialect, app_url: str | None, app_title: str | None) -> dict[str, str]:
    if dialect != "openrouter" and app_url is None and app_title is None:
        return {}
    return {
        "HTTP-Referer": app_url or DEFAULT_APP_URL,
        "X-Title": app_title or DEFAULT_APP_TITLE,
    }


def _json_body(response: httpx.Response) -> object:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _error_message(payload: object) -> str | None:
    """Return ``error.message`` (with its code and upstream provider) from an error body."""
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, str):
        return _snippet(error)
    if not isinstance(error, dict):
        return None
    parts = [str(error.get("message") or "no message")]
    if error.get("code") is not None:
        parts.append(f"code {error['code']}")
    metadata = error.get("metadata")
    if isinstance(metadata, dict) and metadata.get("provider_name"):
        parts.append(f"upstream {metadata['provider_name']}")
    return _snippet("; ".join(parts))


def _content_text(content: object) -> str:
    """Return message content as text; some servers send a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [part.get("text", "") for part in content if isinstance(part, dict)]
        return "".join(text for text in texts if isinstance(text, str))
    return ""


def _reasoning_text(message: dict[str, Any]) -> str | None:
    for key in ("reasoning", "reasoning_content"):
        value = message.get(key)
        if isinstance(value, str) and value.strip():
            return value
    details = message.get("reasoning_details")
    if isinstance(details, list):
        texts = [
            item.get("text") or item.get("summary") or ""
            for item in details
            if isinstance(item, dict)
        ]
        joined = "\n".join(text for text in texts if isinstance(text, str) and text)
        return joined or None
    return None


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > _MAX_MESSAGE_CHARS:
        return text[:_MAX_MESSAGE_CHARS] + "..."
    return text


def _int(value: object) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int | float) and math.isfinite(value):
        return int(value)
    return 0


def _float_or_none(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None
