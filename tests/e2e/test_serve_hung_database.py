"""`kpibot serve` in front of a PostgreSQL that stops answering (TCP accepted, no reply) and
one that answers slowly: /healthz says 503 within 2 s, answers end in an apology instead of
hanging, and everything recovers when the database answers again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests
from sqlalchemy import make_url

from storage.deadline import GRACE
from tests.conftest import postgres_schema
from tests.e2e.conftest import ServedApp, message_text, seed, start_serve
from tests.support.blockkit import assert_valid_message
from tests.support.fake_slack import FakeSlack
from tests.support.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

STATEMENT_TIMEOUT = 2
CONNECT_TIMEOUT = 2
# The client gives up on a hung statement GRACE after the server would have cancelled it.
DEADLINE = STATEMENT_TIMEOUT + GRACE.total_seconds()
APOLOGY = "Sorry, something went wrong"
QUERY = "summer-sale 2025-08-10..2025-08-12"


@dataclass
class Hung:
    app: ServedApp
    proxy: TcpProxy
    direct_url: str
    log: Path


@pytest.fixture
def hung(tmp_path: Path) -> Iterator[Hung]:
    """kpibot serve whose DATABASE_URL goes through a TcpProxy; seeded directly, not through it."""
    with ExitStack() as stack:
        direct = stack.enter_context(postgres_schema())
        seed(direct, tmp_path)
        url = make_url(direct)
        assert url.host is not None and url.port is not None
        proxy = stack.enter_context(TcpProxy(url.host, url.port))
        through = url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        slack = stack.enter_context(FakeSlack())
        log = tmp_path / "serve.log"
        served = start_serve(
            stack,
            through,
            slack,
            log,
            KPIBOT_DB_STATEMENT_TIMEOUT=str(STATEMENT_TIMEOUT),
            KPIBOT_DB_CONNECT_TIMEOUT=str(CONNECT_TIMEOUT),
        )
        stack.callback(proxy.resume)  # runs first: serve then stops against a live database
        yield Hung(ServedApp(served, slack, through), proxy, direct, log)


def answer(app: ServedApp, response: requests.Response, name: str, timeout: float) -> Any:
    """The message the user sees: in the acknowledgement, or later through response_url."""
    assert response.status_code == 200, response.text
    if response.text:
        message = response.json()
    else:
        (call,) = app.slack.wait_for(f"response/{name}", timeout=timeout)
        message = call.json()
    assert_valid_message(message)
    return message


def timed_health(app: ServedApp) -> tuple[int, float]:
    started = time.monotonic()
    status = requests.get(f"{app.url}healthz", timeout=30).status_code
    return status, time.monotonic() - started


def wait_healthy(app: ServedApp, within: float) -> None:
    deadline = time.monotonic() + within
    while timed_health(app)[0] != 200:
        assert time.monotonic() < deadline, "/healthz did not recover"
        time.sleep(0.2)


def test_a_hung_database_gets_503_and_an_apology_and_both_recover(hung: Hung) -> None:
    app = hung.app
    response, name = app.command(QUERY)
    assert "1,188.00" in message_text(answer(app, response, name, timeout=10))

    hung.proxy.hang()
    status, elapsed = timed_health(app)
    assert status == 503
    assert elapsed < 2.0, f"/healthz took {elapsed:.2f} s"

    started = time.monotonic()
    response, name = app.command(QUERY)
    assert time.monotonic() - started < 3, "the acknowledgement must beat Slack's 3 s"
    message = answer(app, response, name, timeout=DEADLINE + 5)
    waited = time.monotonic() - started
    assert APOLOGY in message_text(message)
    assert "1,188.00" not in message_text(message)
    assert waited < DEADLINE + 3, f"the apology took {waited:.1f} s"

    hung.proxy.resume()
    wait_healthy(app, within=DEADLINE + 5)
    response, name = app.command(QUERY)
    message = answer(app, response, name, timeout=10)
    assert "1,188.00" in message_text(message)
    assert APOLOGY not in message_text(message)
    log = hung.log.read_text()
    assert "database gave no answer" in log
    assert hung.app.database_url not in log


def test_a_statement_slower_than_the_timeout_is_cancelled_and_apologised_for(
    hung: Hung,
) -> None:
    app = hung.app
    conninfo = make_url(hung.direct_url).set(drivername="postgresql")
    # A healthy server, a slow statement: the answer waits for a lock held here.
    with psycopg.connect(conninfo.render_as_string(hide_password=False)) as holder:
        holder.execute("LOCK TABLE campaigns IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response, name = app.command(QUERY)
        message = answer(app, response, name, timeout=STATEMENT_TIMEOUT + 5)
        waited = time.monotonic() - started
        holder.rollback()
    assert APOLOGY in message_text(message)
    # The server cancelled it (QueryCanceled) at the statement timeout, before any deadline.
    assert STATEMENT_TIMEOUT - 0.2 < waited < DEADLINE
    log = hung.log.read_text()
    assert "canceling statement due to statement timeout" in log
    assert "database gave no answer" not in log
    response, name = app.command(QUERY)
    assert "1,188.00" in message_text(answer(app, response, name, timeout=10))
