"""`/kpi digest …`: add, list, pause, resume, remove, preview and send morning digests.

Reached through /kpi (handlers/kpi_command.py), which acknowledges in time and posts slower
answers through response_url; every reply here is ephemeral.
"""

from __future__ import annotations

from typing import Any

from bot import messages
from bot.digests.guards import add_digest, change_digest, last_delivery_error
from bot.digests.service import DigestService, NotAllowed
from bot.query import QueryError
from bot.render.blocks import error_message
from bot.render.digest_admin import (
    added_message,
    changed_message,
    list_message,
    not_yours_message,
    sent_message,
)
from bot.render.digest_blocks import digest_message
from bot.slack.replies import SlackDeps

WORD = "digest"
CHANGES = ("pause", "resume", "remove")


def is_digest_command(text: str) -> bool:
    words = text.split()
    return bool(words) and words[0].lower() == WORD


def digest_reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    """The reply to one `/kpi digest …`; mistakes the user can fix come back kindly."""
    try:
        return _reply(deps, command)
    except QueryError as exc:
        return error_message(str(exc))


def _reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    digests = deps.digests
    if digests is None:
        raise QueryError(messages.DIGESTS_NOT_SET_UP)
    words = str(command.get("text") or "").split()[1:]
    action = words[0].lower() if words else ""
    rest = words[1:]
    channel = str(command.get("channel_id") or "")
    user = str(command.get("user_id") or "")
    if action == "add":
        view = add_digest(digests, deps.slack, rest, channel=channel, user=user)
        return added_message(view)
    if action == "list":
        return list_message(digests.subscriptions(channel), channel)
    if action in CHANGES:
        subscription_id = digest_id(rest, action)
        try:
            changed = change_digest(
                digests, deps.slack, subscription_id, action, user=user, viewer=channel
            )
        except NotAllowed:
            creator = digests.get(subscription_id, viewer=channel).created_by
            return not_yours_message(subscription_id, creator)
        return changed_message(action, subscription_id, changed)
    if action == "preview":
        subscription_id = _only_or_named(digests, rest, channel)
        return digest_message(digests.preview(subscription_id, viewer=channel))
    if action == "send":
        subscription_id = digest_id(rest, action)
        report = digests.send(subscription_id, viewer=channel)
        return sent_message(
            subscription_id,
            digests.get(subscription_id).channel,
            report,
            None if report.sent else last_delivery_error(digests, subscription_id),
        )
    raise QueryError(messages.digest_usage(action or None))


def digest_id(words: list[str], action: str) -> int:
    """The id after `digest <action>`: `3` or `#3`; QueryError saying how to write one."""
    text = " ".join(words).strip()
    number = text.removeprefix("#")
    if not number.isascii() or not number.isdigit() or len(number) > 9:
        raise QueryError(messages.digest_bad_id(text, action))
    return int(number)


def _only_or_named(digests: DigestService, words: list[str], channel: str) -> int:
    """`preview 3`, or `preview` alone: this channel's only digest, or ask which."""
    if words:
        return digest_id(words, "preview")
    ids = [view.subscription.id for view in digests.subscriptions(channel)]
    if len(ids) == 1:
        return ids[0]
    if not ids:
        raise QueryError(messages.no_digests_in("this channel"))
    raise QueryError(messages.digest_which(ids))
