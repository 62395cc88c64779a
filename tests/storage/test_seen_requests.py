"""The seen-request record on SQLite and PostgreSQL: once per key for every thread and process,
expired records forgotten a bounded batch at a time."""

from __future__ import annotations

import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, select

from storage.database import make_engine
from storage.models import SeenRequest
from storage.schema import upgrade
from storage.seen_requests import SWEEP_ROWS, count_seen, first_sighting

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
LATER = NOW + timedelta(minutes=6)


def test_a_key_is_a_first_sighting_once(engine: Engine) -> None:
    assert first_sighting(engine, "a" * 64, expires_at=LATER, now=NOW)
    assert not first_sighting(engine, "a" * 64, expires_at=LATER, now=NOW)
    assert not first_sighting(engine, "a" * 64, expires_at=LATER, now=LATER - timedelta(seconds=1))
    assert first_sighting(engine, "b" * 64, expires_at=LATER, now=NOW)
    assert count_seen(engine) == 2


def test_a_record_past_its_expiry_counts_as_absent(engine: Engine) -> None:
    assert first_sighting(engine, "k", expires_at=LATER, now=NOW)
    assert first_sighting(engine, "k", expires_at=LATER + timedelta(minutes=6), now=LATER)
    # Its new expiry holds: seen again before it, it is a replay.
    assert not first_sighting(engine, "k", expires_at=LATER, now=LATER + timedelta(minutes=1))


def test_expired_records_are_deleted_a_bounded_batch_per_sighting(engine: Engine) -> None:
    expired = [
        {"key": f"old-{i:03d}", "expires_at": NOW - timedelta(seconds=i + 1)}
        for i in range(2 * SWEEP_ROWS + 10)
    ]
    alive = [{"key": f"new-{i}", "expires_at": LATER} for i in range(5)]
    with engine.begin() as connection:
        connection.execute(insert(SeenRequest), expired + alive)

    assert first_sighting(engine, "fresh-1", expires_at=LATER, now=NOW)
    assert count_seen(engine) == len(expired) - SWEEP_ROWS + len(alive) + 1
    first_sighting(engine, "fresh-2", expires_at=LATER, now=NOW)
    first_sighting(engine, "fresh-3", expires_at=LATER, now=NOW)
    with engine.connect() as connection:
        kept = set(connection.scalars(select(SeenRequest.key)))
    assert kept == {row["key"] for row in alive} | {"fresh-1", "fresh-2", "fresh-3"}


def test_timestamps_in_other_zones_compare_as_instants(engine: Engine) -> None:
    zone = ZoneInfo("America/Los_Angeles")
    assert first_sighting(engine, "z", expires_at=LATER.astimezone(zone), now=NOW.astimezone(zone))
    assert not first_sighting(engine, "z", expires_at=LATER, now=LATER - timedelta(seconds=1))
    assert first_sighting(engine, "z", expires_at=LATER + timedelta(hours=1), now=LATER)


@pytest.fixture
def engines(database_url: str, engine: Engine) -> Iterator[list[Engine]]:
    """Two engines on one database, as two processes would have them."""
    twins = [make_engine(database_url) for _ in range(2)]
    yield twins
    for twin in twins:
        twin.dispose()


def _race(engines: list[Engine], key: str, threads_per_engine: int) -> list[bool]:
    """Every thread of every engine claims `key` at the same moment; who landed."""
    start = threading.Barrier(threads_per_engine * len(engines))
    landed: list[bool] = []
    errors: list[BaseException] = []

    def claim(on: Engine) -> None:
        try:
            start.wait()
            landed.append(first_sighting(on, key, expires_at=LATER, now=NOW))
        except BaseException as exc:
            errors.append(exc)

    threads = [
        threading.Thread(target=claim, args=(e,))
        for e in engines
        for _ in range(threads_per_engine)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    return landed


def test_threads_of_two_engines_claiming_one_key_at_once_land_once(
    engines: list[Engine],
) -> None:
    for round_ in range(5):
        landed = _race(engines, f"race-{round_}", threads_per_engine=8)
        assert sorted(landed) == [False] * 15 + [True]


KEYS = [f"proc-{i:03d}" for i in range(60)]


def _claim_every_key(database_url: str, start: threading.Barrier) -> list[str]:
    """In a child process: claim every key from its own engine; the keys whose claim landed."""
    engine = make_engine(database_url)
    try:
        start.wait(timeout=60)
        return [k for k in KEYS if first_sighting(engine, k, expires_at=LATER, now=NOW)]
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_processes_claiming_the_same_keys_each_land_once(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    engine.dispose()
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager:
        start = manager.Barrier(2)
        with context.Pool(2) as pool:
            results = [pool.apply_async(_claim_every_key, (postgres_url, start)) for _ in range(2)]
            won = [r.get(timeout=120) for r in results]
    assert sorted(won[0] + won[1]) == KEYS
    assert set(won[0]).isdisjoint(won[1])
