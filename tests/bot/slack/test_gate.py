"""The gate in front of Bolt, on WSGI environs: size, then headers, then signature, then shape."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import logging
from typing import Any
from urllib.parse import urlencode

import pytest

from bot.slack.gate import MAX_CLOCK_SKEW_SECONDS, TOO_LARGE, Gate, Refusal, log_refusal
from bot.slack.signing import slack_signature

SECRET = "gate-secret-0123456789"
NOW = 1_760_000_000
LIMIT = 4096
COMMAND = urlencode({"command": "/kpi", "text": "summer", "user_id": "U1", "team_id": "T1"})


class CountingStream(io.BytesIO):
    """wsgi.input that remembers how many bytes were taken from it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.taken = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.taken += len(chunk)
        return chunk


class BrokenStream(io.BytesIO):
    def read(self, size: int | None = -1) -> bytes:
        raise OSError("connection reset")


def raw_signature(body: bytes) -> str:
    """Slack's signature over bytes that are not text (what a forger with the secret sends)."""
    base = f"v0:{NOW}:".encode() + body
    return "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()


def gate(now: float = NOW) -> Gate:
    return Gate(SECRET, LIMIT, clock=lambda: now)


def environ(
    body: bytes,
    *,
    stamp: str | None = str(NOW),
    signature: str | None = None,
    sign_as: bytes | None = None,
    content_type: str = "application/x-www-form-urlencoded",
    length: str | None = "auto",
    chunked: bool = False,
) -> dict[str, Any]:
    """A POST environ as gunicorn builds it; signed over `sign_as` (default: the body)."""
    env: dict[str, Any] = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/slack/events",
        "CONTENT_TYPE": content_type,
        "wsgi.input": CountingStream(body),
    }
    if length == "auto":
        env["CONTENT_LENGTH"] = str(len(body))
    elif length is not None:
        env["CONTENT_LENGTH"] = length
    if chunked:
        env["HTTP_TRANSFER_ENCODING"] = "chunked"
        env["wsgi.input_terminated"] = True
    if stamp is not None:
        env["HTTP_X_SLACK_REQUEST_TIMESTAMP"] = stamp
        if signature is None and stamp.isdigit():
            signed = (body if sign_as is None else sign_as).decode("utf-8", "replace")
            signature = slack_signature(SECRET, stamp, signed)
    if signature is not None:
        env["HTTP_X_SLACK_SIGNATURE"] = signature
    return env


def test_a_signed_command_is_admitted_as_its_exact_bytes() -> None:
    body = COMMAND.encode()
    assert gate().admit(environ(body)) == body


def test_a_signed_interaction_and_a_signed_json_event_are_admitted() -> None:
    press = urlencode({"payload": json.dumps({"type": "block_actions", "actions": []})}).encode()
    event = json.dumps({"type": "url_verification", "challenge": "c"}).encode()
    assert gate().admit(environ(press)) == press
    assert gate().admit(environ(event, content_type="application/json")) == event


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        (environ(COMMAND.encode(), stamp=None), "missing_timestamp"),
        (environ(COMMAND.encode(), stamp="soon", signature="v0=" + "0" * 64), "bad_timestamp"),
        (environ(COMMAND.encode(), stamp=f" {NOW}", signature="v0=" + "0" * 64), "bad_timestamp"),
        (environ(COMMAND.encode(), stamp=f"+{NOW}", signature="v0=" + "0" * 64), "bad_timestamp"),
        (environ(COMMAND.encode(), stamp="1" * 40, signature="v0=" + "0" * 64), "bad_timestamp"),
        (environ(COMMAND.encode(), signature=""), "missing_signature"),
        (environ(COMMAND.encode(), signature="v1=abc"), "bad_signature"),
        (environ(COMMAND.encode(), signature="v0=" + "0" * 64), "bad_signature"),
        (environ(COMMAND.encode(), sign_as=b"command=/other"), "bad_signature"),
        (environ(b"\x00\xff", signature="v0=" + "a" * 64), "not_utf8"),
        (environ(b"\x00\xff\xfe", signature=raw_signature(b"\x00\xff\xfe")), "not_utf8"),
    ],
)
def test_unsigned_requests_are_refused_with_401(env: dict[str, Any], reason: str) -> None:
    assert gate().admit(env) == Refusal(401, "unauthorized", reason)


@pytest.mark.parametrize("offset", [MAX_CLOCK_SKEW_SECONDS + 1, -(MAX_CLOCK_SKEW_SECONDS + 1)])
def test_a_timestamp_outside_slacks_five_minutes_is_stale(offset: int) -> None:
    env = environ(COMMAND.encode(), stamp=str(NOW + offset))
    assert gate().admit(env) == Refusal(401, "unauthorized", "stale_timestamp")


