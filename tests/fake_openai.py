"""A small fake OpenAI-compatible HTTP server, for the error paths a real server will not produce on demand."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler


class Fake(BaseHTTPRequestHandler):
    script: list = []  # (status, body) answers for POSTs, in order; the last one repeats
    seen: list = []

    def log_message(self, *args):  # quiet
        pass

    def _send(self, status: int, body) -> None:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(200, {"object": "list", "data": [{"id": "m", "object": "model"}, {"id": "m-lora", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        Fake.seen.append((self.path, body, self.headers.get("authorization")))
        status, answer = Fake.script[0] if len(Fake.script) == 1 else Fake.script.pop(0)
        if callable(status):  # an answer computed from the request
            status, answer = status(body)
        if status == "sleep":
            time.sleep(answer)
            status, answer = 200, CHAT
        self._send(status, answer)


CHAT = {"id": "x", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": " Hi there "}}]}
