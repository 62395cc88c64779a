"""The channel an `access` command names: `here`, `<#C123|name>`, `<#C123>`, `#C123`, `C123`."""

from __future__ import annotations

import re

from bot import messages
from bot.query import QueryError

_ID = re.compile(r"[CG][A-Z0-9]{2,30}")
_MENTION = re.compile(r"<#([CG][A-Z0-9]{2,30})(?:\|[^>]*)?>")
HERE = "here"


class ChannelWordError(QueryError):
    """A word that names no channel kpibot can use; the message says what to write."""


def channel_of(word: str, here: str | None) -> str:
    """The channel id `word` names; `here` is the channel typed in (None outside Slack).

    A plain `#name` is refused with a way out: Slack sends names when a channel is not
    escaped, and finding a name would mean listing every channel in the workspace.
    """
    text = word.strip()
    if text.lower() == HERE:
        if not here:
            raise ChannelWordError(messages.ACCESS_HERE_OUTSIDE_SLACK)
        return here
    mention = _MENTION.fullmatch(text)
    if mention:
        return mention.group(1)
    bare = text.removeprefix("#")
    if _ID.fullmatch(bare):
        return bare
    if text.startswith("#"):
        raise ChannelWordError(messages.access_channel_name(text))
    raise ChannelWordError(messages.access_bad_channel(text))
