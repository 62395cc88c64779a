"""Fixtures for alert tests: the fake Slack, the clock, a real AlertService on `engine`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from bot.alerts.service import AlertService
from tests.bot.alerts.world import Clock, service
from tests.support.fake_slack import FakeSlack


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def alerts(engine: Engine, slack: FakeSlack, clock: Clock) -> AlertService:
    return service(engine, slack, clock)
