"""A fake Slack Web API: a real HTTP server on 127.0.0.1 that records every request.

Use it as a context manager or through the ``fake_slack`` pytest fixture (import the fixture
into a conftest.py: ``from tests.support.fake_slack import fake_slack  # noqa: F401``)::

    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.calls_to("chat.postMessage")[0].params["text"] == "hi"

Behaviour worth knowing:

* Web API methods are served at ``{url}{method}`` (also at ``{url}api/{method}``), via POST
  (form-encoded, JSON or multipart) or GET (query string). ``Call.params`` merges query string
  and body; for form/query/multipart bodies the JSON-valued arguments (``blocks``,
  ``attachments``, ``view``, ``files``, ``metadata``) are decoded, so ``params["blocks"]`` is a
  list whatever encoding the client used. Header names are lower-cased.
* Like Slack, a Web API call without a token (``Authorization: Bearer`` header or ``token``
  argument) answers ``not_authed``; pass ``require_token=False`` to skip that.
* With ``validate_blocks=True`` (the default) chat.postMessage/postEphemeral/update and response
  URLs check ``blocks`` with :mod:`tests.support.blockkit` and answer ``invalid_blocks`` (the
  problems are listed in ``errors`` and ``response_metadata.messages``); views.* check the view
  and answer ``invalid_arguments``. A message without text/blocks/attachments answers
  ``no_text``; top-level text over 40,000 characters answers ``msg_too_long``.
* ``users.info`` only includes ``locale`` when asked with ``include_locale=true``, as Slack does.
* Channels: every channel exists as a public channel the bot is in, unless ``set_channel`` says
  otherwise (``exists=False``, ``is_archived=True``, ``is_private=True, is_member=False``, ...).
  ``conversations.info`` reports it, and chat.postMessage/update and files.completeUploadExternal
  into it answer ``channel_not_found``, ``is_archived`` or ``not_in_channel`` as Slack would
  for a bot with ``chat:write`` but not ``chat:write.public`` (``is_member=False`` refuses).
  ``conversations.open`` gives each user a DM channel ``D…`` (``dm_channel(user)``).
* ``Call.at`` is ``time.monotonic()`` when the request arrived (for measuring retry delays).
* Responses use HTTP/1.0 (one request per connection), so ``down()`` never has to deal with
  kept-alive connections.
* ``delay_next(method, seconds)`` answers the next call late: recorded (with the status it
  will answer) when it arrives, answered after ``seconds`` — after a client's read timeout
  the client has given up, yet the call counts as delivered, as a slow Slack would post it.
  ``stop()`` cuts the wait short.
"""

from __future__ import annotations

import contextlib
import copy
import email.parser
import email.policy
import itertools
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

import pytest

from .blockkit import validate_message

__all__ = ["Call", "FakeSlack", "Upload", "fake_slack"]

DownMode = Literal["refuse", "drop", "hang"]
Responder = Mapping[str, Any] | Callable[[dict[str, Any]], Mapping[str, Any]]

JSON_ARGUMENTS = frozenset({"blocks", "attachments", "view", "files", "metadata"})
AUTH_TEST = {
    "ok": True,
    "url": "https://example.slack.com/",
    "team": "Example",
    "user": "kpibot",
    "team_id": "T1",
    "user_id": "UBOT",
    "bot_id": "B1",
    "is_enterprise_install": False,
}
# HTTP status Slack uses for errors on response URLs / incoming webhooks.
RESPONSE_URL_STATUS = {
    "expired_url": 404,
    "used_url": 404,
    "channel_not_found": 404,
    "channel_is_archived": 410,
    "action_prohibited": 403,
    "posting_to_general_channel_denied": 403,
}
HANG_LIMIT_SECONDS = 60.0


@dataclass(frozen=True)
class Call:
    """One HTTP request the fake received.

    ``status`` is the HTTP status it answered (0: connection dropped or hung by ``down()``),
    ``error`` the Slack error it answered (``None`` when ``"ok": true``), ``scripted`` whether
    a ``fail_next`` rule produced the answer.
    """

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 200
    error: str | None = None
    scripted: bool = False
    http_method: str = "POST"

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.error is None

    @property
    def token(self) -> str | None:
        """The token sent as ``Authorization: Bearer`` header or ``token`` argument."""
        return _token(self.headers, self.params)

    def json(self) -> Any:
        """The body decoded as JSON (response URL payloads)."""
        return json.loads(self.body)


