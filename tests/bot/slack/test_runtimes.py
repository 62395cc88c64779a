"""Which runtimes run the digest scheduler: `kpibot run` does, `serve`'s workers never."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import slack_bolt.adapter.socket_mode as socket_mode

from bot.composition import build
from bot.config import Settings
from bot.slack import runtimes
from storage.database import make_engine
from storage.schema import upgrade


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    url = f"sqlite:///{tmp_path / 'kpibot.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    previous = signal.getsignal(signal.SIGTERM)
    yield Settings(
        database_url=url,
        slack_bot_token="xoxb-t",
        slack_app_token="xapp-t",
        slack_signing_secret="s3cret",
    )
    signal.signal(signal.SIGTERM, previous)


class Recorder:
    events: ClassVar[list[str]] = []

    def __init__(self, *args: Any, **options: Any) -> None:
        if options.get("alerts") is not None:
            Recorder.events.append(f"{type(self).__name__}(alerts)")

    def start(self) -> None:
        Recorder.events.append(f"{type(self).__name__}.start")

    def shutdown(self) -> None:
        Recorder.events.append(f"{type(self).__name__}.shutdown")


class Scheduler(Recorder):
    pass


class Socket(Recorder):
    def start(self) -> None:
        super().start()
        raise KeyboardInterrupt  # Ctrl-C while connected


def test_socket_mode_runs_the_scheduler_beside_it_and_stops_it(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    Recorder.events = []
    monkeypatch.setattr(runtimes, "DigestScheduler", Scheduler)
    monkeypatch.setattr(socket_mode, "SocketModeHandler", Socket)
    with pytest.raises(KeyboardInterrupt):
        runtimes.run_socket_mode(settings)
    assert Recorder.events == [
        "Scheduler(alerts)",
        "Scheduler.start",
        "Socket.start",
        "Scheduler.shutdown",
    ]


def test_the_web_app_starts_no_scheduler(settings: Settings) -> None:
    from bot.slack.web import KpibotWsgi

    components = build(settings, auto_upgrade=False)
    try:
        KpibotWsgi(components)
        assert not [t for t in threading.enumerate() if "APScheduler" in t.name]
    finally:
        components.dispose()
