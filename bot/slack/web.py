"""HTTP mode: a WSGI app serving POST /slack/events (gate, then Bolt) and GET /healthz."""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.composition import Components
from bot.slack.app import create_app
from bot.slack.gate import METHOD_NOT_ALLOWED, NOT_FOUND, Gate, Refusal, log_refusal
from storage.schema import current_revision

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("kpibot.web")

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
HEALTH_DEADLINE_SECONDS = 1.5
"""/healthz answers 503 after this long without an answer from the database: under the 2 s
a load balancer's probe is promised, with room for the request's own way in and out."""

_REFUSAL_BODIES = {
    400: b"bad request",
    401: b"unauthorized",
    404: b"not found",
    405: b"method not allowed",
    413: b"request body too large",
}


class HealthCheck:
    """The database's schema revision within a deadline, on one thread of its own: a hung
    database makes /healthz say 503, never hold a request thread, never pile up threads."""

    def __init__(
        self, probe: Callable[[], str | None], deadline: float = HEALTH_DEADLINE_SECONDS
    ) -> None:
        self._probe = probe
        self._deadline = deadline
        self._lock = threading.Lock()
        self._pending: Future[str | None] | None = None
        self._started = 0.0

    def revision(self) -> tuple[bool, str | None]:
        """(healthy, schema revision): unhealthy when the check fails or outlives the deadline."""
        with self._lock:
            now = time.monotonic()
            if self._pending is None or self._pending.done():
                self._pending, self._started = self._start(), now
            elif now - self._started >= self._deadline:
                # The previous check is still stuck: waiting on it again would only queue.
                log.warning("health check failed: the previous check is still waiting")
                return False, None
            pending, remaining = self._pending, self._deadline - (now - self._started)
        try:
            return True, pending.result(timeout=remaining)
        except TimeoutError:
            log.warning("health check failed: no answer within %.0fs", self._deadline)
        except Exception as exc:  # any failure of the probe means unhealthy
            log.warning("health check failed: %s", exc.__class__.__name__)
        return False, None

    def _start(self) -> Future[str | None]:
        future: Future[str | None] = Future()

        def run() -> None:
            try:
                future.set_result(self._probe())
            except BaseException as exc:  # handed to whoever waits on it
                future.set_exception(exc)

        # A daemon thread, so a check stuck on the database never holds up a worker's exit.
        threading.Thread(target=run, name="kpibot-health", daemon=True).start()
        return future


class KpibotWsgi:
    """Routes /healthz to a bounded database check and verified Slack requests to Bolt."""

    def __init__(self, components: Components) -> None:
        settings = components.settings
        secret = settings.slack_signing_secret
        self.components = components
        self.slack = SlackRequestHandler(create_app(components, http_mode=True))
        # create_app has refused a missing secret already; the assert tells mypy.
        assert secret is not None
        self.gate = Gate(secret, settings.max_body_bytes)
        self.health = HealthCheck(lambda: current_revision(components.engine))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH:
            if method == "GET":
                return self._health(start_response)
            return _refuse(METHOD_NOT_ALLOWED, environ, start_response, started, allow="GET")
        if path != EVENTS_PATH:
            return _refuse(NOT_FOUND, environ, start_response, started)
        if method != "POST":
            return _refuse(METHOD_NOT_ALLOWED, environ, start_response, started, allow="POST")
        admitted = self.gate.admit(environ)
        if isinstance(admitted, Refusal):
            return _refuse(admitted, environ, start_response, started)
        # Bolt reads the same bytes again and verifies them itself too (defence in depth).
        environ["wsgi.input"] = io.BytesIO(admitted)
        environ["CONTENT_LENGTH"] = str(len(admitted))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return self.slack(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        healthy, revision = self.health.revision()
        if healthy:
            status, document = "200 OK", {"status": "ok", "schema": revision}
        else:
            status, document = "503 Service Unavailable", {"status": "database unavailable"}
        return _answer(start_response, status, json.dumps(document).encode(), "application/json")


def _refuse(
    refusal: Refusal,
    environ: WSGIEnvironment,
    start_response: StartResponse,
    started: float,
    allow: str | None = None,
) -> Iterable[bytes]:
    log_refusal(refusal, environ, started)
    extra = [("Allow", allow)] if allow else []
    body = _REFUSAL_BODIES[refusal.status]
    return _answer(start_response, refusal.status_line, body, "text/plain; charset=utf-8", extra)


def _answer(
    start_response: StartResponse,
    status: str,
    body: bytes,
    content_type: str,
    extra: list[tuple[str, str]] | None = None,
) -> Iterable[bytes]:
    headers = [("Content-Type", content_type), ("Content-Length", str(len(body)))]
    start_response(status, headers + (extra or []))
    return [body]
