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
        }
    actions = body.get("actions")
    first = actions[0] if isinstance(actions, list) and actions else {}
    return {
        "kind": _field(body, "type") or "unknown",
        "action": _field(first, "action_id"),
        "user": _field(body.get("user"), "id"),
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
            failed = bool(req.context.get(FAILED))
            fields.update(
                status=str(status),
                outcome="error"
                if failed
                else {200: "ok", 401: "unauthorized"}.get(status, "error"),
                latency_ms=f"{(time.perf_counter() - started) * 1000:.1f}",
            )
            log.info("slack_request %s", json.dumps(fields, sort_keys=True))
