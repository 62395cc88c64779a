"""Escaping for Slack mrkdwn: data and user text can never ping, link or format.

Slack escapes only ``&``, ``<`` and ``>`` (as entities); mrkdwn has no escape for ``*``, ``_``,
``~`` or backticks (a backslash shows up as a backslash). Like jsx-slack's ``<Escape>``, a
marker that could format is swapped for a lookalike that Slack does not parse (``*`` → ``∗``
U+2217, ``_`` → ``ˍ`` U+02CD, ``~`` → ``∼`` U+223C, backtick → ``ˋ`` U+02CB), and a ``>`` that
starts a line gets an invisible soft hyphen so it cannot open a quote. Slack formats only at
word edges, so an ``_`` between two letters or digits stays: ``google_ads`` can be copied
back into a query. Every replacement is one character, so a cut never splits one; `unescape`
undoes it all for the console.
"""

from __future__ import annotations

import re

LOOKALIKES = {"*": "\u2217", "_": "\u02cd", "~": "\u223c", "`": "\u02cb"}
SOFT_HYPHEN = "\u00ad"
ELLIPSIS = "…"

_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_MARKER = re.compile(r"[*_~`]")
_WORD = re.compile(r"[A-Za-z0-9]{2}")
_QUOTE = re.compile(r"(^|\n)(&gt;)")
_UNDO = str.maketrans({v: k for k, v in LOOKALIKES.items()} | {SOFT_HYPHEN: None})


def escape(text: str, *, code: bool = False) -> str:
    """Text from data or users, inert in mrkdwn: it shows as typed, never pings or formats.

    Args:
        text: the raw text (a name, a platform, a note, what the user typed).
        code: keep backticks, for our own sentences that quote the user's words in code style.
    """
    out = _MARKER.sub(lambda m: _marker(m, code), text)
    out = out.translate(_ENTITIES)
    return _QUOTE.sub(lambda m: m.group(1) + SOFT_HYPHEN + m.group(2), out)


def _marker(match: re.Match[str], code: bool) -> str:
    char, text, at = match.group(), match.string, match.start()
    if char == "`" and code:
        return char
    if char == "_" and 0 < at < len(text) - 1 and _WORD.fullmatch(text[at - 1] + text[at + 1]):
        return char  # inside a word (snake_case), where Slack never formats
    return LOOKALIKES[char]


def unescape(mrkdwn: str) -> str:
    """Escaped text back to what it says: entities, lookalikes and soft hyphens undone."""
    return mrkdwn.translate(_UNDO).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def cut(mrkdwn: str, limit: int) -> str:
    """Escaped mrkdwn cut to `limit` characters with an ellipsis, never inside an &amp;-entity."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    if limit < 1:
        return ""
    head = mrkdwn[: limit - 1]
    amp = head.rfind("&")
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head + ELLIPSIS


def escaped(text: str, limit: int, *, code: bool = False) -> str:
    """`escape`, then `cut` to a limit."""
    return cut(escape(text, code=code), limit)


def plain(text: str, limit: int) -> str:
    """Text cut to a limit with an ellipsis, for plain_text fields."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS
