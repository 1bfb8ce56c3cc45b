"""The scripted OpenAI-compatible server, used through real HTTP clients."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys

import httpx
import pytest

from reforge.llm.providers import ModelRequest, get_provider
from reforge.llm.scripted_server import (
    FALLBACK_NAME,
    ScriptedServer,
    answer,
    pseudo_model_name,
    rate_limit,
)


def test_models_endpoint() -> None:
    with ScriptedServer(models=("a/one", "b/two")) as server:
        response = httpx.get(f"{server.base_url}/models")
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["data"]] == ["a/one", "b/two"]


def test_base_url_on_loopback() -> None:
    with ScriptedServer() as server:
        assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
        assert server.port > 0


def test_pseudo_model_names(c_prompt: str) -> None:
    assert pseudo_model_name(c_prompt) == "usage_config"
    assert pseudo_model_name("```c\nint FUN_1(int a) { return a + 1; }\n```") == FALLBACK_NAME
    assert pseudo_model_name("```c\nvoid f(void) { inflateInit(); deflateEnd(); }\n```") == (
        "inflate_init"
    )


async def test_concurrent_requests_overlap(c_prompt: str) -> None:
    with ScriptedServer(delay=0.3) as server:
        provider = get_provider("openai", base_url=server.base_url, max_connections=64)
        request = ModelRequest(model="scripted/pseudo-model", prompt=c_prompt)
        replies = await asyncio.gather(*(provider.generate(request) for _ in range(40)))
        await provider.aclose()
        assert server.request_count == 40
        assert server.max_in_flight >= 32
    assert {reply.text for reply in replies} == {"usage_config"}


def test_records_and_resets(c_prompt: str) -> None:
    with ScriptedServer() as server:
        body = {"model": "m", "messages": [{"role": "user", "content": c_prompt}]}
        httpx.post(f"{server.base_url}/chat/completions", json=body, headers={"X-Test": "1"})
        (recorded,) = server.requests
        assert recorded.body == body
        assert recorded.headers["x-test"] == "1"
        assert server.request_count == 1
        server.enqueue(answer("queued"))
        server.reset()
        assert server.requests == []
        assert server.pending == 0


def test_queue_is_first_in_first_out() -> None:
    with ScriptedServer() as server:
        server.enqueue(rate_limit(retry_after=3), answer("second"))
        body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
        first = httpx.post(f"{server.base_url}/chat/completions", json=body)
        second = httpx.post(f"{server.base_url}/chat/completions", json=body)
        third = httpx.post(f"{server.base_url}/chat/completions", json=body)
    assert first.status_code == 429
    assert first.headers["retry-after"] == "3"
    assert second.json()["choices"][0]["message"]["content"] == "second"
    assert third.json()["choices"][0]["message"]["content"] == FALLBACK_NAME


def test_json_mode_answers(c_prompt: str) -> None:
    with ScriptedServer() as server:
        url = f"{server.base_url}/chat/completions"
        single = {
            "model": "m",
            "messages": [{"role": "user", "content": c_prompt}],
            "response_format": {"type": "json_object"},
        }
        ranked = {
            **single,
            "messages": [{"role": "user", "content": c_prompt + "\nGive 3 candidates."}],
        }
        single_text = httpx.post(url, json=single).json()["choices"][0]["message"]["content"]
        ranked_text = httpx.post(url, json=ranked).json()["choices"][0]["message"]["content"]
    assert json.loads(single_text) == {"name": "usage_config"}
    names = [c["name"] for c in json.loads(ranked_text)["candidates"]]
    assert names[0] == "usage_config"
    assert len(names) == 3


def test_bad_requests() -> None:
    with ScriptedServer(api_key="sk-right") as server:
        url = f"{server.base_url}/chat/completions"
        body = {"model": "m", "messages": []}
        unauthorised = httpx.post(url, json=body)
        authorised = httpx.post(url, json=body, headers={"Authorization": "Bearer sk-right"})
        not_json = httpx.post(url, content=b"nope", headers={"Authorization": "Bearer sk-right"})
        unknown = httpx.post(f"{server.base_url}/embeddings", json=body)
    assert unauthorised.status_code == 401
    assert authorised.status_code == 200
    assert not_json.status_code == 400
    assert unknown.status_code == 404


def test_module_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "reforge.llm.scripted_server", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = line.split(" at ")[1].split()[0]
        assert base_url.startswith("http://127.0.0.1:")
        response = httpx.get(f"{base_url}/models", timeout=10)
        assert response.status_code == 200
    finally:
        os.kill(process.pid, signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0


@pytest.mark.parametrize("path", ["/v1/models", "/v1/models/"])
def test_models_path_variants(path: str) -> None:
    with ScriptedServer() as server:
        response = httpx.get(f"http://127.0.0.1:{server.port}{path}")
    assert response.status_code == 200
