"""The provider abstraction: one request in, one reply out, and a registry of providers by name.

A provider turns a `ModelRequest` into a `ModelReply` with one awaitable call.
Failures are raised as the `reforge.errors.ModelApiError` subclasses, so the
retry loop in `reforge.llm.retry` treats every provider alike::

    provider = get_provider("openrouter")
    reply = await provider.generate(ModelRequest(model="openai/gpt-4o-mini", prompt=text))

Providers are looked up by name. The built-in ones are imported only when first
requested, so importing this module pulls in neither httpx nor numpy.
"""

from __future__ import annotations

import importlib
import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from reforge.errors import (
    ConfigError,
    ModelApiError,
    PermanentModelError,
    RateLimitError,
    TransientModelError,
)

ResponseFormat = Literal["text", "json"]
Role = Literal["system", "user", "assistant"]


class ServerBusyError(TransientModelError):
    """A transient failure (5xx, 408) whose response also sent a ``Retry-After`` header."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a chat conversation."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class ModelRequest:
    """One question to a model: which model, what text, and the sampling settings.

    Give either `prompt` (one user message, optionally preceded by `system`) or
    `messages` (the whole conversation), not both. Messages may be given as a
    list, and as ``{"role": ..., "content": ...}`` dicts; they are stored as a
    tuple of `ChatMessage`.
    """

    model: str
    """Model slug as the provider spells it, e.g. ``openai/gpt-4o-mini``."""
    prompt: str | None = None
    """Text of the single user message."""
    messages: tuple[ChatMessage, ...] | None = None
    """Full conversation, used instead of `prompt` and `system`."""
    system: str | None = None
    """System message sent before `prompt`."""
    temperature: float | None = 0.0
    """Sampling temperature, or None to leave the provider's default."""
    max_tokens: int | None = 256
    """Maximum completion tokens, or None to leave the provider's default."""
    response_format: ResponseFormat = "text"
    """``json`` requests JSON mode where the model supports it."""
    top_k: int = 1
    """Number of ranked candidate names the prompt requests."""
    function_uid: str | None = None
    """Bookkeeping id of the function the prompt is about; never sent to a model."""
    group: str | None = None
    """Program the function belongs to. Only baselines read it, to exclude that program."""
    seed: int | None = None
    """Sampling seed, sent to providers that accept one."""

    def __post_init__(self) -> None:
        if self.messages is not None:
            messages = tuple(_chat_message(message) for message in self.messages)
            object.__setattr__(self, "messages", messages)
        if (self.prompt is None) == (self.messages is None):
            raise ValueError(
                f"ModelRequest for {self.model!r} needs exactly one of prompt= or messages=; "
                f"got prompt={self.prompt is not None}, messages={self.messages is not None}"
            )
        if self.messages is not None and self.system is not None:
            raise ValueError(
                f"ModelRequest for {self.model!r}: put the system text into messages= "
                "instead of passing system= as well"
            )
        if self.top_k < 1:
            raise ValueError(f"ModelRequest top_k must be at least 1, got {self.top_k!r}")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ValueError(f"ModelRequest max_tokens must be positive, got {self.max_tokens!r}")

    def chat_messages(self) -> list[dict[str, str]]:
        """Return the conversation in the OpenAI chat format."""
        if self.messages is not None:
            return [{"role": message.role, "content": message.content} for message in self.messages]
        messages = []
        if self.system:
            messages.append({"role": "system", "content": self.system})
        messages.append({"role": "user", "content": self.prompt or ""})
        return messages

    @property
    def user_text(self) -> str:
        """Text of the user messages, joined by blank lines; what a baseline reads."""
        if self.prompt is not None:
            return self.prompt
        assert self.messages is not None
        return "\n\n".join(m.content for m in self.messages if m.role == "user")


