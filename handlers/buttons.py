"""Buttons on kpibot's messages: share a card, pick a campaign, turn a page."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.actions import ACTION_PAGE, ACTION_PICK, ACTION_SHARE, CardRef, PageRef
from bot.render.blocks import card_message
from bot.slack.replies import IN_CHANNEL, SlackDeps, as_response, reply_for
from handlers.access import action_viewer, refused_press


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def register(app: App, deps: SlackDeps) -> None:
    @app.action(ACTION_SHARE)
    def share(ack: Ack, body: dict[str, Any]) -> None:
        ack()

        def post_in_channel() -> None:
            if refused_press(deps, body):
                return
            ref = CardRef.decode(_value(body))
            viewer = action_viewer(body)
            card = deps.kpis.card_for(
                ref.campaign_id, ref.period, ref.compare, channel=viewer.channel
            )
            user = viewer.user
            message = card_message(card, shared_by=user, with_actions=False)
            reply = as_response(message, IN_CHANNEL, replace_original=False)
            deps.responder.send(body["response_url"], reply)

        deps.after_ack(body, post_in_channel)

    @app.action(re.compile(f"^{ACTION_PICK}_\\d+$"))
    def pick(ack: Ack, body: dict[str, Any]) -> None:
        ack()

        def answer_for_pick() -> None:
            if refused_press(deps, body):
                return
            ref = CardRef.decode(_value(body))
            channel = action_viewer(body).channel
            card = deps.kpis.card_for(ref.campaign_id, ref.period, ref.compare, channel=channel)
            reply = as_response(card_message(card), replace_original=True)
            deps.responder.send(body["response_url"], reply)

        deps.after_ack(body, answer_for_pick)

    @app.action(re.compile(f"^{ACTION_PAGE}_(prev|next)$"))
    def turn_page(ack: Ack, body: dict[str, Any]) -> None:
        ack()

        def show_page() -> None:
            if refused_press(deps, body):
                return
            ref = PageRef.decode(_value(body))
            channel = action_viewer(body).channel
            message = reply_for(
                deps.kpis, ref.query, page=ref.page, as_of=ref.as_of, channel=channel
            )
            reply = as_response(message, replace_original=True)
            deps.responder.send(body["response_url"], reply)

        deps.after_ack(body, show_page)
