"""`/kpi sources`: the data sources kpibot syncs and how each is doing (anyone may look; a
limited channel sees only the sources of what it may see)."""

from __future__ import annotations

from typing import Any

from bot.render.blocks import MAX_BLOCKS, MAX_TEXT, message_of, section_block
from bot.render.sources import sources_mrkdwn
from bot.slack.replies import SlackDeps

WORD = "sources"


def is_sources_command(text: str) -> bool:
    return text.strip().lower() == WORD


def sources_reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    """One line per source: last sync, data through, rows, and the error in plain words."""
    channel = str(command.get("channel_id") or "") or None
    records = deps.sources(channel) if deps.sources is not None else []
    text = sources_mrkdwn(records)
    return message_of(text, _sections(text.split("\n")))


def _sections(lines: list[str]) -> list[dict[str, Any]]:
    """The lines packed into as few sections as fit Slack's limits (a line is never split)."""
    sections: list[str] = []
    for line in lines:
        if sections and len(sections[-1]) + 1 + len(line) <= MAX_TEXT:
            sections[-1] += "\n" + line
        else:
            sections.append(line)
    return [section_block(section) for section in sections[:MAX_BLOCKS]]
