"""A local OpenAI-compatible chat server for tests: it serves scripted answers and faults.

wc's own tests use it, and so can tests of code built on wc: the real `openai.AsyncOpenAI`
client talks to it over HTTP, so everything but the model is real. A script is a callable that
gets the request (parsed JSON) and its sequence number and returns a `Reply`:

    with FakeLLMServer(lambda request, n: Reply(answer(SOURCE))) as server:
        settings = Settings(openai_base_url=server.base_url, openai_api_key="sk-test")

It serves from its own thread, so one server can outlive event loops: start it once per test
session (`async with` works too) and give each test its script with `serve`, which also forgets
the requests seen so far.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    content: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    finish_reason: str = "stop"
    body: str | None = None  # raw body (any status), for malformed answers and echoing error bodies
    drop: bool = False       # close the connection without answering


Script = Callable[[dict[str, Any], int], Reply]


class _Handler(BaseHTTPRequestHandler):
    """One request to a FakeLLMServer (`self.server.fake`): refused when it is for an earlier
    script, else answered by the current script."""

    server: _HTTPServer

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):  # noqa: N802
        fake = self.server.fake
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        # /g<N>/v1/...: a request for an earlier `serve` (a straggler of an earlier test) is
        # turned away and not counted
        asked = int(self.path.split("/")[1][1:]) if self.path.startswith("/g") else fake._generation
        if asked != fake._generation:
            self._send(410, {}, b'{"error": {"message": "this script has ended", "type": "test"}}')
            return
        reply = fake._scripted(body)
        if reply.drop:
            self.close_connection = True
            return
        if reply.body is not None:  # raw, for malformed answers and error bodies that say things
            payload = reply.body
        elif reply.status != 200:
            payload = json.dumps({"error": {"message": f"scripted {reply.status}", "type": "test"}})
        else:
            payload = json.dumps(completion(body, reply))
        try:
            self._send(reply.status, reply.headers, payload.encode())
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, status: int, extra: dict[str, str], data: bytes) -> None:
        self.send_response(status)
        headers = {"content-type": "application/json", **{k.lower(): v for k, v in extra.items()}}
        headers["content-length"] = str(len(data))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeLLMServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), _Handler)


class FakeLLMServer:
    def __init__(self, script: Script | None = None) -> None:
        self.script: Script = script or (lambda request, n: Reply(status=503))
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._generation = 0  # requests still running from before a `serve` are not counted
        self._lock = threading.Lock()
        self.httpd = _HTTPServer(self)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def _scripted(self, body: dict[str, Any]) -> Reply:
        """The current script's reply to a request, which is counted (and in flight meanwhile)."""
        with self._lock:
            n = len(self.requests)
            self.requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            generation, script = self._generation, self.script
        try:
            reply = script(body, n)
            if reply.delay:
                time.sleep(reply.delay)
        finally:
            with self._lock:
                if generation == self._generation:
                    self.in_flight -= 1
        return reply

    @property
    def base_url(self) -> str:
        """The URL for the current script: requests sent to it after the next `serve` are refused."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/g{self._generation}/v1"

    def serve(self, script: Script | None) -> FakeLLMServer:
        """Answer with `script` from now on (None: 503 to everything), counting requests from zero."""
        with self._lock:
            self.script = script or (lambda request, n: Reply(status=503))
            self.requests = []
            self.in_flight = self.max_in_flight = 0
            self._generation += 1
        return self

    def __enter__(self) -> FakeLLMServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    async def __aenter__(self) -> FakeLLMServer:
        return self.__enter__()

    async def __aexit__(self, *exc) -> None:
        await asyncio.to_thread(self.__exit__)


def completion(request: dict[str, Any], reply: Reply) -> dict[str, Any]:
    prompt_chars = sum(len(m.get("content") or "") for m in request.get("messages", []))
    content = reply.content or ""
    return {
        "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
        "model": request.get("model", "test-model"),
        "choices": [{"index": 0, "finish_reason": reply.finish_reason,
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt_chars // 4, "completion_tokens": len(content) // 4 + 1,
                  "total_tokens": prompt_chars // 4 + len(content) // 4 + 1},
    }


def answer(code: str, prose: str = "Here is the world model.") -> str:
    return f"{prose}\n\n```python\n{code.strip()}\n```\n"


def sequence(*replies: Reply | str, then: Reply | str | None = None) -> Script:
    """Answer the n-th request with the n-th reply, then `then` (or the last one) forever."""
    items = [Reply(r) if isinstance(r, str) else r for r in replies]
    tail = Reply(then) if isinstance(then, str) else then

    def script(request: dict[str, Any], n: int) -> Reply:
        if n < len(items):
            return items[n]
        return tail or items[-1]
    return script