@dataclass
class Upload:
    """A file announced with files.getUploadURLExternal; ``content`` once POSTed."""

    file_id: str
    filename: str | None
    length: int | None
    content: bytes | None = None


@dataclass(frozen=True)
class _Failure:
    status: int
    error: str | None
    retry_after: int | None


@dataclass
class _Answer:
    status: int = 200
    payload: Mapping[str, Any] | None = None  # JSON answer
    text: str | None = None  # plain-text answer (response URLs, uploads)
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    scripted: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Slack does not refuse connections under a burst; socketserver's default backlog of 5 would.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeSlack) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def do_POST(self) -> None:
        self.server.fake._serve(self, "POST")

    def do_GET(self) -> None:
        self.server.fake._serve(self, "GET")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class FakeSlack:
    """Fake Slack Web API + response URLs + file upload URLs on a local port."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        require_token: bool = True,
        validate_blocks: bool = True,
    ) -> None:
        self.host = host
        self.require_token = require_token
        self.validate_blocks = validate_blocks
        self._port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition()
        self._calls: list[Call] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._responders: dict[str, Responder] = {}
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._uploads: dict[str, Upload] = {}
        self._views: dict[str, str] = {}
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self._mode: Literal["up", "refuse", "drop", "hang"] = "up"
        self._release = threading.Event()
        self._stopping = threading.Event()
        self._delays: dict[str, deque[float]] = {}
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        if self._started:
            raise RuntimeError("FakeSlack is already started")
        self._stopping = threading.Event()
        self._listen()
        self._started = True
        return self

    def stop(self) -> None:
        self._release.set()
        self._stopping.set()
        self._close_listener()
        self._started = False
        self._mode = "up"

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if not self._started:
            raise RuntimeError("FakeSlack is not started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL ending in "/", for WebClient(base_url=...) / SLACK_API_URL."""
        return f"http://{self.host}:{self.port}/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url on this server; POSTed JSON is recorded as method ``response/{name}``."""
        return f"{self.url}response/{name}"

    # ------------------------------------------------------------------ reachability

    @property
    def is_up(self) -> bool:
        return self._mode == "up"

    def down(self, mode: DownMode = "refuse") -> None:
        """Make Slack unreachable until ``up()``.

        * ``"refuse"`` (default): the listening socket is closed, so connecting fails with
          "connection refused" (``urllib.error.URLError`` / ``requests.ConnectionError``).
          Nothing is recorded. ``up()`` listens again on the same port.
        * ``"drop"``: connections are accepted, the request is read and recorded (status 0,
          error ``"connection_dropped"``), then the connection is closed without any answer
          (``http.client.RemoteDisconnected`` / ``requests.ConnectionError``).
        * ``"hang"``: like ``"drop"`` but the connection is held open without an answer until
          ``up()``/``stop()`` (or 60 s), so clients hit their read timeout (error ``"hung"``).
        """
        if mode not in ("refuse", "drop", "hang"):
            raise ValueError(f"unknown down() mode {mode!r}")
        self.up()
        self._release = threading.Event()
        if mode == "refuse":
            self._close_listener()
        self._mode = mode

    def up(self) -> None:
        """Undo ``down()``: listen again (same port) and release hung connections."""
        if not self._started:
            raise RuntimeError("FakeSlack is not started")
        self._release.set()
        if self._mode == "refuse":
            self._listen()
        self._mode = "up"

    def _listen(self) -> None:
        deadline = time.monotonic() + 2.0
        while True:
            try:
                server = _Server((self.host, self._port), self)
                break
            except OSError:
                if self._port == 0 or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeSlack:{self._port}",
            daemon=True,
        )
        self._thread.start()

    def _close_listener(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    # ------------------------------------------------------------------ scripting

    def fail_next(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls to ``method`` with a failure (queued after earlier ones).

        ``status=429`` answers ``ratelimited`` with a ``Retry-After`` header (``retry_after``,
        default 1 second); other statuses answer ``{"ok": false, "error": ...}`` with that HTTP
        status; ``error`` alone answers HTTP 200 with ``{"ok": false, "error": error}`` for Web
        API methods. With neither, the call fails with HTTP 500.

        ``method`` may be a Web API method, ``"response/<name>"`` (see ``fail_next_response``),
        ``"upload/<file_id>"``, or ``"response"``/``"upload"`` for any of those.
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        is_webhook = method.split("/", 1)[0] in ("response", "upload")
        if status is None:
            if error is None:
                status = 500
            elif is_webhook:
                status = RESPONSE_URL_STATUS.get(error, 400)
            else:
                status = 200
        if status == 429 and retry_after is None:
            retry_after = 1
        failure = _Failure(status=status, error=error, retry_after=retry_after)
        with self._cond:
            self._failures.setdefault(method, deque()).extend([failure] * times)

    def fail_next_response(
        self,
        name: str = "r1",
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """``fail_next`` for ``response_url(name)``; ``error`` alone picks Slack's HTTP status
        (404 ``expired_url``/``used_url``/``channel_not_found``, 410, 403, otherwise 400) and is
        sent as the plain-text body."""
        self.fail_next(
            f"response/{name}", status=status, error=error, retry_after=retry_after, times=times
        )

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` (e.g. ``"response/r1"``) only after
        ``seconds``; each is recorded on arrival with the answer it will get (see above)."""
        if times < 1 or seconds < 0:
            raise ValueError("times must be at least 1 and seconds not negative")
        with self._cond:
            self._delays.setdefault(method, deque()).extend([seconds] * times)

    def set_response(self, method: str, response: Responder) -> None:
        """Answer ``method`` with ``response`` (a dict, or a function of the params) from now on.

        Also the way to add methods the fake does not know (conversations.*, ...).
        """
        with self._cond:
            self._responders[method] = response

    def set_user(self, user_id: str, **fields: Any) -> None:
        """Override fields of the user ``users.info`` returns, e.g. ``tz="Europe/Copenhagen"``."""
        with self._cond:
            self._users.setdefault(user_id, {}).update(fields)

    def set_channel(self, channel_id: str, **fields: Any) -> None:
        """Override fields of a channel (``conversations.info``), e.g. ``is_member=False``;
        ``exists=False`` makes it unknown (``channel_not_found``)."""
        with self._cond:
            self._channels.setdefault(channel_id, {}).update(fields)

    @staticmethod
    def dm_channel(user_id: str) -> str:
        """The DM channel id ``conversations.open`` gives for ``user_id``."""
        return f"D{user_id.removeprefix('U')}"

    def reset(self) -> None:
        """Forget calls, pending failures, set_response/set_user overrides and uploads.

        Does not change ``down()``/``up()`` state.
        """
        with self._cond:
            self._calls.clear()
            self._failures.clear()
            self._delays.clear()
            self._responders.clear()
            self._users.clear()
            self._channels.clear()
            self._uploads.clear()
            self._views.clear()

    # ------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[Call]:
        """A snapshot (copy) of every call so far, in arrival order."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str, *, ok: bool | None = None) -> list[Call]:
        """Calls to ``method``; ``ok=True``/``False`` keeps only successful/failed ones."""
        with self._cond:
            return self._matching(method, ok)

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0, *, ok: bool | None = None
    ) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` arrived; return all of them.

        Raises ``AssertionError`` (listing what did arrive) after ``timeout`` seconds.
        """
        with self._cond:
            arrived = self._cond.wait_for(
                lambda: len(self._matching(method, ok)) >= count, timeout=timeout
            )
            matching = self._matching(method, ok)
            if not arrived:
                seen = ", ".join(f"{c.method}[{c.status}]" for c in self._calls) or "nothing"
                raise AssertionError(
                    f"waited {timeout}s for {count} call(s) to {method!r}"
                    f"{'' if ok is None else f' with ok={ok}'}, got {len(matching)}; "
                    f"received: {seen}"
                )
            return matching

    def uploads(self) -> dict[str, Upload]:
        """Files announced via files.getUploadURLExternal, by file id."""
        with self._cond:
            return {k: copy.copy(v) for k, v in self._uploads.items()}

    def _matching(self, method: str, ok: bool | None) -> list[Call]:
        return [c for c in self._calls if c.method == method and (ok is None or c.ok == ok)]

    # ------------------------------------------------------------------ request handling

    def _serve(self, req: _Handler, http_method: str) -> None:
        arrived = time.monotonic()
        parts = urlsplit(req.path)
        method = parts.path.lstrip("/")
        if method.startswith("api/"):
            method = method[4:]
        headers = {k.lower(): v for k, v in req.headers.items()}
        body = _read_body(req)
        params = _parse_params(parts.query, body, headers.get("content-type", ""))

        def record(answer: _Answer) -> None:
            call = Call(
                method=method,
                params=params,
                headers=headers,
                body=body,
                at=arrived,
                status=answer.status,
                error=answer.error,
                scripted=answer.scripted,
                http_method=http_method,
            )
            with self._cond:
                self._calls.append(call)
                self._cond.notify_all()

        mode, release = self._mode, self._release
        if mode in ("drop", "hang"):
            record(_Answer(status=0, error="hung" if mode == "hang" else "connection_dropped"))
            if mode == "hang":
                release.wait(HANG_LIMIT_SECONDS)
            req.close_connection = True
            return

        try:
            answer = self._answer(method, params, headers, body)
        except Exception as exc:  # a bug in a set_response callable: answer 500, keep serving
            payload = {"ok": False, "error": f"fake_slack: {exc!r}"}
            answer = _Answer(status=500, payload=payload, error="fake_slack_exception")
        record(answer)
        with self._cond:
            delays = self._delays.get(method)
            delay = delays.popleft() if delays else 0.0
        if delay:
            self._stopping.wait(delay)
        _write(req, answer)

    def _answer(
        self, method: str, params: dict[str, Any], headers: dict[str, str], body: bytes
    ) -> _Answer:
        prefix = method.split("/", 1)[0]
        kind = prefix if "/" in method and prefix in ("response", "upload") else None
        failure = self._pop_failure(method, kind)
        if failure is not None:
            return _scripted(failure, webhook=kind is not None)
        if kind == "response":
            return self._response_url(body)
        if kind == "upload":
            return self._upload(method.split("/", 1)[1], body)
        with self._cond:
            responder = self._responders.get(method)
        if responder is not None:
            payload = responder(params) if callable(responder) else responder
            error = None if payload.get("ok") else str(payload.get("error", "unknown"))
            return _Answer(payload=payload, error=error)
        if self.require_token and not _token(headers, params):
            return _error("not_authed")
        handler = self._methods().get(method)
        if handler is None:
            return _error("unknown_method")
        return handler(params)

    def _pop_failure(self, method: str, kind: str | None) -> _Failure | None:
        with self._cond:
            for key in (method, kind):
                queue = self._failures.get(key) if key else None
                if queue:
                    return queue.popleft()
        return None

    # ------------------------------------------------------------------ default methods

    def _methods(self) -> dict[str, Callable[[dict[str, Any]], _Answer]]:
        views = {m: self._view for m in ("views.open", "views.push", "views.update")}
        return {
            "auth.test": lambda _params: _ok(dict(AUTH_TEST)),
            "chat.postMessage": self._post_message,
            "chat.postEphemeral": self._post_ephemeral,
            "chat.update": self._update,
            **views,
            "views.publish": self._view,
            "files.getUploadURLExternal": self._get_upload_url,
            "files.completeUploadExternal": self._complete_upload,
            "users.info": self._users_info,
            "conversations.info": self._conversations_info,
            "conversations.open": self._conversations_open,
        }

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + 100 * next(self._ts)
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _message_problem(self, params: dict[str, Any], *, need_content: bool) -> _Answer | None:
        text, blocks = params.get("text"), params.get("blocks")
        if need_content and not (text or blocks or params.get("attachments")):
            return _error("no_text")
        if isinstance(text, str) and len(text) > 40_000:
            return _error("msg_too_long")
        if self.validate_blocks and blocks is not None:
            problems = validate_message({"blocks": blocks})
            if problems:
                return _error("invalid_blocks", problems)
        return None

    def _bot_message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": AUTH_TEST["user_id"],
            "bot_id": AUTH_TEST["bot_id"],
            "team": AUTH_TEST["team_id"],
            "text": params.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key) is not None:
                message[key] = params[key]
        return message

    def _channel(self, channel_id: str) -> dict[str, Any] | None:
        """The channel as conversations.info shows it; None when it does not exist."""
        with self._cond:
            overrides = dict(self._channels.get(channel_id, {}))
        if not overrides.pop("exists", True):
            return None
        is_im = channel_id.startswith("D")
        channel: dict[str, Any] = {
            "id": channel_id,
            "name": f"channel-{channel_id.lower()}",
            "is_channel": not is_im,
            "is_group": False,
            "is_im": is_im,
            "is_mpim": False,
            "is_private": is_im,
            "is_archived": False,
            "is_member": True,
        }
        if is_im:
            del channel["name"]
        channel.update(overrides)
        return channel

    def _posting_problem(self, channel_id: str) -> _Answer | None:
        channel = self._channel(channel_id)
        if channel is None:
            return _error("channel_not_found")
        if channel["is_archived"]:
            return _error("is_archived")
        # kpibot asks for chat:write, not chat:write.public: it posts only where it is a member.
        if not channel["is_member"]:
            return _error("not_in_channel")
        return None

    def _conversations_info(self, params: dict[str, Any]) -> _Answer:
        channel = self._channel(str(params.get("channel") or ""))
        if channel is None or not params.get("channel"):
            return _error("channel_not_found")
        return _ok({"channel": channel})

    def _conversations_open(self, params: dict[str, Any]) -> _Answer:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return _error("users_list_not_supplied")
        if len(users) > 1:
            return _error("not_supported")  # group DMs: not something kpibot does
        dm = self.dm_channel(users[0])
        return _ok({"channel": {"id": dm, "is_im": True, "user": users[0]}})

    def _post_message(self, params: dict[str, Any]) -> _Answer:
        channel = params.get("channel")
        if not channel:
            return _error("channel_not_found")
        refused = self._posting_problem(str(channel))
        if refused is not None:
            return refused
        problem = self._message_problem(params, need_content=True)
        if problem is not None:
            return problem
        ts = self._next_ts()
        return _ok({"channel": channel, "ts": ts, "message": self._bot_message(params, ts)})

    def _post_ephemeral(self, params: dict[str, Any]) -> _Answer:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not params.get("user"):
            return _error("user_not_in_channel")
        problem = self._message_problem(params, need_content=True)
        return problem or _ok({"message_ts": self._next_ts()})

    def _update(self, params: dict[str, Any]) -> _Answer:
        channel, ts = params.get("channel"), params.get("ts")
        if not channel:
            return _error("channel_not_found")
        if not ts:
            return _error("message_not_found")
        refused = self._posting_problem(str(channel))
        if refused is not None:
            return refused
        problem = self._message_problem(params, need_content=False)
        if problem is not None:
            return problem
        message = self._bot_message(params, ts)
        return _ok({"channel": channel, "ts": ts, "text": message["text"], "message": message})

    def _view(self, params: dict[str, Any]) -> _Answer:
        view = params.get("view")
        if not isinstance(view, Mapping):
            return _error("invalid_arguments", ["view: missing or not an object"])
        surface = view.get("type")
        if surface not in ("modal", "home"):
            return _error("invalid_arguments", [f"view.type: must be modal or home ({surface!r})"])
        if self.validate_blocks:
            problems = validate_message(view, surface=surface)
            if problems:
                return _error("invalid_arguments", problems)
        view_id = params.get("view_id")
        if not view_id:
            with self._cond:
                user = params.get("user_id")
                view_id = self._views.get(user) if surface == "home" and user else None
                if view_id is None:
                    view_id = f"V{next(self._ids)}"
                    if surface == "home" and user:
                        self._views[user] = view_id
        answer = {
            "id": view_id,
            "team_id": AUTH_TEST["team_id"],
            "app_id": "A1",
            "bot_id": AUTH_TEST["bot_id"],
            "hash": f"{int(time.time())}.{view_id}",
            "state": {"values": {}},
            **view,
        }
        return _ok({"view": answer})

    def _get_upload_url(self, params: dict[str, Any]) -> _Answer:
        filename, length = params.get("filename"), params.get("length")
        if not filename or length in (None, ""):
            return _error("invalid_arguments", ["filename and length are required"])
        file_id = f"F{next(self._ids):010d}"
        with self._cond:
            self._uploads[file_id] = Upload(file_id, str(filename), int(length))
        return _ok({"upload_url": f"{self.url}upload/{file_id}", "file_id": file_id})

    def _upload(self, file_id: str, body: bytes) -> _Answer:
        with self._cond:
            upload = self._uploads.get(file_id)
            if upload is None:
                return _Answer(status=404, text="not_found", error="not_found")
            upload.content = body
        return _Answer(text="OK")

    def _complete_upload(self, params: dict[str, Any]) -> _Answer:
        files = params.get("files")
        if not isinstance(files, list) or not files:
            return _error("invalid_arguments", ["files: missing"])
        channel = params.get("channel_id")
        refused = self._posting_problem(str(channel)) if channel else None
        if refused is not None:
            return refused
        done = []
        with self._cond:
            for item in files:
                file_id = item.get("id") if isinstance(item, Mapping) else None
                upload = self._uploads.get(str(file_id))
                if upload is None:
                    return _error("file_not_found")
                done.append(
                    {
                        "id": upload.file_id,
                        "name": upload.filename,
                        "title": item.get("title") or upload.filename,
                        "size": len(upload.content or b""),
                    }
                )
        return _ok({"files": done})

    def _users_info(self, params: dict[str, Any]) -> _Answer:
        user_id = params.get("user")
        if not user_id:
            return _error("user_not_found")
        user: dict[str, Any] = {
            "id": user_id,
            "team_id": AUTH_TEST["team_id"],
            "name": f"user-{str(user_id).lower()}",
            "real_name": "Test User",
            "deleted": False,
            "is_bot": False,
            "tz": "America/New_York",
            "tz_label": "Eastern Standard Time",
            "tz_offset": -18000,
            "profile": {"real_name": "Test User", "display_name": "tester"},
        }
        with self._cond:
            overrides = dict(self._users.get(user_id, {}))
        locale = overrides.pop("locale", "en-US")
        user.update(overrides)
        if str(params.get("include_locale", "")).lower() in ("1", "true"):
            user["locale"] = locale
        return _ok({"user": user})

    def _response_url(self, body: bytes) -> _Answer:
        try:
            payload = json.loads(body)
        except ValueError:
            return _Answer(status=400, text="invalid_payload", error="invalid_payload")
        if not isinstance(payload, dict):
            return _Answer(status=400, text="invalid_payload", error="invalid_payload")
        if not payload.get("delete_original"):
            problem = self._message_problem(payload, need_content=True)
            if problem is not None:
                error = problem.error or "invalid_payload"
                return _Answer(status=RESPONSE_URL_STATUS.get(error, 400), text=error, error=error)
        return _Answer(text="ok")


# ---------------------------------------------------------------------- helpers


def _token(headers: Mapping[str, str], params: Mapping[str, Any]) -> str | None:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer ") and auth[7:].strip():
        return auth[7:].strip()
    token = params.get("token")
    return token if isinstance(token, str) and token else None


def _ok(payload: dict[str, Any]) -> _Answer:
    return _Answer(payload={"ok": True, **payload})


def _error(error: str, messages: list[str] | None = None) -> _Answer:
    payload: dict[str, Any] = {"ok": False, "error": error}
    if messages:
        payload["errors"] = messages
        payload["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in messages]}
    return _Answer(payload=payload, error=error)


def _scripted(failure: _Failure, *, webhook: bool) -> _Answer:
    status = failure.status
    default = "ratelimited" if status == 429 else "internal_error" if status >= 500 else "error"
    error = failure.error or (default if status != 200 else "error")
    headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
    if webhook:
        text = "rate_limited" if status == 429 and failure.error is None else error
        return _Answer(status=status, text=text, headers=headers, error=error, scripted=True)
    payload = {"ok": False, "error": error}
    return _Answer(status=status, payload=payload, headers=headers, error=error, scripted=True)


def _read_body(req: _Handler) -> bytes:
    if req.headers.get("transfer-encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(req.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while req.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(req.rfile.read(size))
            req.rfile.readline()
    length = int(req.headers.get("content-length") or 0)
    return req.rfile.read(length) if length > 0 else b""


def _parse_params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
    params: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json":
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            data = None
        if isinstance(data, dict):
            params.update(data)
        return params
    if media == "multipart/form-data":
        form = _parse_multipart(body, content_type)
    else:
        form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for key, value in form.items():
        if key in JSON_ARGUMENTS and isinstance(value, str) and value[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        params[key] = value
    return params


def _parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    form: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        form[str(name)] = data if part.get_filename() else data.decode("utf-8", "replace")
    return form


def _write(req: _Handler, answer: _Answer) -> None:
    if answer.payload is not None:
        data = json.dumps(answer.payload).encode()
        content_type = "application/json; charset=utf-8"
    else:
        data = (answer.text or "").encode()
        content_type = "text/plain; charset=utf-8"
    try:
        req.send_response(answer.status)
        req.send_header("Content-Type", content_type)
        req.send_header("Content-Length", str(len(data)))
        for name, value in answer.headers.items():
            req.send_header(name, value)
        req.end_headers()
        req.wfile.write(data)
    except OSError:  # the client gave up (timeout) before the answer
        pass


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A started FakeSlack, stopped after the test."""
    with FakeSlack() as fake:
        yield fake
