"""The one error handler: an apology with a reference for the user, the details in the log."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import App, BoltContext, BoltResponse

from bot.slack.failures import apologise_later, apology, log_failure
from bot.slack.replies import SlackDeps
from bot.slack.request_log import FAILED


def register(app: App, deps: SlackDeps) -> None:
    @app.error
    def on_error(
        error: Exception, body: dict[str, Any], context: BoltContext, response: BoltResponse | None
    ) -> BoltResponse | None:
        context[FAILED] = True
        if response is None:
            apologise_later(deps.responder, error, body)
            return None
        # Not yet acknowledged: the apology is the HTTP answer itself.
        return BoltResponse(
            status=200,
            body=json.dumps(apology(log_failure(error, body))),
            headers={"content-type": "application/json;charset=utf-8"},
        )
