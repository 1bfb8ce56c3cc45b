"""A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests, benchmarks and notebooks.

The server serves ``POST /v1/chat/completions`` and ``GET /v1/models`` like a
real provider, so client code runs unchanged against it. By default a
deterministic pseudo-model names the function in the prompt from the words of
its string literals and called functions, falling back to ``process_data``.
Queued `ScriptedResponse` values replace the default answer for the next
requests in order; the factory functions below build the usual faults::

    with ScriptedServer(delay=0.2) as server:
        server.enqueue(rate_limit(retry_after=1), server_error(500))
        provider = get_provider("openai-compatible", base_url=server.base_url)
        ...
        assert server.request_count == 3

Every request is recorded with its headers and JSON body, so tests can check
what a client sent. Each connection is served by its own thread (the standard
library's ThreadingHTTPServer), which handles dozens of concurrent requests
that each wait for `delay`. Run ``python -m reforge.llm.scripted_server --port 8081``
to serve until interrupted.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from reforge.llm.codetext import (
    called_functions,
    extract_code,
    split_identifier,
    string_literal_words,
)

logger = logging.getLogger(__name__)

DEFAULT_MODELS = ("scripted/pseudo-model",)
FALLBACK_NAME = "process_data"
UPSTREAM_PROVIDER = "Scripted"
# Prices in USD per token, of the order of a small hosted model.
PRICE_PER_INPUT_TOKEN = 1e-7
PRICE_PER_OUTPUT_TOKEN = 4e-7

_STOP_WORDS = frozenset(
    {"the", "and", "for", "with", "from", "this", "that", "not", "are", "was", "has", "have"}
)


@dataclass(frozen=True, slots=True)
class ScriptedResponse:
    """One scripted reply that replaces the default answer for the next request.

    With `body` None, the server builds a normal completion from `content`
    (the default answer when `content` is None too), `reasoning` and
    `finish_reason`. A dict `body` is sent as JSON and a str body as text.
    """

    status: int = 200
    """HTTP status code."""
    body: dict[str, Any] | str | None = None
    """Complete response body, used as is."""
    headers: tuple[tuple[str, str], ...] = ()
    """Extra response headers."""
    delay: float = 0.0
    """Seconds to wait before responding, on top of the server-wide delay."""
    content: str | None = None
    """Assistant message content of a normal completion."""
    reasoning: str | None = None
    """``message.reasoning`` of a normal completion."""
    finish_reason: str = "stop"
    """``finish_reason`` of a normal completion."""


def answer(content: str, *, reasoning: str | None = None) -> ScriptedResponse:
    """Return a normal completion whose message content is `content`."""
    return ScriptedResponse(content=content, reasoning=reasoning)


def rate_limit(retry_after: float | str | None = 1) -> ScriptedResponse:
    """Return HTTP 429 with a ``Retry-After`` header (omitted when None)."""
    headers = () if retry_after is None else (("Retry-After", str(retry_after)),)
    body = {"error": {"code": 429, "message": "Rate limit exceeded: scripted"}}
    return ScriptedResponse(status=429, body=body, headers=headers)


def server_error(status: int = 500, *, retry_after: float | None = None) -> ScriptedResponse:
    """Return an HTTP 5xx error with an OpenRouter-style error body."""
    headers = () if retry_after is None else (("Retry-After", str(retry_after)),)
    body = {"error": {"code": status, "message": f"scripted server error {status}"}}
    return ScriptedResponse(status=status, body=body, headers=headers)


def http_error(status: int, message: str = "scripted client error") -> ScriptedResponse:
    """Return an HTTP error such as 400, 401, 402, 403, 404 or 422."""
    return ScriptedResponse(status=status, body={"error": {"code": status, "message": message}})


def timeout(seconds: float = 30.0) -> ScriptedResponse:
    """Return the default answer after `seconds`, longer than a client's timeout."""
    return ScriptedResponse(delay=seconds)


def error_in_body(code: int = 502, message: str = "Upstream provider error") -> ScriptedResponse:
    """Return HTTP 200 whose body is an error object, as OpenRouter sends mid-generation errors."""
    body = {
        "error": {
            "code": code,
            "message": message,
            "metadata": {"provider_name": "ScriptedUpstream"},
        }
    }
    return ScriptedResponse(body=body)


def choice_error(message: str = "generation failed upstream") -> ScriptedResponse:
    """Return HTTP 200 whose first choice has an ``error`` and finish_reason ``error``."""
    body = {
        "id": "gen-scripted-error",
        "object": "chat.completion",
        "model": "scripted",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": ""},
                "finish_reason": "error",
                "error": {"code": 502, "message": message},
            }
        ],
    }
    return ScriptedResponse(body=body)


