"""Content-addressed cache of model replies, so that re-running an experiment costs nothing.

The key is the SHA-256 of everything that changes the answer: provider, base
URL, model, prompt, system text, sampling settings, response format, top-k,
template hash, seed, and the request quirks of the model. It contains no
secret: credentials in the base URL are removed before hashing, and API keys
never take part. Each reply is one JSON file, ``<dir>/ab/abcdef....json``::

    cache = ResponseCache(settings.data_dir / "llm-cache")
    key = request_cache_key("openrouter", request, base_url=url, template_hash=digest)
    reply = cache.get(key) or await provider.generate(request)
    cache.put(key, reply)

A cache failure never fails a run: unreadable or corrupt files and write
errors are logged at ERROR and treated as a miss. Only a malformed key, which
is a programming error, raises ValueError. Only successful replies
reach `put`, because failed calls raise instead of returning.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from reforge.llm.providers.base import ModelReply, ModelRequest
from reforge.llm.quirks import quirks_for

logger = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1
"""Version of the key material and file layout; bumping it invalidates every entry."""

_KEY = re.compile(r"[0-9a-f]{64}")


def cache_key(
    provider: str,
    base_url: str | None,
    model: str,
    prompt_text: str,
    system: str | None,
    temperature: float | None,
    max_tokens: int | None,
    response_format: str,
    top_k: int,
    template_hash: str | None,
    seed: int | None,
) -> str:
    """Return the SHA-256 hex digest that identifies the reply to one request."""
    material: dict[str, Any] = {
        "version": CACHE_FORMAT_VERSION,
        "provider": provider,
        "base_url": _public_url(base_url),
        "model": model,
        "prompt": prompt_text,
        "system": system,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "response_format": response_format,
        "top_k": top_k,
        "template_hash": template_hash,
        "seed": seed,
        # A change of the model's request quirks changes the request actually sent.
        "quirks": repr(quirks_for(model)),
    }
    encoded = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def request_cache_key(
    provider: str,
    request: ModelRequest,
    *,
    base_url: str | None = None,
    template_hash: str | None = None,
) -> str:
    """Return `cache_key` for `request`; a conversation is hashed as its JSON messages."""
    if request.prompt is not None:
        prompt_text = request.prompt
    else:
        prompt_text = json.dumps(request.chat_messages(), ensure_ascii=False)
    return cache_key(
        provider,
        base_url,
        request.model,
        prompt_text,
        request.system,
        request.temperature,
        request.max_tokens,
        request.response_format,
        request.top_k,
        template_hash,
        request.seed,
    )


def _public_url(url: str | None) -> str | None:
    """Return `url` without user info, query and fragment, and without a trailing slash."""
    if url is None:
        return None
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme.lower(), host.lower(), parts.path.rstrip("/"), "", ""))


class ResponseCache:
    """Directory of cached replies, one JSON file per key."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.hits = 0
        """Number of `get` calls that returned a reply."""
        self.misses = 0
        """Number of `get` calls that found nothing usable, errors included."""
        self.errors = 0
        """Number of read or write failures that were logged and ignored."""

    def path_for(self, key: str) -> Path:
        """Return the file that stores `key`; raise ValueError for a malformed key."""
        if not _KEY.fullmatch(key):
            raise ValueError(f"cache key must be 64 lower-case hex digits, got {key!r}")
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str) -> ModelReply | None:
        """Return the cached reply for `key` with ``cached=True``, or None on a miss."""
        path = self.path_for(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            reply = _reply_from_entry(data, key)
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            # ValueError covers invalid JSON, invalid UTF-8 and invalid fields.
            self.misses += 1
            self.errors += 1
            logger.error("ignoring unreadable cache entry %s: %s", path, exc)
            return None
        self.hits += 1
        return reply

    def put(self, key: str, reply: ModelReply) -> None:
        """Store `reply` under `key`, replacing any earlier entry; failures are logged only."""
        if not isinstance(reply, ModelReply):
            raise TypeError(f"ResponseCache.put expects a ModelReply, got {type(reply).__name__}")
        path = self.path_for(key)
        if reply.finish_reason == "error":
            logger.debug("not caching reply %s: it ended with finish_reason 'error'", key)
            return
        entry = {"version": CACHE_FORMAT_VERSION, "key": key, "reply": reply.to_dict()}
        entry["reply"]["cached"] = False
        try:
            _write_atomically(path, json.dumps(entry, ensure_ascii=False, indent=1))
        except (OSError, TypeError, ValueError) as exc:
            self.errors += 1
            logger.error("could not write cache entry %s: %s", path, exc)


def _reply_from_entry(data: object, key: str) -> ModelReply:
    if not isinstance(data, dict) or data.get("version") != CACHE_FORMAT_VERSION:
        raise ValueError(f"not a cache entry of format version {CACHE_FORMAT_VERSION}")
    if data.get("key") != key:
        raise ValueError(f"entry is stored for key {data.get('key')!r:.20}, not for this key")
    if not isinstance(data.get("reply"), dict):
        raise ValueError("entry has no reply object")
    reply = ModelReply.from_dict(data["reply"])
    return ModelReply.from_dict({**reply.to_dict(), "cached": True})


def _write_atomically(path: Path, text: str) -> None:
    """Write `text` to a temporary file next to `path`, then rename it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.stem[:8]}-", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
