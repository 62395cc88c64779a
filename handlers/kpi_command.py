"""`/kpi`: answer in the acknowledgement when quick, else through response_url."""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from slack_bolt import Ack, App

from bot.slack.replies import EPHEMERAL, SlackDeps, as_response, reply_for
from handlers.access import access_reply, command_viewer, is_access_command, refusal
from handlers.alert import alert_reply, is_alert_command
from handlers.digest import digest_reply, is_digest_command
from handlers.sources import is_sources_command, sources_reply


def typed_text(text: str) -> str:
    """The command as the user typed it: Slack sends `&`, `<` and `>` of a slash command's
    text as HTML entities (its control characters), so `roi < 0` arrives as `roi &lt; 0`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def answer(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    """The reply to one /kpi, once its sender is admitted (users.info runs here, in the
    answering work, so it never makes the acknowledgement late)."""
    viewer = command_viewer(command)
    refused = refusal(deps, viewer)
    if refused is not None:
        return refused
    text = typed_text(str(command.get("text") or ""))
    command = {**command, "text": text}
    if is_digest_command(text):
        return digest_reply(deps, command)
    if is_alert_command(text):
        return alert_reply(deps, command)
    if is_access_command(text):
        return access_reply(deps, command)
    if is_sources_command(text):
        return sources_reply(deps, command)
    return reply_for(deps.kpis, text, channel=viewer.channel)


def register(app: App, deps: SlackDeps) -> None:
    @app.command("/kpi")
    def kpi_command(ack: Ack, command: dict[str, Any]) -> None:
        budget = 0.0 if deps.load.busy() else deps.ack_budget
        pending = deps.load.submit(deps.executor, lambda: answer(deps, command))
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