def reasoning_only(name: str) -> ScriptedResponse:
    """Return empty content with the answer only in the ``reasoning`` field."""
    reasoning = f"The code reads input and checks it. A fitting name is `{name}`."
    return ScriptedResponse(content="", reasoning=reasoning, finish_reason="length")


def fenced(name: str, language: str = "text") -> ScriptedResponse:
    """Return the name inside a fenced code block."""
    return answer(f"```{language}\n{name}\n```")


def prose(name: str) -> ScriptedResponse:
    """Return the name backticked inside a sentence."""
    return answer(f"Looking at the control flow, I would name this function `{name}`.")


def invalid_json() -> ScriptedResponse:
    """Return HTTP 200 with an HTML body instead of JSON."""
    return ScriptedResponse(body="<html><body>502 Bad Gateway</body></html>")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """A request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]
    """Headers with lower-case names."""
    body: Any
    """Parsed JSON body, or None when the body was empty or not JSON."""
    raw: bytes = b""
    received_at: float = field(default=0.0)
    """``time.monotonic()`` when the request arrived."""


def pseudo_model_name(prompt: str) -> str:
    """Return a deterministic snake_case name built from the words of the prompt's code."""
    code = extract_code(prompt)
    words: list[str] = []
    for word in string_literal_words(code):
        if len(word) > 2 and word not in _STOP_WORDS and word not in words:
            words.append(word)
    for function in called_functions(code):
        for word in split_identifier(function):
            if len(word) > 2 and word not in words:
                words.append(word)
    if not words:
        return FALLBACK_NAME
    return "_".join(words[:2])


class ScriptedServer:
    """OpenAI-compatible server on a background thread; use as a context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        models: tuple[str, ...] = DEFAULT_MODELS,
        api_key: str | None = None,
        answer_fn: Callable[[dict[str, Any]], str] | None = None,
    ) -> None:
        self.host = host
        self.requested_port = port
        self.delay = delay
        """Seconds every chat completion waits before answering."""
        self.models = models
        self.api_key = api_key
        """When set, requests without ``Authorization: Bearer <api_key>`` get HTTP 401."""
        self.answer_fn = answer_fn or _default_answer
        self._lock = threading.Lock()
        self._queue: deque[ScriptedResponse] = deque()
        self._requests: list[RecordedRequest] = []
        self._ids = itertools.count(1)
        self._in_flight = 0
        self._max_in_flight = 0
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Port the server listens on."""
        if self._httpd is None:
            raise RuntimeError("ScriptedServer is not running; call start() or use `with`")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """Base URL to give a client, ending in ``/v1``."""
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> None:
        """Bind the port and serve on a daemon thread."""
        if self._httpd is not None:
            return
        self._stopping.clear()
        self._httpd = _Server((self.host, self.requested_port), _Handler, self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"scripted-server-{self.port}",
            daemon=True,
        )
        self._thread.start()
        logger.debug("scripted server listening on %s", self.base_url)

    def stop(self) -> None:
        """Stop serving, wake requests that are still waiting, and close the socket."""
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def enqueue(self, *responses: ScriptedResponse) -> None:
        """Queue responses for the next chat completions, first in first out."""
        with self._lock:
            self._queue.extend(responses)

    @property
    def pending(self) -> int:
        """Number of queued responses not yet sent."""
        with self._lock:
            return len(self._queue)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Copy of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        """Number of chat-completion requests received."""
        with self._lock:
            return sum(1 for r in self._requests if r.path.endswith("/chat/completions"))

    @property
    def max_in_flight(self) -> int:
        """Maximum number of chat completions in progress at the same time."""
        with self._lock:
            return self._max_in_flight

    def reset(self) -> None:
        """Forget recorded requests, queued responses and the in-flight maximum."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._max_in_flight = 0

    # The methods below run on the server's handler threads.

    def _enter_request(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_in_flight = max(self._max_in_flight, self._in_flight)

    def _leave_request(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _next_scripted(self) -> ScriptedResponse | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _completion(
        self, body: dict[str, Any], scripted: ScriptedResponse | None
    ) -> dict[str, Any]:
        content = scripted.content if scripted is not None else None
        if content is None:
            content = self.answer_fn(body)
        reasoning = scripted.reasoning if scripted is not None else None
        finish_reason = scripted.finish_reason if scripted is not None else "stop"
        prompt_tokens = max(1, len(json.dumps(body.get("messages", ""))) // 4)
        completion_tokens = max(1, (len(content) + len(reasoning or "")) // 4)
        return {
            "id": f"gen-scripted-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", "")),
            "provider": UPSTREAM_PROVIDER,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "reasoning": reasoning},
                    "finish_reason": finish_reason,
                    "native_finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
                "cost": prompt_tokens * PRICE_PER_INPUT_TOKEN
                + completion_tokens * PRICE_PER_OUTPUT_TOKEN,
            },
        }


def _default_answer(body: dict[str, Any]) -> str:
    """Name the function of the request's user messages; JSON when JSON mode is on."""
    prompt = "\n".join(_message_text(m) for m in body.get("messages", []) if _is_user(m))
    name = pseudo_model_name(prompt)
    response_format = body.get("response_format")
    wants_json = isinstance(response_format, dict) and response_format.get("type") == "json_object"
    if not wants_json:
        return name
    if "candidates" in prompt.lower():
        alternatives = [
            name,
            f"{name}_impl",
            "process_data" if name != "process_data" else "handle_data",
        ]
        scores = (0.6, 0.3, 0.1)
        return json.dumps(
            {
                "candidates": [
                    {"name": n, "confidence": s} for n, s in zip(alternatives, scores, strict=True)
                ]
            }
        )
    return json.dumps({"name": name})


