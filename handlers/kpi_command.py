"""`/kpi`: answer in the acknowledgement when quick, else through response_url."""

from __future__ import annotations

from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, App

from bot.slack.replies import EPHEMERAL, SlackDeps, as_response, reply_for


def register(app: App, deps: SlackDeps) -> None:
    @app.command("/kpi")
    def kpi_command(ack: Ack, command: dict[str, Any]) -> None:
        text = str(command.get("text") or "")
        pending = deps.executor.submit(reply_for, deps.kpis, text)
        try:
            message = pending.result(timeout=deps.ack_budget)
        except FutureTimeout:
            ack()

            def finish() -> None:
                reply = as_response(pending.result())
                deps.responder.send(str(command["response_url"]), reply)

            deps.after_ack(command, finish)
            return
        ack(text=message["text"], blocks=message["blocks"], response_type=EPHEMERAL)
