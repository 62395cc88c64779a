"""One structured log line per Slack request: what, who, how long, how it ended."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

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
            fields = describe(req.body if isinstance(req.body, dict) else {})
            fields.update(
                status=str(status),
                outcome={200: "ok", 401: "unauthorized"}.get(status, "error"),
                latency_ms=f"{(time.perf_counter() - started) * 1000:.1f}",
            )
            log.info("slack_request %s", json.dumps(fields, sort_keys=True))
