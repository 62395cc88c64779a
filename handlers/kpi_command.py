"""`/kpi`: answer in the acknowledgement when quick, else through response_url."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, App

from bot.slack.replies import EPHEMERAL, SlackDeps, as_response, reply_for
from handlers.alert import alert_reply, is_alert_command
from handlers.digest import digest_reply, is_digest_command


def register(app: App, deps: SlackDeps) -> None:
    @app.command("/kpi")
    def kpi_command(ack: Ack, command: dict[str, Any]) -> None:
        text = str(command.get("text") or "")
        budget = 0.0 if deps.load.busy() else deps.ack_budget
        if is_digest_command(text):
            pending = deps.load.submit(deps.executor, lambda: digest_reply(deps, command))
        elif is_alert_command(text):
            pending = deps.load.submit(deps.executor, lambda: alert_reply(deps, command))
        else:
            pending = deps.load.submit(deps.executor, lambda: reply_for(deps.kpis, text))
        try:
            message = pending.result(timeout=budget)
        except FutureTimeout:
            ack()

            def send_when_ready(done: Future[dict[str, Any]]) -> None:
                def send() -> None:
                    reply = as_response(done.result())
                    deps.responder.send(str(command["response_url"]), reply)

                deps.reporting(command, send)

            # Posted from the answering thread when it finishes: no second thread waits.
            pending.add_done_callback(send_when_ready)
            return
        ack(text=message["text"], blocks=message["blocks"], response_type=EPHEMERAL)
