"""A local OpenAI-compatible test server on loopback, for benchmarks and end-to-end tests.

It answers Chat Completions, streamed (SSE) or whole, with a realistic full-length note, can
spread each answer over a chosen latency, and can enforce a requests-per-minute cap the way
providers do: 429 with Retry-After.

    python bench/server.py --latency 5 --rpm 600          # prints its URL, serves until Ctrl-C
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from bench.notes import synthetic_note

__all__ = ["TestServer"]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: benchmarks print tables
        pass

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/stats"):
            self._json(200, self.server.owner.stats())
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        owner = self.server.owner
        length = int(self.headers.get("content-length", "0"))
        request = json.loads(self.rfile.read(length) or b"{}")
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._json(404, {"error": {"message": "not found"}})
            return
        wait = owner.admit()
        if wait is not None:
            self._json(429, {"error": {"message": "rate limit reached", "type": "requests"}},
                       {"retry-after": str(max(1, math.ceil(wait)))})
            return
        text = owner.answer(request)
        usage = {"prompt_tokens": sum(len(m.get("content", "")) for m in request["messages"]) // 4,
                 "completion_tokens": len(text) // 4}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if request.get("stream"):
            self._stream(text, request.get("model", "test"), usage)
        else:
            time.sleep(owner.latency)
            self._json(200, {
                "id": "chatcmpl-test", "object": "chat.completion", "created": 1700000000,
                "model": request.get("model", "test"),
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": usage,
            })

    def _stream(self, text: str, model: str, usage: dict[str, int]) -> None:
        owner = self.server.owner
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        pieces = max(1, min(owner.chunks, len(text)))
        size = math.ceil(len(text) / pieces)
        base = {"id": "chatcmpl-test", "object": "chat.completion.chunk",
                "created": 1700000000, "model": model}
        started = time.monotonic()

        def send(event: dict[str, Any] | str) -> None:
            payload = event if isinstance(event, str) else json.dumps(event)
            data = f"data: {payload}\n\n".encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        try:
            for i in range(pieces):
                # Spread the answer evenly over the latency, as a model streams tokens.
                due = started + owner.latency * (i + 1) / pieces
                time.sleep(max(0.0, due - time.monotonic()))
                piece = text[i * size:(i + 1) * size]
                send({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                           "finish_reason": None}]})
            send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
            send({**base, "choices": [], "usage": usage})
            send("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            owner.count("dropped")  # the client went away (cancelled mid-stream)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # the default backlog of 5 delays the 6th connect by a second
    owner: TestServer


class TestServer:
    """Run the server in a background thread: ``with TestServer(latency=1) as server: ...``."""

    __test__ = False  # not a pytest test class

    def __init__(self, *, latency: float = 0.0, rpm: float | None = None, chunks: int = 50,
                 answer: Callable[[dict[str, Any]], str] | None = None, port: int = 0) -> None:
        self.latency = latency
        self.rpm = rpm
        self.chunks = chunks
        self._answer = answer or (lambda request: synthetic_note(_topic_of(request)))
        self._lock = threading.Lock()
        self._window: deque[float] = deque()
        self.counts: dict[str, int] = {"requests": 0, "answered": 0, "limited": 0, "dropped": 0}
        self.accepted: list[float] = []
        self.topics: list[str] = []
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    def count(self, name: str) -> None:
        with self._lock:
            self.counts[name] = self.counts.get(name, 0) + 1

    def admit(self) -> float | None:
        """None when the request may go ahead, else seconds until it could (a 429)."""
        now = time.monotonic()
        with self._lock:
            self.counts["requests"] += 1
            if self.rpm:
                while self._window and now - self._window[0] >= 60.0:
                    self._window.popleft()
                if len(self._window) >= self.rpm:
                    self.counts["limited"] += 1
                    return 60.0 - (now - self._window[0])
                self._window.append(now)
            self.counts["answered"] += 1
            self.accepted.append(now)
            return None

    def answer(self, request: dict[str, Any]) -> str:
        with self._lock:
            self.topics.append(_topic_of(request))
        return self._answer(request)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {**self.counts, "topics": list(self.topics),
                    "first_accepted": self.accepted[0] if self.accepted else 0.0,
                    "last_accepted": self.accepted[-1] if self.accepted else 0.0}

    def __enter__(self) -> TestServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def _topic_of(request: dict[str, Any]) -> str:
    for message in request.get("messages", []):
        if message.get("role") == "user":
            for line in str(message.get("content", "")).splitlines():
                if line.startswith("Topic: "):
                    return line.removeprefix("Topic: ").strip()
    return "Topic"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per answer")
    parser.add_argument("--rpm", type=float, help="requests-per-minute cap (429 beyond it)")
    args = parser.parse_args()
    with TestServer(latency=args.latency, rpm=args.rpm, port=args.port) as server:
        print(f"listening on {server.url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
