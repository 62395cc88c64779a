"""The checks in front of Bolt: a bounded body, Slack's signature on the raw bytes, then a
shape Bolt can parse, so no unsigned or malformed request ever reaches a parser."""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

log = logging.getLogger("kpibot.requests")

MAX_CLOCK_SKEW_SECONDS = 5 * 60
"""Slack's replay window: a timestamp further than this from now is refused."""

_READ_CHUNK = 16 * 1024
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_LOGGED_PATH_CHARS = 100


@dataclass(frozen=True)
class Refusal:
    """Why a request is not handed to Bolt, as an HTTP status and loggable words."""

    status: int
    outcome: str
    reason: str

    @property
    def status_line(self) -> str:
        return _STATUS_LINES[self.status]


_STATUS_LINES = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
}


def unauthorized(reason: str) -> Refusal:
    return Refusal(401, "unauthorized", reason)


def malformed(reason: str) -> Refusal:
    return Refusal(400, "malformed", reason)


TOO_LARGE = Refusal(413, "too_large", "body_over_limit")
NOT_FOUND = Refusal(404, "not_found", "unknown_path")
METHOD_NOT_ALLOWED = Refusal(405, "method_not_allowed", "wrong_method")


class Gate:
    """Admits a Slack request (its raw body) or refuses it, reading at most the limit."""

    def __init__(
        self, signing_secret: str, max_body_bytes: int, clock: Callable[[], float] = time.time
    ) -> None:
        self._verifier = SignatureVerifier(signing_secret)
        self._limit = max_body_bytes
        self._clock = clock

    def admit(self, environ: Mapping[str, Any]) -> bytes | Refusal:
        """The verified raw body, or why not; headers are checked before the body is read."""
        declared = _declared_length(environ, self._limit)
        if isinstance(declared, Refusal):
            return declared
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        refused = self._check_headers(stamp, signature)
        if refused is not None:
            return refused
        assert isinstance(stamp, str) and isinstance(signature, str)
        body = _read_body(environ, declared, self._limit)
        if isinstance(body, Refusal):
            return body
        refused = self._check_signature(stamp, signature, body) or check_shape(
            body, str(environ.get("CONTENT_TYPE") or "")
        )
        return refused or body

    def _check_headers(self, stamp: object, signature: object) -> Refusal | None:
        if not stamp:
            return unauthorized("missing_timestamp")
        if not isinstance(stamp, str) or not _TIMESTAMP.fullmatch(stamp):
            return unauthorized("bad_timestamp")
        if abs(self._clock() - int(stamp)) > MAX_CLOCK_SKEW_SECONDS:
            return unauthorized("stale_timestamp")
        if not signature:
            return unauthorized("missing_signature")
        if not isinstance(signature, str) or not _SIGNATURE.fullmatch(signature):
            return unauthorized("bad_signature")
        return None

    def _check_signature(self, stamp: str, signature: str, body: bytes) -> Refusal | None:
        # Slack signs UTF-8 text: other bytes cannot be a Slack request, whatever the HMAC says.
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return unauthorized("not_utf8")
        expected = self._verifier.generate_signature(timestamp=stamp, body=body)
        if expected is None or not hmac.compare_digest(expected, signature):
            return unauthorized("bad_signature")
        return None


def _declared_length(environ: Mapping[str, Any], limit: int) -> int | Refusal | None:
    """Content-Length as a number (None when absent), refused at once when over the limit."""
    text = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        return malformed("bad_content_length")
    # Compare digit counts first, so a thousand-digit length is not turned into an int.
    if len(text) > len(str(limit)) or int(text) > limit:
        return TOO_LARGE
    return int(text)


def _read_body(environ: Mapping[str, Any], declared: int | None, limit: int) -> bytes | Refusal:
    """Exactly the declared bytes, or, without a length (chunked), at most limit + 1 of them."""
    if declared is None and not _has_framed_body(environ):
        return b""
    wanted = limit + 1 if declared is None else declared
    stream = environ.get("wsgi.input")
    chunks: list[bytes] = []
    received = 0
    try:
        while stream is not None and received < wanted:
            chunk = stream.read(min(_READ_CHUNK, wanted - received))
            if not chunk:
                break
            chunks.append(chunk)
            received += len(chunk)
    except Exception:  # a client's broken framing or dropped socket: refuse it
        return malformed("unreadable_body")
    if received > limit:
        return TOO_LARGE
    if declared is not None and received < declared:
        return malformed("short_body")
    return b"".join(chunks)


def _has_framed_body(environ: Mapping[str, Any]) -> bool:
    """A body without Content-Length: chunked, or a server that ends the stream for us."""
    encoding = str(environ.get("HTTP_TRANSFER_ENCODING") or "").lower()
    return "chunked" in encoding or bool(environ.get("wsgi.input_terminated"))


def check_shape(body: bytes, content_type: str) -> Refusal | None:
    """A signed body Bolt can parse into an object (mirrors slack_bolt's parse_body), or why
    not: Bolt would otherwise raise on it, or hand a list to code expecting a dict."""
    text = body.decode("utf-8")
    if not text:
        return malformed("empty_body")
    media = content_type.split(";", 1)[0].strip().lower()
    if media == "application/json" or text.startswith("{"):
        return _json_object(text, "bad_json")
    if "payload" in text:
        payload = dict(parse_qsl(text, keep_blank_values=True)).get("payload")
        return None if payload is None else _json_object(payload, "bad_payload")
    try:
        parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        return malformed("bad_form")
    return None


def _json_object(text: str, reason: str) -> Refusal | None:
    try:
        value = json.loads(text)
    except ValueError:
        return malformed(reason)
    return None if isinstance(value, dict) else malformed(f"{reason}_not_object")


def log_refusal(refusal: Refusal, environ: Mapping[str, Any], started: float) -> None:
    """The one `slack_request` line of a refused request (request_log.py's shape): its
    method, path and reason, never its body or a header's value."""
    fields = {
        "kind": "unknown",
        "method": str(environ.get("REQUEST_METHOD", ""))[:10],
        "path": str(environ.get("PATH_INFO", ""))[:_LOGGED_PATH_CHARS],
        "status": str(refusal.status),
        "outcome": refusal.outcome,
        "reason": refusal.reason,
        "latency_ms": f"{(time.perf_counter() - started) * 1000:.1f}",
    }
    # Refused Slack traffic is a security event; a stray path or method is just noise.
    level = logging.INFO if refusal.status in (404, 405) else logging.WARNING
    log.log(level, "slack_request %s", json.dumps(fields, sort_keys=True))
