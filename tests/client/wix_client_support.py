"""Shared test support: constants, example payloads and a tiny scripted HTTP server.

The server is for exact wire-protocol tests.

It records every request (raw request line, headers, body) and answers from per-route queues of
``Reply`` objects, so tests can assert exactly what went over the wire and inject faults the emulator
may not offer (an HTTP-date ``Retry-After``, a dropped connection, a slow response, a broken body).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from airflow_provider_wix.client import RetryPolicy

EXAMPLES = Path(__file__).parents[1] / "data" / "wix-examples"

API_KEY = "IST.test-api-key-0123456789-SECRET"
SITE_ID = "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f"
CLIENT_ID = "0c1a9a6e-5d3b-4f8e-9a51-6f2d1e7b3c40"
CLIENT_SECRET = "app-client-secret-SECRET-7b2e4f90"
INSTANCE_ID = "3f6c2d1e-8b7a-4c5d-9e0f-1a2b3c4d5e6f"
ACCESS_TOKEN = "OauthNG.JWS.access-token-SECRET-1"
CREDENTIALS_PASSWORD = "abcd-efgh-ijkl-mnop-SECRET"

PROVIDER_ID = "6687b1c3-82f2-4947-a68f-9b2355f49c2d"
SCHEDULE_ID = "89e20858-bfa1-462b-b813-074fb1e4d62f"
SCHEDULE_ID_2 = "4e3daa0a-f079-492d-a2d6-747674815bfe"
USER_ID = "dabe9c44-6f70-4c12-9c23-370407b76ded"
CONNECTION_ID = (
    "u8jzPde0IgxLd6GncfBAepfJBd0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7DxtpYlSXpfKtHF4vUCs"
    "MehGAkWvj7FAc9QeWJKY40"
)
SECRETS = (API_KEY, CLIENT_SECRET, ACCESS_TOKEN, CREDENTIALS_PASSWORD)

FAST_RETRY = RetryPolicy(max_attempts=4, max_total_seconds=10, base_wait=0.01, max_wait=0.05)


def example(name: str) -> Any:
    return json.loads((EXAMPLES / f"{name}.json").read_text())


def token_payload(token: str = ACCESS_TOKEN, expires_in: int = 14400) -> dict[str, Any]:
    return {"access_token": token, "token_type": "Bearer", "expires_in": expires_in}


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    delay: float = 0.0  # seconds to wait before answering (read timeouts)


@dataclass
class Recorded:
    method: str
    request_line: str
    path: str
    query: list[tuple[str, str]]
    raw_query: str
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out or hang up on purpose are part of the tests


class ScriptedServer:
    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.connections = 0
        self._routes: dict[tuple[str, str], deque[Reply]] = {}
        self._defaults: dict[tuple[str, str], Reply | Callable[[Recorded], Reply]] = {}
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Answer without Nagle delays: headers and body are separate writes.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with server._lock:
                    server.connections += 1

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                recorded = Recorded(
                    method=self.command,
                    request_line=self.requestline,
                    path=parts.path,
                    query=parse_qsl(parts.query, keep_blank_values=True),
                    raw_query=parts.query,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = server._next_reply(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.drop:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                payload = reply.body if reply.body is not None else b""
                if reply.json is not None:
                    payload = json.dumps(reply.json).encode()
                self.send_response(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self._httpd = _QuietServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    def start(self) -> ScriptedServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- scripting ------------------------------------------------------------------------------------

    def on(
        self,
        method: str,
        path: str,
        *replies: Reply,
        default: Reply | Callable[[Recorded], Reply] | None = None,
    ) -> None:
        """Queue ``replies`` for ``method path`` (query ignored); ``default`` answers once they are used.

        ``default`` may be a function of the recorded request, for replies that depend on it.
        """
        key = (method.upper(), path)
        with self._lock:
            self._routes.setdefault(key, deque()).extend(replies)
            if default is not None:
                self._defaults[key] = default

    def _next_reply(self, recorded: Recorded) -> Reply:
        key = (recorded.method, recorded.path)
        with self._lock:
            self.requests.append(recorded)
            queue = self._routes.get(key)
            if queue:
                return queue.popleft()
            default = self._defaults.get(key)
        if callable(default):
            return default(recorded)
        if default is not None:
            return default
        return Reply(404, {"message": f"no scripted reply for {key}", "details": {}})

    def requests_to(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path == path]
