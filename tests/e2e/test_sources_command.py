"""`/kpi sources` end to end: a signed command into a real `kpibot serve`, the sources and
their runs recorded in its database as a sync records them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine

from bot.sources.model import Kind, SourceConfig
from storage import sources as store
from storage.database import make_engine
from tests.e2e.conftest import ServedApp, message_text
from tests.e2e.test_access_command import person, say

SYNCED = datetime(2026, 3, 10, 6, 0, tzinfo=UTC)
FAILED = datetime(2026, 3, 10, 7, 30, tzinfo=UTC)
NASTY = "*x* <!channel>"


@pytest.fixture
def engine(app: ServedApp) -> Iterator[Engine]:
    """The served database, emptied of sources for each test."""
    engine = make_engine(app.database_url)
    for record in store.list_sources(engine):
        store.remove_source(engine, record.config.name)
    yield engine
    engine.dispose()


def synced(engine: Engine, config: SourceConfig, rows: int, through: date) -> None:
    source_id = store.add_source(engine, config)
    run = store.start_run(engine, source_id, date(2026, 3, 3), through, SYNCED)
    store.finish_ok(engine, run, source_id, rows, through, SYNCED)


def failed(engine: Engine, config: SourceConfig, error: str, *, needs_new_token: bool) -> None:
    source_id = store.add_source(engine, config)
    run = store.start_run(engine, source_id, date(2026, 3, 3), date(2026, 3, 10), FAILED)
    store.finish_failed(engine, run, source_id, error, needs_new_token, FAILED)


def test_each_source_shows_its_last_sync_data_through_rows_and_error(
    app: ServedApp, engine: Engine
) -> None:
    warehouse = SourceConfig("warehouse", Kind.CSV_URL, "", {"url": "https://x.example/d.csv"})
    synced(engine, warehouse, 1234, date(2026, 3, 9))
    failed(
        engine,
        SourceConfig(NASTY, Kind.META, "act_1"),
        "Meta said: Error validating access token\n(code 190)",
        needs_new_token=True,
    )
    store.add_source(engine, SourceConfig("brand", Kind.GOOGLE_ADS, "1234567890"))

    text = message_text(say(app, "sources", user=person("member")))

    assert "last sync 2026-03-10 06:00 UTC" in text
    assert "data through 2026-03-09" in text
    assert "1,234 rows" in text
    assert "failing since 2026-03-10 07:30 UTC: needs a new token: " in text
    assert "Meta said: Error validating access token" in text
    assert "code 190" not in text  # the first line of the error, in plain words
    assert "*brand* (google-ads) · last sync never" in text and "never synced" in text
    # The name as typed, inert: no bold, no broadcast.
    assert "∗x∗ &lt;!channel&gt;" in text
    assert "<!channel>" not in text and "*x*" not in text
    assert "https://x.example" not in text  # where a source reads from is for operators


def test_no_sources_says_how_to_add_one(app: ServedApp, engine: Engine) -> None:
    text = message_text(say(app, " Sources ", user=person("member")))
    assert "No data sources yet" in text and "kpibot source add" in text


def test_many_failing_sources_fit_one_valid_message(app: ServedApp, engine: Engine) -> None:
    """Each line is whole and every section within Slack's 3,000 characters (say() checks)."""
    for n in range(12):
        config = SourceConfig(f"source-{n:02d}-" + "n" * 50, Kind.CSV_URL, "")
        failed(engine, config, f"error {n:02d} " + "x" * 600, needs_new_token=False)
    message = say(app, "sources", user=person("member"))
    sections = [block["text"]["text"] for block in message["blocks"]]
    assert len(sections) > 1
    assert all(len(text) <= 3000 for text in sections)
    assert "".join(sections).count(":red_circle:") == 12


def test_a_limited_channel_sees_only_the_sources_of_what_it_may_see(
    app: ServedApp, engine: Engine
) -> None:
    from bot.access.model import parse_limit
    from storage import access
    from storage.database import session_factory, session_scope

    synced(engine, SourceConfig("meta-dk", Kind.META, "act_111"), 10, date(2026, 3, 9))
    synced(engine, SourceConfig("meta-se", Kind.META, "act_222"), 20, date(2026, 3, 9))
    synced(engine, SourceConfig("brand", Kind.GOOGLE_ADS, "1234567890"), 30, date(2026, 3, 9))
    warehouse = SourceConfig("warehouse", Kind.CSV_URL, "", {"url": "https://x.example/d.csv"})
    synced(engine, warehouse, 40, date(2026, 3, 9))
    with session_scope(session_factory(engine)) as session:
        limit = parse_limit(["platform", "meta_ads", "account", "act_111"])
        access.set_limit(session, "CLIMITED1", limit, by="U0ADMIN", now=SYNCED)
    try:
        limited = message_text(say(app, "sources", user=person("member"), channel="CLIMITED1"))
        assert "meta-dk" in limited
        assert not {"meta-se", "brand", "warehouse"} & set(limited.replace("*", " ").split())
        everyone = message_text(say(app, "sources", user=person("member")))
        assert all(name in everyone for name in ("meta-dk", "meta-se", "brand", "warehouse"))
    finally:
        with session_scope(session_factory(engine)) as session:
            access.clear_limit(session, "CLIMITED1")
