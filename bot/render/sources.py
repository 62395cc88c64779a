"""How sources are shown: `kpibot source list` (plain text, JSON) and `/kpi sources` (mrkdwn)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot import messages
from bot.render.blocks import message_of, packed_sections, section_block
from bot.render.mrkdwn import escape, escaped
from storage.sources import SourceRecord


def status(record: SourceRecord) -> str:
    """The source's state in plain words."""
    if record.failing_since is not None:
        why = (record.last_error or "").splitlines()[0] if record.last_error else "unknown error"
        token = "needs a new token: " if record.needs_new_token else ""
        return f"failing since {_when(record.failing_since)}: {token}{why}"
    if record.last_success_at is None:
        return "never synced"
    return "ok"


def _facts(record: SourceRecord) -> tuple[str, str, str]:
    """(last sync, data through, rows) as shown."""
    last = _when(record.last_success_at) if record.last_success_at else "never"
    through = record.data_through.isoformat() if record.data_through else "–"
    rows = f"{record.last_rows:,}" if record.last_rows is not None else "–"
    return last, through, rows


def source_line(record: SourceRecord) -> str:
    config = record.config
    last, through, rows = _facts(record)
    return (
        f"{config.name} ({config.kind}, {config.account or config.options.get('url', '')}): "
        f"last sync {last}, data through {through}, {rows} rows — {status(record)}"
    )


def source_lines(records: list[SourceRecord]) -> str:
    if not records:
        return messages.SOURCES_NONE
    return "\n".join(source_line(r) for r in records)


TITLE = "*Data sources*"


def sources_message(records: list[SourceRecord]) -> dict[str, Any]:
    """`/kpi sources`: one line per source, every text from the database escaped, packed into
    as few sections as Slack's limits allow (a line is never split)."""
    if not records:
        # Our sentence quotes `<name>` in code style: escaped like every other note we send.
        note = escape(messages.SOURCES_NONE, code=True)
        return message_of(note, [section_block(note)])
    lines = [_source_mrkdwn(record) for record in records]
    return message_of("\n".join([TITLE, *lines]), packed_sections(TITLE, lines, "\n"))


def _source_mrkdwn(record: SourceRecord) -> str:
    config = record.config
    last, through, rows = _facts(record)
    icon = ":red_circle:" if record.failing_since else ":large_green_circle:"
    if record.last_success_at is None and record.failing_since is None:
        icon = ":white_circle:"
    return (
        f"{icon} *{escaped(config.name, 80)}* ({config.kind}) · last sync {last} · "
        f"data through {through} · {rows} rows · {escaped(status(record), 400)}"
    )


def sources_json(records: list[SourceRecord]) -> dict[str, Any]:
    return {
        "sources": [
            {
                "name": r.config.name,
                "kind": str(r.config.kind),
                "account": r.config.account,
                "options": r.config.options,
                "secret_envs": r.config.secret_envs,
                "last_success_at": _iso(r.last_success_at),
                "data_through": r.data_through.isoformat() if r.data_through else None,
                "rows": r.last_rows,
                "status": status(r),
                "error": r.last_error,
                "failing_since": _iso(r.failing_since),
                "needs_new_token": r.needs_new_token,
            }
            for r in records
        ]
    }


def _when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None
