"""What a digest change asks Slack first: can the bot post in the channel, is the user an admin.

Slack (`/kpi digest`) and the CLI (`kpibot digest add`) share these, so a digest is never
stored for a channel it could not be posted in, whichever way it was added.
"""

from __future__ import annotations

from typing import Protocol

from bot import messages
from bot.delivery.posting import PostFailure
from bot.digests.service import DigestService, DigestView
from bot.digests.words import parse_digest_words
from bot.query import QueryError


class Workspace(Protocol):
    """The two questions digests ask Slack (bot.slack.poster.SlackPoster answers them)."""

    def channel_problem(self, channel: str) -> str | None:
        """None when the bot can post in `channel`, else what to do about it."""
        ...

    def is_admin(self, user: str) -> bool: ...


class ChannelRefused(QueryError):
    """The bot cannot post in the channel; the message says what to do."""

    code = "channel_unusable"


class SlackUnavailable(QueryError):
    """Slack could not be asked, so nothing was stored or changed."""

    code = "slack_unavailable"


def add_digest(
    digests: DigestService,
    workspace: Workspace | None,
    words: list[str],
    *,
    channel: str,
    user: str,
) -> DigestView:
    """Store a digest from `digest add` words, once the words read and the channel is usable.

    The words are checked before Slack is asked, so a typo is reported without a round trip;
    `workspace` None skips the channel check (the CLI without SLACK_BOT_TOKEN).
    """
    parse_digest_words(words, digests.default_timezone)
    check_channel(workspace, channel)
    return digests.add(words, channel=channel, user=user)


def check_channel(workspace: Workspace | None, channel: str) -> None:
    """ChannelRefused when the bot cannot post in `channel`; SlackUnavailable when Slack
    cannot be asked; nothing to check without a workspace (the CLI without a token)."""
    if workspace is None:
        return
    try:
        problem = workspace.channel_problem(channel)
    except PostFailure as failure:
        raise SlackUnavailable(
            messages.slack_check_failed(messages.CHECK_CHANNEL, failure.error)
        ) from failure
    if problem is not None:
        raise ChannelRefused(problem)


def is_admin(workspace: Workspace | None, user: str) -> bool:
    """users.info, asked only when needed; Slack away → nothing is changed."""
    if workspace is None:
        return False
    try:
        return workspace.is_admin(user)
    except PostFailure as failure:
        raise SlackUnavailable(
            messages.slack_check_failed(messages.CHECK_ADMIN, failure.error)
        ) from failure


def change_digest(
    digests: DigestService,
    workspace: Workspace | None,
    subscription_id: int,
    action: str,
    *,
    user: str,
    viewer: str | None = None,
) -> DigestView | None:
    """pause, resume or remove as a Slack user: users.info is asked only when the user is not
    the digest's creator; from `viewer`, a limited channel, another channel's is not found."""
    creator = digests.get(subscription_id, viewer=viewer).created_by
    admin = user != creator and is_admin(workspace, user)
    return digests.change(subscription_id, action, user=user, is_admin=admin, viewer=viewer)


def last_delivery_error(digests: DigestService, subscription_id: int) -> str | None:
    """Slack's error on the digest's newest delivery (after a `send` that did not post)."""
    for view in digests.subscriptions():
        if view.subscription.id == subscription_id and view.last is not None:
            return view.last.error
    return None
