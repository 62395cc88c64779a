"""The buttons on an alert: Acknowledge, Snooze 1 day / 1 week, Mute campaign, Open card.

Each redraws the alert message in place (response_url, replace_original) to show who did what;
Open card answers with the campaign's `/kpi` card, visible only to whoever pressed it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App

from bot import messages
from bot.actions import CardRef
from bot.alerts.model import Action
from bot.alerts.service import IncidentRef, NotAllowed
from bot.digests.guards import is_admin
from bot.query import QueryError
from bot.render.alert_admin import not_yours_message
from bot.render.alert_blocks import (
    ACTION_ACK,
    ACTION_CARD,
    ACTION_MUTE,
    ACTION_SNOOZE_DAY,
    ACTION_SNOOZE_WEEK,
    incident_message,
)
from bot.render.blocks import card_message
from bot.slack.replies import IN_CHANNEL, SlackDeps, as_response
from handlers.access import action_viewer, refused_press

_ACTIONS = {
    ACTION_ACK: (Action.ACKNOWLEDGE, None),
    ACTION_SNOOZE_DAY: (Action.SNOOZE, timedelta(days=1)),
    ACTION_SNOOZE_WEEK: (Action.SNOOZE, timedelta(weeks=1)),
    ACTION_MUTE: (Action.MUTE, None),
}


def _value(body: dict[str, Any]) -> str:
    actions = body.get("actions") or [{}]
    return str(actions[0].get("value") or "")


def _user(body: dict[str, Any]) -> str:
    return str((body.get("user") or {}).get("id") or "")


def register(app: App, deps: SlackDeps) -> None:
    def on_incident(action_id: str) -> None:
        action, length = _ACTIONS[action_id]

        @app.action(action_id)
        def act(ack: Ack, body: dict[str, Any]) -> None:
            ack()

            def apply() -> None:
                if refused_press(deps, body):
                    return
                alerts = deps.alerts
                if alerts is None:
                    raise QueryError(messages.ALERTS_NOT_SET_UP)
                ref = IncidentRef.decode(_value(body))
                user = _user(body)
                # Pressed in a limited channel, another channel's rule does not exist.
                viewer = action_viewer(body).channel
                admin = False
                if action is not Action.ACKNOWLEDGE:
                    rule = alerts.get(ref.rule_id, viewer=viewer)
                    if user not in (rule.created_by, rule.rule.notify):
                        admin = is_admin(deps.slack, user)
                try:
                    notice = alerts.act(
                        ref, action, user=user, is_admin=admin, length=length, viewer=viewer
                    )
                except NotAllowed:
                    # Said with the creator as a mention (the generic error reply would escape
                    # it into visible angle brackets), to the presser only; the alert stays.
                    creator = alerts.get(ref.rule_id, viewer=viewer).created_by
                    refused = as_response(
                        not_yours_message(ref.rule_id, creator), replace_original=False
                    )
                    deps.responder.send(str(body["response_url"]), refused)
                    return
                # The alert is a channel message: its redraw stays one, for everyone.
                redrawn = as_response(incident_message(notice), IN_CHANNEL, replace_original=True)
                deps.responder.send(str(body["response_url"]), redrawn)

            deps.after_ack(body, apply)

    for action_id in _ACTIONS:
        on_incident(action_id)

    @app.action(ACTION_CARD)
    def open_card(ack: Ack, body: dict[str, Any]) -> None:
        ack()

        def show_card() -> None:
            if refused_press(deps, body):
                return
            ref = CardRef.decode(_value(body))
            channel = action_viewer(body).channel
            card = deps.kpis.card_for(ref.campaign_id, ref.period, ref.compare, channel=channel)
            reply = as_response(card_message(card), replace_original=False)
            deps.responder.send(str(body["response_url"]), reply)

        deps.after_ack(body, show_card)
