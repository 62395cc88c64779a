"""Signing requests the way Slack does, for the console (and anything else that replays)."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence


def slack_signature(secret: str, timestamp: str, body: str) -> str:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}` (BRIEF §4)."""
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str, *, timestamp: int | None = None
) -> dict[str, str | Sequence[str]]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {
        "content-type": "application/x-www-form-urlencoded",
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": slack_signature(secret, stamp, body),
    }
