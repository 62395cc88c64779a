"""One structured log line per Slack request: what, who, how long, how it ended."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

log = logging.getLogger("kpibot.requests")


def describe(body: dict[str, Any]) -> dict[str, str]:
    """The loggable facts of a request body: never its token or free text."""
    if "command" in body:
        return {
            "kind": "command",
            "command": str(body.get("command")),
            "user": str(body.get("user_id", "")),
        }
    actions = body.get("actions") or [{}]
    user = body.get("user") or {}
    return {
        "kind": str(body.get("type", "unknown")),
        "action": str(actions[0].get("action_id", "")),
        "user": str(user.get("id", "")),
    }


def log_request(
    request: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]
) -> BoltResponse:
    """Bolt global middleware: time the request through to its acknowledgement."""
    started = time.perf_counter()
    outcome = "error"
    status = 500
    try:
        response = next()
        status = response.status
        outcome = "ok" if status == 200 else "refused"
        return response
    finally:
        fields = describe(body)
        fields.update(
            status=str(status),
            outcome=outcome,
            latency_ms=f"{(time.perf_counter() - started) * 1000:.1f}",
        )
        log.info("slack_request %s", json.dumps(fields, sort_keys=True))
