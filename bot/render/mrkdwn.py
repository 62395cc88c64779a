"""Escaping for Slack mrkdwn: data and user text can never ping, link or format."""

from __future__ import annotations


def escape(text: str) -> str:
    """Escape the three control characters Slack requires (&, <, >)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str, limit: int) -> str:
    """Text cut to a limit with an ellipsis, for plain_text fields."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escaped(text: str, limit: int) -> str:
    """Escaped mrkdwn cut to a limit without splitting an escape sequence."""
    out = escape(text)
    if len(out) <= limit:
        return out
    cut = out[: limit - 1]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"
