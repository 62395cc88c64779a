"""One structured log line per Slack request: what, who, how long, how it ended."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

log = logging.getLogger("kpibot.requests")


FAILED = "kpibot_failed"
"""Context key the error handler sets, so a request answered with an apology logs as error."""

IGNORED = "kpibot_ignored"
"""Context key a middleware sets to the reason it acknowledged a request and did nothing
(`replay`): the request's one line says so, with outcome `ignored`."""


def _field(container: Any, key: str) -> str:
    return str(container.get(key, ""))[:100] if isinstance(container, dict) else ""


def describe(body: Any) -> dict[str, str]:
    """The loggable facts of a request body (possibly unsigned, any shape): never its token
    or free text."""
    if not isinstance(body, dict):
        return {"kind": "unknown"}
    if "command" in body:
        return {
            "kind": "command",
            "command": _field(body, "command"),
            "user": _field(body, "user_id"),
            "channel": _field(body, "channel_id"),
        }
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else {}
    return {
        "kind": _field(body, "type") or "unknown",
        "action": _field(first, "action_id"),
        "user": _field(body.get("user"), "id"),
        "channel": _field(body.get("channel"), "id"),
    }


class LoggedApp(App):
    """A Bolt App that logs every dispatched request once, in both runtimes."""

    def dispatch(self, req: BoltRequest) -> BoltResponse:
        started = time.perf_counter()
        status = 500
        try:
            response = super().dispatch(req)
            status = response.status
            return response
        finally:
            fields = describe(req.body)
            ignored = req.context.get(IGNORED)
            if req.context.get(FAILED):
                outcome = "error"
            elif ignored and status == 200:
                outcome = "ignored"
                fields["reason"] = str(ignored)
            else:
                outcome = {200: "ok", 401: "unauthorized"}.get(status, "error")
            fields.update(
                status=str(status),
                outcome=outcome,
                latency_ms=f"{(time.perf_counter() - started) * 1000:.1f}",
            )
            log.info("slack_request %s", json.dumps(fields, sort_keys=True))
