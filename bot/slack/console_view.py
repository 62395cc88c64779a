"""Block Kit drawn in a terminal, with numbered buttons the console can press."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bot.render.mrkdwn import unescape

# Slack's rules: bold and italic only at word edges (so `google_ads` stays as it is), nothing
# inside `code`; data text arrives escaped (bot/render/mrkdwn.py) and is shown as it was.
_EDGE_BEFORE, _EDGE_AFTER = r"(?<![A-Za-z0-9])", r"(?![A-Za-z0-9])"
_STYLED = re.compile(
    rf"`([^`\n]+)`|{_EDGE_BEFORE}\*([^*\n]+)\*{_EDGE_AFTER}|{_EDGE_BEFORE}_([^_\n]+)_{_EDGE_AFTER}"
    r"|(:large_green_circle:)|(:red_circle:)|<@(\w+)>"
)


@dataclass(frozen=True, slots=True)
class Button:
    number: int
    action_id: str
    value: str
    label: str
    block_id: str


def _mrkdwn(text: str) -> Text:
    out = Text()
    last = 0
    for match in _STYLED.finditer(text):
        out.append(unescape(text[last : match.start()]))
        code, bold, italic, good, bad, user = match.groups()
        if code:
            out.append(f"`{unescape(code)}`", style="cyan")
        elif bold:
            out.append(unescape(bold), style="bold")
        elif italic:
            out.append(unescape(italic), style="italic dim")
        elif good:
            out.append("●", style="green")
        elif bad:
            out.append("●", style="red")
        else:
            out.append(f"@{user}", style="blue")
        last = match.end()
    out.append(unescape(text[last:]))
    return out


def _text(obj: dict[str, Any] | None) -> Text:
    if not obj:
        return Text()
    if obj.get("type") == "mrkdwn":
        return _mrkdwn(str(obj.get("text", "")))
    return Text(str(obj.get("text", "")))


def render_message(
    message: dict[str, Any], first_button: int = 1
) -> tuple[RenderableType, list[Button]]:
    """A rich renderable for a Slack message and the buttons on it, numbered."""
    parts: list[RenderableType] = []
    buttons: list[Button] = []
    blocks = message.get("blocks") or []
    if not blocks:
        parts.append(_mrkdwn(str(message.get("text", ""))))
    for block in blocks:
        kind = block.get("type")
        if kind == "header":
            parts.append(Text(str(block["text"].get("text", "")), style="bold underline"))
        elif kind == "section":
            if block.get("text"):
                parts.append(_text(block["text"]))
            fields = block.get("fields") or []
            if fields:
                grid = Table.grid(padding=(0, 3))
                grid.add_column()
                grid.add_column()
                for i in range(0, len(fields), 2):
                    pair = [_text(f) for f in fields[i : i + 2]]
                    grid.add_row(*pair)
                parts.append(grid)
        elif kind == "context":
            line = Text(style="dim")
            for element in block.get("elements", []):
                line.append_text(_text(element))
                line.append("  ")
            parts.append(line)
        elif kind == "divider":
            parts.append(Text("─" * 40, style="dim"))
        elif kind == "actions":
            line = Text()
            for element in block.get("elements", []):
                number = first_button + len(buttons)
                label = str(element.get("text", {}).get("text", ""))
                buttons.append(
                    Button(
                        number,
                        str(element.get("action_id", "")),
                        str(element.get("value", "")),
                        label,
                        str(block.get("block_id", "")),
                    )
                )
                line.append(f"[{number}] {label}", style="reverse")
                line.append("  ")
            parts.append(line)
    audience = message.get("response_type", "ephemeral")
    title = "visible to everyone" if audience == "in_channel" else "only visible to you"
    return Panel(Group(*parts), title=f"kpibot · {title}", title_align="left"), buttons
