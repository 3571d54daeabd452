"""A local Anthropic Messages-API server on 127.0.0.1 with scripted faults, for offline tests.

    with FakeMessagesServer(script=["429", "ok"]) as server:
        cfg = AnthropicConfig(..., base_url=server.url)

Each POST /v1/messages takes the next action from the script; when the script is empty, from
`faults(payload, seen)` if given (`seen`: how many times the same body came before, so a fault can
hit a first attempt only), else "ok":
  "ok"         200 with real Messages-API JSON; text = `responder(payload)` if given (a scripted
               model, e.g. tests/fakes/role_model.py), else "echo: <last user message>"
  "429"        rate_limit_error with `retry-after: <retry_after>`
  "529"        overloaded_error
  "500"        api_error
  "401"        authentication_error
  "400"        invalid_request_error
  "hang"       read the request, sleep `hang_s`, close without answering (past the client timeout)
  "drop"       read the request, close the connection without a response
  "malformed"  200, content-type JSON, body that is not JSON
Every answer is held back `latency_s` first (a fixed service time; requests are served on threads,
so concurrent requests overlap). The server records every request body (bytes), header, arrival
time, answer time and finish time (time.monotonic) and, for an answered request, the usage it reported, and shuts itself down after `lifetime_s` even if a test
forgets to.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

ERRORS = {
    "429": (429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
    "529": (529, "overloaded_error", "Overloaded"),
    "500": (500, "api_error", "Internal server error"),
    "401": (401, "authentication_error", "invalid x-api-key"),
    "400": (400, "invalid_request_error", "max_tokens: Field required"),
}


class FakeMessagesServer:
    def __init__(
        self,
        script: list[str] | None = None,
        retry_after: float = 0.01,
        hang_s: float = 1.0,
        lifetime_s: float = 60.0,
        latency_s: float = 0.0,
        responder: Callable[[dict[str, Any]], str] | None = None,
        faults: Callable[[dict[str, Any], int], str] | None = None,
    ) -> None:
        self.script = list(script or [])
        self.retry_after = retry_after
        self.hang_s = hang_s
        self.lifetime_s = lifetime_s
        self.latency_s = latency_s
        self.responder = responder
        self.faults = faults
        self._bodies_seen: Counter[bytes] = Counter()
        # {"action", "body" (bytes), "headers" (dict), "at" (arrival), "answered_at" (None until the answer
        # starts), "finished_at" (once it is written), "usage" (the Messages-API usage of an "ok" answer)}
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._seen_systems: set[str] = set()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._counter = 0

    # -- lifecycle --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._httpd is not None
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> "FakeMessagesServer":
        server = self
        handler = type("Handler", (_Handler,), {"server_ref": server})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        self._timer = threading.Timer(self.lifetime_s, self.stop)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()

    # -- scripting --------------------------------------------------------------------------
    def next_action(self, body: bytes, headers: dict[str, str]) -> tuple[str, dict[str, Any]]:
        with self._lock:
            if self.script:
                action = self.script.pop(0)
            elif self.faults is not None:
                action = self.faults(json.loads(body), self._bodies_seen[body])
            else:
                action = "ok"
            self._bodies_seen[body] += 1
            record = {"action": action, "body": body, "headers": headers, "at": time.monotonic(), "answered_at": None}
            self.received.append(record)
            return action, record

    def most_at_once(self) -> int:
        """The most requests that were being served at the same moment."""
        events = sorted(
            [(r["at"], 1) for r in self.received] + [(r["answered_at"], -1) for r in self.received if r["answered_at"]],
            key=lambda e: (e[0], e[1]),
        )
        now = most = 0
        for _, step in events:
            now += step
            most = max(most, now)
        return most

    def message_json(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._counter += 1
            n = self._counter
            system = payload.get("system") or []
            system_text = "".join(b.get("text", "") for b in system) if isinstance(system, list) else str(system)
            cached = bool(system) and any("cache_control" in b for b in system if isinstance(b, dict))
            sys_tokens = len(system_text.split())
            cache_read = sys_tokens if cached and system_text in self._seen_systems else 0
            cache_write = sys_tokens if cached and not cache_read else 0
            if system_text:
                self._seen_systems.add(system_text)
            messages = payload.get("messages", [])
            last = messages[-1]["content"] if messages else ""
            text = self.responder(payload) if self.responder is not None else f"echo: {last}"
        stop_reason = "end_turn"
        for stop in payload.get("stop_sequences", []) or []:
            if stop in text:
                text, stop_reason = text.split(stop, 1)[0], "stop_sequence"
        user_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        return {
            "id": f"msg_fake{n:06d}",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": text}],
            "model": payload.get("model", ""),
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": user_tokens + (0 if cached else sys_tokens),
                "output_tokens": len(text.split()),
                "cache_read_input_tokens": cache_read,
                "cache_creation_input_tokens": cache_write,
            },
        }

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.received]

    def answered(self) -> list[dict[str, Any]]:
        """The records of requests answered with a message (their "usage" is what the client was billed)."""
        with self._lock:
            return [r for r in self.received if r["action"] == "ok" and "usage" in r]

    def counts(self) -> Counter[str]:
        """Requests by the action that met them ("ok", "429", "drop", ...)."""
        with self._lock:
            return Counter(r["action"] for r in self.received)


def served_params(raw: dict[str, Any], url: str, concurrency: int = 1) -> dict[str, Any]:
    """A copy of a params.yaml mapping whose LLM roles are played by the anthropic backend at `url`,
    `concurrency` episodes at a time: no response cache, no prompt caching (the server's prompt
    cache answers the first request with a system prompt differently, so usage would depend on
    which request came first) and short backoffs."""
    out = copy.deepcopy(raw)
    out["backend"] = "anthropic"
    out["llm"].update(cache_mode="off", concurrency=concurrency)
    out["llm"]["anthropic"].update(
        base_url=url, prompt_caching=False, timeout_s=10.0, max_retries=3, backoff_base_s=0.01, backoff_max_s=0.05
    )
    return out


class _Handler(BaseHTTPRequestHandler):
    server_ref: FakeMessagesServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        fake = self.server_ref
        action, record = fake.next_action(body, {k.lower(): v for k, v in self.headers.items()})
        if fake.latency_s > 0:
            time.sleep(fake.latency_s)
        record["answered_at"] = time.monotonic()  # before the answer leaves: the client's next request comes later
        self._answer(action, body, record)
        record["finished_at"] = time.monotonic()  # the answer written (or, for "hang", the connection closed)

    def _answer(self, action: str, body: bytes, record: dict[str, Any]) -> None:
        fake = self.server_ref
        if not self.path.startswith("/v1/messages"):
            self._send(404, {"type": "error", "error": {"type": "not_found_error", "message": self.path}})
            return
        if action == "ok":
            message = fake.message_json(json.loads(body))
            record["usage"] = message["usage"]
            self._send(200, message)
        elif action in ERRORS:
            status, etype, msg = ERRORS[action]
            headers = {"retry-after": str(fake.retry_after)} if action == "429" else {}
            self._send(status, {"type": "error", "error": {"type": etype, "message": msg}}, headers)
        elif action == "hang":
            time.sleep(fake.hang_s)
            self.close_connection = True
        elif action == "drop":
            self.close_connection = True
        elif action == "malformed":
            raw = b'{"id": "msg_broken", "type": "mess'
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
        else:
            raise ValueError(f"unknown scripted action {action!r}")

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.send_header("request-id", "req_fake")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)
