"""The content-addressed response cache: keys, hits, misses and broken entries."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest

from reforge.llm.cache import ResponseCache, cache_key, request_cache_key
from reforge.llm.providers import ModelReply, ModelRequest

BASE_ARGUMENTS: dict[str, object] = {
    "provider": "openrouter",
    "base_url": "https://openrouter.ai/api/v1",
    "model": "openai/gpt-4o-mini",
    "prompt_text": "Name this function.\n```c\nint f(void) { return 0; }\n```",
    "system": None,
    "temperature": 0.0,
    "max_tokens": 64,
    "response_format": "text",
    "top_k": 1,
    "template_hash": "abc123",
    "seed": None,
}

REPLY = ModelReply(
    text="return_zero",
    reasoning=None,
    input_tokens=40,
    output_tokens=3,
    cost_usd=0.0000072,
    upstream_provider="OpenAI",
    model="openai/gpt-4o-mini",
    finish_reason="stop",
    latency_ms=321.5,
    raw={"id": "gen-1", "choices": [{"message": {"content": "return_zero"}}]},
)


def _key(**changes: object) -> str:
    return cache_key(**{**BASE_ARGUMENTS, **changes})  # type: ignore[arg-type]


def test_key_is_sha256_hex() -> None:
    key = _key()
    assert len(key) == 64
    assert int(key, 16) >= 0
    assert _key() == key


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("provider", "openai-compatible"),
        ("base_url", "http://127.0.0.1:8000/v1"),
        ("model", "openai/gpt-4o"),
        ("prompt_text", "Name this function.\n```c\nint g(void) { return 1; }\n```"),
        ("system", "You are a reverse engineer."),
        ("temperature", 0.7),
        ("max_tokens", 128),
        ("response_format", "json"),
        ("top_k", 5),
        ("template_hash", "def456"),
        ("seed", 42),
    ],
)
def test_every_field_changes_key(field: str, value: object) -> None:
    assert _key(**{field: value}) != _key()


def test_url_credentials_not_in_key() -> None:
    with_secret = _key(base_url="https://user:hunter2@openrouter.ai/api/v1/?key=hunter2")
    assert with_secret == _key()
    assert _key(base_url="https://openrouter.ai/api/v1/") == _key()


def test_request_cache_key_matches_fields() -> None:
    request = ModelRequest(
        model="openai/gpt-4o-mini",
        prompt=str(BASE_ARGUMENTS["prompt_text"]),
        temperature=0.0,
        max_tokens=64,
    )
    key = request_cache_key(
        "openrouter", request, base_url="https://openrouter.ai/api/v1", template_hash="abc123"
    )
    assert key == _key()


def test_miss_then_hit(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = _key()
    assert cache.get(key) is None
    cache.put(key, REPLY)
    cached = cache.get(key)
    assert cached is not None
    assert cached.cached is True
    assert cached.text == "return_zero"
    assert cached.cost_usd == pytest.approx(0.0000072)
    assert cached.raw == REPLY.raw
    assert (cache.hits, cache.misses, cache.errors) == (1, 1, 0)


def test_file_layout(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = hashlib.sha256(b"layout").hexdigest()
    cache.put(key, REPLY)
    path = tmp_path / key[:2] / f"{key}.json"
    assert path.is_file()
    assert sorted(p.name for p in tmp_path.rglob("*")) == sorted([key[:2], f"{key}.json"])
    stored = json.loads(path.read_text())
    assert stored["key"] == key
    assert stored["reply"]["text"] == "return_zero"
    assert stored["reply"]["cached"] is False


def test_put_replaces_entry(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = _key()
    cache.put(key, REPLY)
    cache.put(key, ModelReply(text="other_name"))
    cached = cache.get(key)
    assert cached is not None
    assert cached.text == "other_name"


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"{not json", id="corrupt-json"),
        pytest.param(b"\xff\xfe\x00garbage", id="not-utf8"),
        pytest.param(b'{"version": 1, "key": "x", "reply": {}}', id="wrong-key"),
        pytest.param(b"[]", id="not-an-object"),
        pytest.param(b"", id="empty-file"),
    ],
)
def test_corrupt_entry_is_miss(
    tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    cache = ResponseCache(tmp_path)
    key = _key()
    path = cache.path_for(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    with caplog.at_level(logging.ERROR, logger="reforge.llm.cache"):
        assert cache.get(key) is None
    assert cache.errors == 1
    (record,) = caplog.records
    assert record.levelno == logging.ERROR
    assert str(path) in record.getMessage()


def test_entry_with_invalid_reply_fields(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = ResponseCache(tmp_path)
    key = _key()
    path = cache.path_for(key)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"version": 1, "key": key, "reply": {"text": 5}}))
    with caplog.at_level(logging.ERROR, logger="reforge.llm.cache"):
        assert cache.get(key) is None
    assert cache.errors == 1


def test_unreadable_entry_is_miss(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = ResponseCache(tmp_path)
    key = _key()
    # A directory where the file should be cannot be read as one, even by root.
    cache.path_for(key).mkdir(parents=True)
    with caplog.at_level(logging.ERROR, logger="reforge.llm.cache"):
        assert cache.get(key) is None
    assert cache.errors == 1
    assert len(caplog.records) == 1


def test_write_failure_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    cache = ResponseCache(blocker)
    with caplog.at_level(logging.ERROR, logger="reforge.llm.cache"):
        cache.put(_key(), REPLY)
    assert cache.errors == 1
    assert len(caplog.records) == 1
    assert cache.get(_key()) is None


def test_error_reply_not_cached(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(_key(), ModelReply(text="", finish_reason="error"))
    assert list(tmp_path.rglob("*")) == []


def test_malformed_key_rejected(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    with pytest.raises(ValueError, match="64 lower-case hex"):
        cache.get("../../etc/passwd")
