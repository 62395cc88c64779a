"""Who may ask (admission of every request) and `/kpi access …`: what channels may see.

`/kpi access` alone shows this channel's limit to anyone; setting (`/kpi access <#channel>
platform meta_ads`), clearing and listing limits is for workspace admins and owners.
"""

from __future__ import annotations

from typing import Any

from bot import messages
from bot.access.service import AccessService, Reason, Refused, Viewer
from bot.access.words import channel_of
from bot.query import QueryError
from bot.render.access_admin import (
    cleared_message,
    limits_message,
    refusal_message,
    set_message,
    sight_message,
)
from bot.render.blocks import error_message
from bot.slack.replies import SlackDeps, as_response

WORD = "access"


def is_access_command(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0].lower() == WORD


def command_viewer(command: dict[str, Any]) -> Viewer:
    """The viewer of a slash command: `user_id` in `channel_id`."""
    return Viewer(str(command.get("user_id") or ""), str(command.get("channel_id") or ""))


def action_viewer(body: dict[str, Any]) -> Viewer:
    """The viewer of a button press: `user.id` in `channel.id`."""
    return Viewer(_id(body.get("user")), _id(body.get("channel")))


def _id(part: object) -> str:
    return str(part.get("id") or "") if isinstance(part, dict) else ""


def _service(deps: SlackDeps, viewer: Viewer) -> AccessService:
    if deps.access is None:  # never in a wired app; if it happens, nobody is let in
        raise Refused(Reason.IDENTITY_UNKNOWN, messages.ACCESS_IDENTITY_UNKNOWN)
    return deps.access


def refusal(deps: SlackDeps, viewer: Viewer) -> dict[str, Any] | None:
    """None when the viewer may ask; else the plain refusal to answer with."""
    try:
        _service(deps, viewer).admit(viewer)
    except Refused as refused:
        return refusal_message(str(refused))
    return None


def refused_press(deps: SlackDeps, body: dict[str, Any]) -> bool:
    """Admit a button press (after its ack); a refusal goes to its response_url as a new
    ephemeral message, leaving the pressed message as it was. True when refused."""
    message = refusal(deps, action_viewer(body))
    if message is None:
        return False
    deps.responder.send(str(body["response_url"]), as_response(message, replace_original=False))
    return True


def access_reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    """The reply to one `/kpi access …`; mistakes and refusals come back kindly."""
    try:
        return _reply(deps, command)
    except Refused as refused:
        return refusal_message(str(refused))
    except QueryError as exc:
        return error_message(str(exc))


def _reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    viewer = command_viewer(command)
    access = _service(deps, viewer)
    words = str(command.get("text") or "").split()[1:]
    if not words:
        return sight_message(access.sight(viewer.channel))
    # Everything else shows or changes other channels' limits: admins and owners only.
    access.require_admin(viewer)
    action = words[0].lower()
    if action == "list":
        if len(words) > 1:
            raise QueryError(messages.ACCESS_USAGE)
        return limits_message(access.limits())
    if action == "clear":
        if len(words) != 2:
            raise QueryError(messages.ACCESS_CLEAR_WHICH)
        channel = channel_of(words[1], viewer.channel)
        return cleared_message(channel, access.clear(channel))
    if action == "help":
        raise QueryError(messages.ACCESS_USAGE)
    channel = channel_of(words[0], viewer.channel)
    if len(words) == 1:
        return sight_message(access.sight(channel))
    return set_message(access.set_limit(channel, words[1:], by=viewer.user))