def _is_user(message: object) -> bool:
    return isinstance(message, dict) and message.get("role") == "user"


def _message_text(message: Mapping[str, Any]) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops connections when dozens of clients connect at once.
    request_queue_size = 128

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], owner: ScriptedServer
    ) -> None:
        self.owner = owner
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without TCP_NODELAY each reply waits for Nagle's delayed ACK, about 40 ms.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        owner = self.server.owner
        owner._record(self._recorded(b""))
        if self.path.rstrip("/").endswith("/models"):
            data = [
                {"id": model, "object": "model", "owned_by": "scripted"} for model in owner.models
            ]
            self._send_json(200, {"object": "list", "data": data})
            return
        self._send_json(404, {"error": {"code": 404, "message": f"no route for GET {self.path}"}})

    def do_POST(self) -> None:
        owner = self.server.owner
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        recorded = self._recorded(raw)
        owner._record(recorded)
        if not self.path.endswith("/chat/completions"):
            self._send_json(
                404, {"error": {"code": 404, "message": f"no route for POST {self.path}"}}
            )
            return
        if (
            owner.api_key is not None
            and self.headers.get("Authorization") != f"Bearer {owner.api_key}"
        ):
            self._send_json(401, {"error": {"code": 401, "message": "No auth credentials found"}})
            return
        if not isinstance(recorded.body, dict) or "messages" not in recorded.body:
            self._send_json(
                400, {"error": {"code": 400, "message": "body must be a JSON object with messages"}}
            )
            return

        owner._enter_request()
        try:
            self._answer_completion(owner, recorded.body)
        finally:
            owner._leave_request()

    def _answer_completion(self, owner: ScriptedServer, body: dict[str, Any]) -> None:
        scripted = owner._next_scripted()
        owner._wait(owner.delay + (scripted.delay if scripted is not None else 0.0))
        if owner._stopping.is_set():
            self.close_connection = True
            return
        if scripted is not None and scripted.body is not None:
            self._send(scripted.status, scripted.body, scripted.headers)
            return
        status = scripted.status if scripted is not None else 200
        headers = scripted.headers if scripted is not None else ()
        self._send(status, owner._completion(body, scripted), headers)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("scripted server: " + format, *args)

    def _recorded(self, raw: bytes) -> RecordedRequest:
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        return RecordedRequest(self.command, self.path, headers, body, raw, time.monotonic())

    def _send_json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, payload, ())

    def _send(
        self, status: int, body: dict[str, Any] | str, headers: tuple[tuple[str, str], ...]
    ) -> None:
        if isinstance(body, str):
            data, content_type = body.encode("utf-8"), "text/html; charset=utf-8"
        else:
            data, content_type = json.dumps(body).encode("utf-8"), "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up waiting (a scripted timeout); nothing is left to answer.
            self.close_connection = True


def main(argv: list[str] | None = None) -> None:
    """Serve the scripted pseudo-model until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8081, help="port to bind; 0 picks a free one")
    parser.add_argument(
        "--delay", type=float, default=0.0, help="seconds to wait before each response"
    )
    parser.add_argument("--api-key", default=None, help="require this bearer token (default: none)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    server = ScriptedServer(host=args.host, port=args.port, delay=args.delay, api_key=args.api_key)
    server.start()
    print(f"scripted OpenAI-compatible server at {server.base_url} (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
