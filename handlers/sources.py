"""`/kpi sources`: the data sources kpibot syncs and how each is doing (anyone may look)."""

from __future__ import annotations

from typing import Any

from bot import messages
from bot.render.blocks import MAX_BLOCKS, MAX_TEXT, message_of, section_block
from bot.render.mrkdwn import escape
from bot.render.sources import sources_mrkdwn
from bot.slack.replies import SlackDeps

WORD = "sources"


def is_sources_command(text: str) -> bool:
    return text.strip().lower() == WORD


def sources_reply(deps: SlackDeps, command: dict[str, Any]) -> dict[str, Any]:
    """One line per source: last sync, data through, rows, and the error in plain words."""
    records = deps.sources() if deps.sources is not None else []
    # Our sentence quotes `<name>` in code style: escaped like every other note we send.
    text = sources_mrkdwn(records) if records else escape(messages.SOURCES_NONE, code=True)
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