def test_a_timestamp_at_the_edge_of_the_window_still_counts() -> None:
    env = environ(COMMAND.encode(), stamp=str(NOW - MAX_CLOCK_SKEW_SECONDS))
    assert gate().admit(env) == COMMAND.encode()


def test_an_unsigned_request_is_refused_before_its_body_is_read() -> None:
    env = environ(COMMAND.encode(), stamp=None)
    gate().admit(env)
    assert env["wsgi.input"].taken == 0


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"payload=not json", "application/x-www-form-urlencoded", "bad_payload"),
        (b"payload=%5B1%2C2%5D", "application/x-www-form-urlencoded", "bad_payload_not_object"),
        (b"[1, 2, 3]", "application/json", "bad_json_not_object"),
        (b"{not json", "application/x-www-form-urlencoded", "bad_json"),
        (b'"just a string"', "application/json", "bad_json_not_object"),
        (b"[1, 2, 3]", "application/x-www-form-urlencoded", "bad_form"),
        (b"command=/kpi&&text", "application/x-www-form-urlencoded", "bad_form"),
        (b"", "application/x-www-form-urlencoded", "empty_body"),
    ],
)
def test_signed_bodies_bolt_cannot_parse_are_refused_with_400(
    body: bytes, content_type: str, reason: str
) -> None:
    assert gate().admit(environ(body, content_type=content_type)) == Refusal(
        400, "malformed", reason
    )


def test_a_declared_length_over_the_limit_is_413_without_reading_or_checking() -> None:
    env = environ(b"x" * 100, stamp=None, length=str(LIMIT + 1))
    assert gate().admit(env) is TOO_LARGE
    assert env["wsgi.input"].taken == 0


def test_a_huge_declared_length_is_not_even_turned_into_a_number() -> None:
    env = environ(b"", length="9" * 5000)
    assert gate().admit(env) is TOO_LARGE


def test_a_body_of_exactly_the_limit_is_read() -> None:
    body = ("text=" + "a" * (LIMIT - 5)).encode()
    assert len(body) == LIMIT
    assert gate().admit(environ(body)) == body


def test_a_chunked_body_is_read_to_the_limit_plus_one_byte_then_refused() -> None:
    body = b"text=" + b"a" * (10 * LIMIT)
    env = environ(body, length=None, chunked=True, sign_as=body[: LIMIT + 1])
    assert gate().admit(env) is TOO_LARGE
    assert env["wsgi.input"].taken == LIMIT + 1


def test_a_chunked_body_within_the_limit_is_admitted() -> None:
    body = COMMAND.encode()
    assert gate().admit(environ(body, length=None, chunked=True)) == body


@pytest.mark.parametrize("length", ["-1", "12a", "1e3", "٣"])
def test_a_content_length_that_is_not_a_number_is_400(length: str) -> None:
    env = environ(COMMAND.encode(), length=length)
    assert gate().admit(env) == Refusal(400, "malformed", "bad_content_length")


def test_a_body_shorter_than_declared_is_400() -> None:
    body = COMMAND.encode()
    env = environ(body, length=str(len(body) + 10))
    assert gate().admit(env) == Refusal(400, "malformed", "short_body")


def test_a_body_that_cannot_be_read_is_400() -> None:
    env = environ(COMMAND.encode())
    env["wsgi.input"] = BrokenStream()
    assert gate().admit(env) == Refusal(400, "malformed", "unreadable_body")


def test_no_length_and_no_framing_means_an_empty_body() -> None:
    env = environ(COMMAND.encode(), length=None, sign_as=b"")
    assert gate().admit(env) == Refusal(400, "malformed", "empty_body")
    assert env["wsgi.input"].taken == 0


def test_the_refusal_line_names_the_reason_and_never_the_body_or_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = environ(b"text=secret-words&token=xoxb-leak", signature="v0=" + "f" * 64)
    refusal = gate().admit(env)
    assert isinstance(refusal, Refusal)
    with caplog.at_level(logging.INFO, logger="kpibot.requests"):
        log_refusal(refusal, env, 0.0)
    (record,) = caplog.records
    message = record.getMessage()
    assert message.startswith("slack_request ")
    fields = json.loads(message.removeprefix("slack_request "))
    assert fields["status"] == "401"
    assert fields["outcome"] == "unauthorized"
    assert fields["reason"] == "bad_signature"
    assert fields["path"] == "/slack/events"
    assert {"kind", "method", "latency_ms"} <= fields.keys()
    for secret in ("secret-words", "xoxb-leak", "f" * 64, str(NOW)):
        assert secret not in message