@dataclass(frozen=True, slots=True)
class ModelReply:
    """Reply of a provider to one request, with usage and cost."""

    text: str
    """Answer text (message content); empty when the model only produced reasoning."""
    reasoning: str | None = None
    """Reasoning text of reasoning models, when the provider returns it."""
    input_tokens: int = 0
    """Prompt tokens as reported by the provider."""
    output_tokens: int = 0
    """Completion tokens as reported by the provider, reasoning tokens included."""
    cost_usd: float | None = None
    """Cost of the call in USD as reported by the provider, or None when it reports none."""
    upstream_provider: str | None = None
    """Host that served the request behind a router (OpenRouter's ``provider`` field)."""
    model: str | None = None
    """Model id as reported in the response, which may differ from the requested slug."""
    finish_reason: str | None = None
    """Why generation stopped: ``stop``, ``length``, ``content_filter``, ..."""
    latency_ms: float = 0.0
    """Wall-clock time of the HTTP exchange in milliseconds."""
    raw: dict[str, Any] = field(default_factory=dict)
    """Response JSON with anything secret removed."""
    cached: bool = False
    """True when the reply came from the response cache instead of the provider."""

    def to_dict(self) -> dict[str, Any]:
        """Return the reply as a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelReply:
        """Build a reply from `to_dict` output; raise ValueError if a field is invalid."""
        text = data.get("text")
        raw = data.get("raw", {})
        if not isinstance(text, str) or not isinstance(raw, dict):
            raise ValueError(f"invalid ModelReply data: text={text!r:.60}, raw type {type(raw)}")
        cost = data.get("cost_usd")
        return cls(
            text=text,
            reasoning=_optional_str(data.get("reasoning")),
            input_tokens=int(data.get("input_tokens") or 0),
            output_tokens=int(data.get("output_tokens") or 0),
            cost_usd=None if cost is None else float(cost),
            upstream_provider=_optional_str(data.get("upstream_provider")),
            model=_optional_str(data.get("model")),
            finish_reason=_optional_str(data.get("finish_reason")),
            latency_ms=float(data.get("latency_ms") or 0.0),
            raw=raw,
            cached=bool(data.get("cached", False)),
        )


def _chat_message(message: ChatMessage | Mapping[str, str]) -> ChatMessage:
    if isinstance(message, ChatMessage):
        return message
    role, content = message.get("role"), message.get("content")
    if role not in ("system", "user", "assistant") or not isinstance(content, str):
        raise ValueError(
            "chat message needs role system, user or assistant and str content, "
            f"got {message!r:.80}"
        )
    return ChatMessage(role, content)


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


class Provider(ABC):
    """A source of model replies: a remote API or an offline baseline.

    Subclasses implement `generate` and may override the hooks below. A provider
    holding network connections belongs to the event loop that first used it;
    close it with `aclose` or ``async with``.
    """

    name: str = "provider"
    """Registry name, also recorded with every result (baselines contain ``baseline``)."""
    is_baseline: bool = False
    """True for offline baselines, which tables label as such."""

    @abstractmethod
    async def generate(self, request: ModelRequest) -> ModelReply:
        """Send one request and return the reply; raise a ModelApiError subclass on failure."""

    def should_retry(self, exc: BaseException) -> bool:
        """Return True if `exc` may succeed on another attempt.

        Rate limits and transient errors are retryable. The retry loop never
        retries a PermanentModelError, whatever this hook returns.
        """
        return isinstance(exc, RateLimitError | TransientModelError)

    def connection_key(self) -> str:
        """Return the key of the connection pool this provider shares with others."""
        return self.name

    def max_connections(self) -> int:
        """Return the maximum number of concurrent requests this provider should receive."""
        return 8

    async def aclose(self) -> None:  # noqa: B027 (an optional hook, empty on purpose)
        """Release network resources; the default has none."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


ProviderFactory = Callable[..., Provider]

# Built-in providers as "module:attribute", imported on first use.
_BUILTIN_PROVIDERS: dict[str, str] = {
    "openrouter": "reforge.llm.providers.openai_compat:create_openrouter_provider",
    "openai-compatible": "reforge.llm.providers.openai_compat:create_openai_compatible_provider",
    "baseline-nn": "reforge.llm.providers.baseline:NearestNeighbourBaseline",
    "baseline-trivial": "reforge.llm.providers.baseline:TrivialBaseline",
}
_ALIASES: dict[str, str] = {"openai": "openai-compatible"}
_registered: dict[str, ProviderFactory] = {}


def register_provider(name: str, factory: ProviderFactory, *, replace: bool = False) -> None:
    """Register `factory` under `name`; `get_provider(name, **options)` calls it.

    Raise ConfigError if the name is taken, unless `replace` is True.
    """
    key = name.strip().lower()
    if not key:
        raise ConfigError("provider name must not be empty")
    taken = key in _registered or key in _BUILTIN_PROVIDERS or key in _ALIASES
    if taken and not replace:
        raise ConfigError(
            f"provider name {name!r} is already registered; pass replace=True to override it"
        )
    _registered[key] = factory


def unregister_provider(name: str) -> None:
    """Remove a provider added by `register_provider`; built-in providers stay."""
    _registered.pop(name.strip().lower(), None)


def provider_names() -> list[str]:
    """Return every name `get_provider` accepts, aliases included, sorted."""
    return sorted({*_BUILTIN_PROVIDERS, *_ALIASES, *_registered})


def get_provider(name: str, **options: Any) -> Provider:
    """Create the provider registered under `name`, passing `options` to its factory.

    Raise ConfigError for an unknown name; the message lists the known names.
    """
    key = name.strip().lower()
    factory = _registered.get(key)
    if factory is None:
        key = _ALIASES.get(key, key)
        target = _BUILTIN_PROVIDERS.get(key)
        if target is None:
            raise ConfigError(
                f"unknown model provider {name!r}; known providers: {', '.join(provider_names())}"
            )
        factory = _import_factory(target)
    return factory(**options)


def _import_factory(target: str) -> ProviderFactory:
    module_name, _, attribute = target.partition(":")
    module = importlib.import_module(module_name)
    factory: ProviderFactory = getattr(module, attribute)
    return factory


def retry_after_of(exc: BaseException) -> float | None:
    """Return the ``Retry-After`` delay in seconds carried by `exc`, if any."""
    value = getattr(exc, "retry_after", None)
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def is_permanent(exc: BaseException) -> bool:
    """Return True for errors that no retry can fix."""
    return isinstance(exc, PermanentModelError) or (
        isinstance(exc, ModelApiError) and not isinstance(exc, RateLimitError | TransientModelError)
    )
