"""`/kpi sources`: the data sources kpibot syncs and how each is doing (anyone may look; a
limited channel sees only the sources of what it may see)."""

from __future__ import annotations

from typing import Any

from bot.render.sources import sources_message
from bot.slack.replies import SlackDeps

WORD = "sources"


def is_sources_command(text: str) -> bool:
    return text.strip().lower() == WORD


def sources_reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    """One line per source: last sync, data through, rows, and the error in plain words."""
    channel = str(command.get("channel_id") or "") or None
    records = deps.sources(channel) if deps.sources is not None else []
    return sources_message(records)
