"""Loopback servers that misbehave the way real ones do: floods, trickles, repeated 429s."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Behaviour = Callable[[BaseHTTPRequestHandler, dict[str, Any]], None]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # more than the clients at once: no dropped SYN, no 1 s retransmit
    behaviour: Behaviour
    requests: list[float]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        self.server.requests.append(time.monotonic())
        # The client giving up on us is the point of several of these.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.server.behaviour(self, body)


def chunk(text: str, finish: str | None = None) -> bytes:
    choice = {"index": 0, "delta": {"content": text} if text else {}, "finish_reason": finish}
    event = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
             "choices": [choice]}
    return f"data: {json.dumps(event)}\n\n".encode()


def start_stream(handler: BaseHTTPRequestHandler) -> None:
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("connection", "close")
    handler.end_headers()


@contextmanager
def hostile_server(behaviour: Behaviour) -> Iterator[tuple[str, list[float]]]:
    """Serve ``behaviour`` on loopback; yields the base URL and the times requests arrived."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour, server.requests = behaviour, []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}/v1", server.requests
    finally:
        server.shutdown()
        server.server_close()


def event(data: object) -> bytes:
    """One server-sent event carrying ``data`` as JSON, whatever it is (null, a list, ...)."""
    return f"data: {json.dumps(data)}\n\n".encode()


def send_json(handler: BaseHTTPRequestHandler, data: object, status: int = 200) -> None:
    """A whole JSON answer (an error body, a completion), with its length."""
    payload = json.dumps(data).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(payload)))
    handler.end_headers()
    handler.wfile.write(payload)


def topic_of(body: dict[str, Any]) -> str:
    """The topic a Chat Completions request asks about (its `Topic:` line)."""
    return next(line.removeprefix("Topic: ") for m in body["messages"]
                for line in str(m["content"]).splitlines() if line.startswith("Topic: "))
