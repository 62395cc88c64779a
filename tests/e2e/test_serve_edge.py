"""The edge of a real `kpibot serve` (gunicorn, two workers): every unsigned or malformed body
is refused with 401 (signed but unparsable: 400) in one log line and no traceback, a body over
KPIBOT_MAX_BODY_BYTES gets 413 before it is read (a 200 MB declared body leaves the workers'
memory flat), and gunicorn's own request-line and header limits answer 4xx. Nothing refused
ever reaches Bolt, so nothing refused ever calls Slack."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.conftest import SIGNING_SECRET, ServedApp, message_text, seed, start_serve
from tests.support.fake_slack import FakeSlack

LIMIT = 4096
"""KPIBOT_MAX_BODY_BYTES of the server under test: small, so bodies over it are cheap."""


@dataclass
class Edge:
    served: ServedApp
    log: Path

    @property
    def events(self) -> str:
        return f"{self.served.url}slack/events"

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as handle:
            handle.seek(offset)
            return handle.read().decode("utf-8", "replace")


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    folder = tmp_path_factory.mktemp("edge")
    database_url = f"sqlite:///{folder / 'kpibot.db'}"
    seed(database_url, folder)
    with ExitStack() as stack:
        slack = stack.enter_context(FakeSlack())
        log = folder / "serve.log"
        url = start_serve(stack, database_url, slack, log, KPIBOT_MAX_BODY_BYTES=str(LIMIT))
        yield Edge(ServedApp(url, slack, database_url), log)


@pytest.fixture
def fresh(edge: Edge) -> Edge:
    edge.served.slack.reset()
    return edge


def signed_headers(
    body: bytes, *, stamp: str | None = None, secret: str = SIGNING_SECRET
) -> dict[str, str]:
    """Slack's v0 signature of any bytes (slack_sdk's helper takes UTF-8 text only)."""
    stamp = stamp or str(int(time.time()))
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


FORM = "application/x-www-form-urlencoded"
NOW = str(int(time.time()))

# (name, body, content type, headers) of requests that must be refused with 401.
UNSIGNED: list[tuple[str, bytes, str, dict[str, str]]] = [
    ("binary, no headers", b"\x00\xff\xfe garbage", FORM, {}),
    ("broken payload, no headers", b"payload=not json", FORM, {}),
    ("json array, no headers", b"[1, 2, 3]", "application/json", {}),
    ("json object, no headers", b'{"type": "url_verification"}', "application/json", {}),
    (
        "non-numeric timestamp",
        b"command=%2Fkpi&text=help",
        FORM,
        {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=" + "0" * 64},
    ),
    (
        "negative timestamp",
        b"command=%2Fkpi&text=help",
        FORM,
        {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=" + "0" * 64},
    ),
    (
        "timestamp but no signature",
        b"command=%2Fkpi&text=help",
        FORM,
        {"X-Slack-Request-Timestamp": NOW},
    ),
    (
        "signature of the wrong shape",
        b"command=%2Fkpi&text=help",
        FORM,
        {"X-Slack-Request-Timestamp": NOW, "X-Slack-Signature": "sha256=abc"},
    ),
]


def _signed_cases() -> list[tuple[str, bytes, str, dict[str, str]]]:
    """Requests whose headers look right but that a Slack signature cannot vouch for."""
    form = b"command=%2Fkpi&text=help"
    binary = b"\x00\xff\xfe garbage"
    stale = str(int(time.time()) - 10 * 60)
    return [
        ("signed by another secret", form, FORM, signed_headers(form, secret="not-the-secret")),
        ("stale timestamp, correctly signed", form, FORM, signed_headers(form, stamp=stale)),
        ("binary body, correctly signed", binary, FORM, signed_headers(binary)),
        (
            "json array, signed by another secret",
            b"[1]",
            "application/json",
            signed_headers(b"[1]", secret="x"),
        ),
    ]


MALFORMED_SIGNED: list[tuple[str, bytes, str]] = [
    ("broken payload", b"payload=not json", FORM),
    ("payload that is a list", b"payload=%5B1%2C2%5D", FORM),
    ("json array", b"[1, 2, 3]", "application/json"),
    ("broken json", b'{"type": ', "application/json"),
    ("empty body", b"", FORM),
]


def assert_refused_quietly(edge: Edge, offset: int, requests_sent: int, reasons: set[str]) -> None:
    """Exactly one slack_request line per request, with the expected outcome, and no
    traceback; and nothing refused got as far as calling Slack."""
    text = edge.log_since(offset)
    assert "Traceback" not in text, text
    lines = [line for line in text.splitlines() if "slack_request " in line]
    assert len(lines) == requests_sent, text
    logged = [json.loads(line.split("slack_request ", 1)[1]) for line in lines]
    assert {entry["outcome"] for entry in logged} <= reasons, logged
    assert edge.served.slack.calls == []


@pytest.mark.parametrize(
    ("name", "body", "content_type", "headers"), UNSIGNED, ids=[c[0] for c in UNSIGNED]
)
def test_unsigned_or_malformed_requests_get_401_in_one_line(
    fresh: Edge, name: str, body: bytes, content_type: str, headers: dict[str, str]
) -> None:
    offset = fresh.log_size()
    response = requests.post(
        fresh.events, data=body, headers={"Content-Type": content_type, **headers}, timeout=10
    )
    assert response.status_code == 401, name
    assert "Traceback" not in response.text
    assert_refused_quietly(fresh, offset, 1, {"unauthorized"})


def test_requests_a_signature_cannot_vouch_for_get_401(fresh: Edge) -> None:
    cases = _signed_cases()
    offset = fresh.log_size()
    for name, body, content_type, headers in cases:
        response = requests.post(
            fresh.events, data=body, headers={"Content-Type": content_type, **headers}, timeout=10
        )
        assert response.status_code == 401, name
    assert_refused_quietly(fresh, offset, len(cases), {"unauthorized"})


def test_signed_but_malformed_bodies_get_400(fresh: Edge) -> None:
    offset = fresh.log_size()
    for name, body, content_type in MALFORMED_SIGNED:
        response = requests.post(
            fresh.events,
            data=body,
            headers={"Content-Type": content_type, **signed_headers(body)},
            timeout=10,
        )
        assert response.status_code == 400, name
    assert_refused_quietly(fresh, offset, len(MALFORMED_SIGNED), {"malformed"})


def test_a_body_over_the_limit_gets_413(fresh: Edge) -> None:
    app = fresh.served
    _, url = app.response_url()
    body = app.command_body("summer-sale " + "x" * LIMIT, url).encode()
    assert len(body) > LIMIT
    offset = fresh.log_size()
    response = requests.post(
        fresh.events, data=body, headers={"Content-Type": FORM, **signed_headers(body)}, timeout=10
    )
    assert response.status_code == 413
    assert_refused_quietly(fresh, offset, 1, {"too_large"})


def _chunks(body: bytes, size: int = 512) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_a_chunked_body_over_the_limit_gets_413(fresh: Edge) -> None:
    split = urlsplit(fresh.served.url)
    host, port = split.hostname, split.port
    assert host is not None and port is not None
    body = b"text=" + b"x" * (LIMIT * 4)
    headers = "".join(f"{k}: {v}\r\n" for k, v in signed_headers(body).items())
    offset = fresh.log_size()
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(
            (
                f"POST /slack/events HTTP/1.1\r\nHost: {host}:{port}\r\n"
                f"Content-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n{headers}\r\n"
            ).encode()
        )
        try:  # the server may answer, and stop reading, before the last chunk
            for chunk in _chunks(body):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = sock.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert_refused_quietly(fresh, offset, 1, {"too_large"})


def test_a_signed_chunked_command_within_the_limit_is_answered(fresh: Edge) -> None:
    app = fresh.served
    _, url = app.response_url()
    body = app.command_body("summer-sale 2025-08-10..2025-08-12", url).encode()
    assert len(body) < LIMIT
    response = requests.post(
        fresh.events,
        data=_chunks(body, 64),
        headers={"Content-Type": FORM, **signed_headers(body)},
        timeout=10,
    )
    assert response.status_code == 200
    assert "1,188.00" in message_text(response.json())


def _worker_pids(port: int) -> list[int]:
    """The gunicorn workers of the server on `port`: children of the process started with it."""
    master = None
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\x00")
        except OSError:
            continue
        if b"serve" in argv and str(port).encode() in argv:
            master = int(entry.name)
            break
    assert master is not None, "the kpibot serve process was not found"
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Field 4 of /proc/PID/stat (after the parenthesised name) is the parent's pid.
        if int(stat.rsplit(")", 1)[1].split()[1]) == master:
            children.append(int(entry.name))
    assert children, "no gunicorn workers found"
    return children


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def _send_huge_declared_body(host: str, port: int, declared: int) -> tuple[bytes, float]:
    """Headers declaring `declared` bytes, and none of them: the response and how long it
    took. (Body bytes sent after them could meet a closed socket — the server answers without
    reading them — and a reset could then swallow the answer; the headers alone show that the
    declared length, not the bytes, decides.)"""
    started = time.monotonic()
    with socket.create_connection((host, port), timeout=10) as sock:
        head = (
            "POST /slack/events HTTP/1.1\r\n"
            f"Host: {host}:{port}\r\n"
            f"Content-Type: {FORM}\r\n"
            f"Content-Length: {declared}\r\n"
            f"X-Slack-Request-Timestamp: {int(time.time())}\r\n"
            f"X-Slack-Signature: v0={'0' * 64}\r\n"
            "\r\n"
        )
        sock.sendall(head.encode())
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    return answer, time.monotonic() - started


def test_a_200_mb_declared_body_is_refused_before_it_is_read(fresh: Edge) -> None:
    split = urlsplit(fresh.served.url)
    assert split.hostname is not None and split.port is not None
    workers = _worker_pids(split.port)
    before = {pid: _rss_kib(pid) for pid in workers}
    offset = fresh.log_size()
    for _ in range(len(workers) * 2):  # more than once per worker
        answer, elapsed = _send_huge_declared_body(split.hostname, split.port, 200 * 1024 * 1024)
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        assert elapsed < 5, elapsed
    after = {pid: _rss_kib(pid) for pid in workers}
    # Reading 200 MB would show as ~200 MB more RSS; 16 MiB of slack absorbs noise.
    for pid in workers:
        assert after[pid] - before[pid] < 16 * 1024, (before, after)
    assert_refused_quietly(fresh, offset, len(workers) * 2, {"too_large"})
    assert requests.get(f"{fresh.served.url}healthz", timeout=5).status_code == 200


def _raw_status(host: str, port: int, request: bytes) -> int:
    with socket.create_connection((host, port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while b"\r\n" not in answer:
            data = sock.recv(4096)
            if not data:
                break
            answer += data
    return int(answer.split(b" ", 2)[1])


def test_gunicorn_refuses_oversized_request_lines_and_headers(fresh: Edge) -> None:
    split = urlsplit(fresh.served.url)
    host, port = split.hostname, split.port
    assert host is not None and port is not None
    start = f"Host: {host}:{port}\r\n"
    long_line = f"POST /slack/events?{'q' * 3000} HTTP/1.1\r\n{start}\r\n".encode()
    many_headers = (
        f"POST /slack/events HTTP/1.1\r\n{start}"
        + "".join(f"X-Filler-{n}: {n}\r\n" for n in range(60))
        + "Content-Length: 0\r\n\r\n"
    ).encode()
    long_header = (
        f"POST /slack/events HTTP/1.1\r\n{start}X-Filler: {'h' * 5000}\r\nContent-Length: 0\r\n\r\n"
    ).encode()
    offset = fresh.log_size()
    for request in (long_line, many_headers, long_header):
        status = _raw_status(host, port, request)
        assert 400 <= status < 500, status
    text = fresh.log_since(offset)
    assert "Traceback" not in text
    assert "slack_request " not in text  # gunicorn answered; kpibot never saw them
    assert fresh.served.slack.calls == []
    # The server still serves.
    assert requests.get(f"{fresh.served.url}healthz", timeout=5).status_code == 200
    response, _ = fresh.served.command("help")
    assert response.status_code == 200
