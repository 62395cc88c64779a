"""The one error handler: an apology with a reference for the user, the details in the log."""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from slack_bolt import App, BoltResponse

from bot.render.blocks import apology_message
from bot.slack.clients import DeliveryError
from bot.slack.replies import SlackDeps, as_response

log = logging.getLogger("kpibot.errors")


def register(app: App, deps: SlackDeps) -> None:
    @app.error
    def on_error(
        error: Exception, body: dict[str, Any], response: BoltResponse | None
    ) -> BoltResponse | None:
        reference = secrets.token_hex(4).upper()
        log.error(
            "unhandled error ref=%s kind=%s: %s",
            reference,
            body.get("type") or ("command" if "command" in body else "unknown"),
            error.__class__.__name__,
            exc_info=error,
        )
        message = as_response(apology_message(reference))
        if response is not None:
            # Not yet acknowledged: the apology is the HTTP answer itself.
            return BoltResponse(
                status=200,
                body=json.dumps(message),
                headers={"content-type": "application/json;charset=utf-8"},
            )
        response_url = body.get("response_url")
        if response_url:
            try:
                deps.responder.send(str(response_url), message)
            except DeliveryError as exc:
                log.error("could not deliver apology ref=%s: %s", reference, exc)
        return None
