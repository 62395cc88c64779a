"""Configured data sources and their sync runs: what `kpibot source …` and `/kpi sources` read
and the sync writes. Secrets are never here: only the names of the variables that hold them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, update
from sqlalchemy.orm import Session

from bot.sources.model import Kind, SourceConfig, visible_to
from storage.access import visibility_of
from storage.deliveries import utc
from storage.models import Campaign, DailyMetrics, Source, SyncRun
from storage.write_lock import begin_write


class SourceExists(Exception):
    """A source of that name is configured already."""


class UnknownSource(Exception):
    """No source of that name is configured."""


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """A configured source and how its syncs are going."""

    id: int
    config: SourceConfig
    created_at: datetime
    last_success_at: datetime | None
    data_through: date | None
    last_rows: int | None
    last_error: str | None
    failing_since: datetime | None
    needs_new_token: bool
    failing_noticed: bool


def add_source(engine: Engine, config: SourceConfig, *, now: datetime | None = None) -> int:
    """Store a new source; SourceExists when the name is taken."""
    with _writing(engine) as connection:
        taken = connection.execute(select(Source.id).where(Source.name == config.name)).first()
        if taken is not None:
            raise SourceExists(config.name)
        result = connection.execute(
            insert(Source).values(
                name=config.name,
                kind=str(config.kind),
                account=config.account,
                options=json.dumps(config.options, sort_keys=True),
                secret_envs=json.dumps(config.secret_envs, sort_keys=True),
                created_at=now or datetime.now(UTC),
                needs_new_token=False,
                failing_noticed=False,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def remove_source(engine: Engine, name: str) -> None:
    """Forget a source and its runs (the data it synced stays); UnknownSource if none."""
    with _writing(engine) as connection:
        found = connection.execute(select(Source.id).where(Source.name == name)).first()
        if found is None:
            raise UnknownSource(name)
        connection.execute(delete(SyncRun).where(SyncRun.source_id == found[0]))
        connection.execute(delete(Source).where(Source.id == found[0]))


def list_sources(engine: Engine) -> list[SourceRecord]:
    with engine.connect() as connection:
        rows = connection.execute(select(Source).order_by(Source.name)).all()
    return [_record(row) for row in rows]


def visible_sources(engine: Engine, channel: str | None) -> list[SourceRecord]:
    """The sources the channel may know of (every source for an unlimited one)."""
    records = list_sources(engine)
    with Session(engine) as session:
        sees = visibility_of(session, channel)
    return [r for r in records if visible_to(r.config, sees)]


@dataclass(frozen=True, slots=True)
class CoveredCampaign:
    """A campaign of a platform account with stored days in a window, and which measures
    those days report (for the zero days of a sync that brought no row of it)."""

    external_id: str
    name: str
    impressions: bool
    clicks: bool
    leads: bool
    conversions: bool
    revenue: bool


def covered_campaigns(
    engine: Engine, platform: str, account: str, start: date, end: date
) -> list[CoveredCampaign]:
    """The account's campaigns with stored days in [start, end]: what a sync replacing that
    window would otherwise leave without any day."""
    statement = (
        select(
            Campaign.external_id,
            Campaign.name,
            func.count(DailyMetrics.impressions),
            func.count(DailyMetrics.clicks),
            func.count(DailyMetrics.leads_micros),
            func.count(DailyMetrics.conversions_micros),
            func.count(DailyMetrics.revenue_micros),
        )
        .join(DailyMetrics, DailyMetrics.campaign_id == Campaign.id)
        .where(
            Campaign.platform == platform,
            Campaign.account == account,
            DailyMetrics.day >= start,
            DailyMetrics.day <= end,
        )
        .group_by(Campaign.id, Campaign.external_id, Campaign.name)
        .order_by(Campaign.external_id)
    )
    with engine.connect() as connection:
        rows = connection.execute(statement).all()
    return [CoveredCampaign(r[0], r[1], *(bool(n) for n in r[2:])) for r in rows]


def get_source(engine: Engine, name: str) -> SourceRecord:
    with engine.connect() as connection:
        row = connection.execute(select(Source).where(Source.name == name)).first()
    if row is None:
        raise UnknownSource(name)
    return _record(row)


def start_run(engine: Engine, source_id: int, start: date, end: date, started: datetime) -> int:
    """Record a sync run as running; its id."""
    with _writing(engine) as connection:
        result = connection.execute(
            insert(SyncRun).values(
                source_id=source_id,
                started_at=started,
                start_day=start,
                end_day=end,
                rows=0,
                outcome="running",
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_ok(
    engine: Engine, run_id: int, source_id: int, rows: int, through: date, finished: datetime
) -> bool:
    """A run that landed: the source is healthy again, its data reaches `through`; whether the
    ops channel had been told it was failing (then it is to be told it recovered)."""
    with _writing(engine) as connection:
        connection.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(finished_at=finished, rows=rows, outcome="ok", error=None)
        )
        current, noticed = connection.execute(
            select(Source.data_through, Source.failing_noticed).where(Source.id == source_id)
        ).one()
        connection.execute(
            update(Source)
            .where(Source.id == source_id)
            .values(
                last_success_at=finished,
                data_through=through if current is None else max(current, through),
                last_rows=rows,
                last_error=None,
                failing_since=None,
                needs_new_token=False,
                failing_noticed=False,
            )
        )
        return bool(noticed)


def finish_failed(
    engine: Engine,
    run_id: int,
    source_id: int,
    error: str,
    needs_new_token: bool,
    finished: datetime,
) -> datetime:
    """A run that failed: nothing of it was written; the source is failing since its first
    failure after the last success (returned)."""
    with _writing(engine) as connection:
        connection.execute(
            update(SyncRun)
            .where(SyncRun.id == run_id)
            .values(finished_at=finished, outcome="failed", error=error[:4000])
        )
        since = connection.execute(
            select(Source.failing_since).where(Source.id == source_id)
        ).scalar_one()
        connection.execute(
            update(Source)
            .where(Source.id == source_id)
            .values(
                last_error=error[:4000],
                failing_since=since or finished,
                needs_new_token=needs_new_token,
            )
        )
        return utc(since) if since is not None else finished


def claim_notice(engine: Engine, source_id: int) -> bool:
    """Take the one failing notice of this failure: true for exactly one caller, whichever
    process asks, until the source recovers."""
    with _writing(engine) as connection:
        result = connection.execute(
            update(Source)
            .where(Source.id == source_id, Source.failing_noticed.is_(False))
            .values(failing_noticed=True)
        )
        return result.rowcount == 1


def set_noticed(engine: Engine, source_id: int, noticed: bool) -> None:
    """Whether the ops channel has been told that this source is failing."""
    with _writing(engine) as connection:
        connection.execute(
            update(Source).where(Source.id == source_id).values(failing_noticed=noticed)
        )


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction (on SQLite holding the write lock from the start)."""
    with engine.connect() as connection, begin_write(connection):
        yield connection


def _record(source: Any) -> SourceRecord:
    """A row of `select(Source)` on a connection: its columns by name."""
    return SourceRecord(
        id=source.id,
        config=SourceConfig(
            name=source.name,
            kind=Kind(source.kind),
            account=source.account,
            options=json.loads(source.options),
            secret_envs=json.loads(source.secret_envs),
        ),
        created_at=utc(source.created_at),
        last_success_at=utc(source.last_success_at) if source.last_success_at else None,
        data_through=source.data_through,
        last_rows=source.last_rows,
        last_error=source.last_error,
        failing_since=utc(source.failing_since) if source.failing_since else None,
        needs_new_token=bool(source.needs_new_token),
        failing_noticed=bool(source.failing_noticed),
    )
