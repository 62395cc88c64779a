"""The WSGI app in-process: /healthz answers for the database."""

from __future__ import annotations

from pathlib import Path

from bot.composition import build
from bot.config import Settings
from bot.slack.web import KpibotWsgi


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    settings = Settings.from_mapping(
        {
            "DATABASE_URL": f"sqlite:///{db}",
            "SLACK_BOT_TOKEN": "xoxb-health",
            "SLACK_SIGNING_SECRET": "s",
        }
    )
    components = build(settings)
    wsgi = KpibotWsgi(components)
    components.engine.dispose()
    db.write_bytes(b"this is not a database" * 100)
    statuses: list[str] = []
    body = wsgi(
        {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"},
        lambda status, headers: statuses.append(status),  # type: ignore[arg-type,return-value]
    )
    assert statuses[0].startswith("503")
    assert b"database" in b"".join(body)
