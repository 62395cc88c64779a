"""Bulk loading of daily metrics through staging tables: stage and check in one transaction,
then find campaigns and replace their days in another (see storage.write_lock).

Every SQL text here is built only from the constant column names below, never from data,
hence the S608 exemptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import MAX_DAY_VALUE, MEASURE_COLUMNS, Campaign

_MEASURES = MEASURE_COLUMNS
# The order of bot.importing.rows.StagedRow.
_STAGED_COLUMNS = ("line", "ref", "day", "grain", *MEASURE_COLUMNS)
_FIRST_MEASURE = _STAGED_COLUMNS.index(MEASURE_COLUMNS[0])


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """A campaign met in an import, known by its position (ref) in that import."""

    ref: int
    platform: str
    account: str
    external_id: str
    name: str
    channel: str
    currency: str


@dataclass(frozen=True, slots=True)
class CurrencyConflict:
    ref: int
    stored: str


@dataclass(frozen=True, slots=True)
class Duplicate:
    ref: int
    day: str
    first_line: int
    line: int


@dataclass(frozen=True, slots=True)
class Duplicates:
    """The first repeated campaign-days, one each, and the count of repeated rows in all."""

    found: list[Duplicate]
    rows: int


@dataclass(frozen=True, slots=True)
class Oversized:
    """A campaign-day whose rolled-up rows exceed MAX_DAY_VALUE in one or more measures."""

    ref: int
    day: str
    line: int
    measures: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Resolution:
    """Campaigns found or created: those stored in another currency, and the new ones."""

    conflicts: list[CurrencyConflict]
    new_refs: list[int]


@dataclass(frozen=True, slots=True)
class MergeResult:
    campaign_days: int
    days: int
    new_campaigns: int


class MetricsLoad:
    """Stages rows in a temporary table, then replaces campaign × day rows in one go."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._postgres = connection.dialect.name == "postgresql"
        # Per measure, the sum of everything staged: when none exceeds MAX_DAY_VALUE, no
        # campaign-day can, and the check in SQL is not needed.
        self._totals = [0] * len(_MEASURES)
        if not self._postgres:
            # The covering day index is written all over during a large import: 16 MB of
            # page cache (instead of 2 MB) holds its hot pages; memory stays flat.
            connection.exec_driver_sql("PRAGMA cache_size=-16384")
        day_type = "DATE" if self._postgres else "TEXT"
        big = "BIGINT"
        for table in ("kpibot_staging", "kpibot_refs", "kpibot_agg"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE kpibot_staging (line BIGINT, ref INTEGER, "
            f"day {day_type}, grain TEXT, " + ", ".join(f"{m} {big}" for m in _MEASURES) + ")"
        )
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE kpibot_refs (ref INTEGER PRIMARY KEY, campaign_id INTEGER)"
        )
        connection.exec_driver_sql(
            f"CREATE TEMPORARY TABLE kpibot_agg (campaign_id INTEGER, day {day_type}, "
            + ", ".join(f"{m} {big}" for m in _MEASURES)
            + ", PRIMARY KEY (campaign_id, day))"
        )

    def stage(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Append parsed rows (in _STAGED_COLUMNS order) to the staging table."""
        if not rows:
            return
        columns = list(zip(*rows, strict=True))[_FIRST_MEASURE:]
        for i, values in enumerate(columns):
            self._totals[i] += sum(filter(None, values))
        if self._postgres:
            raw = self._connection.connection.driver_connection
            assert raw is not None
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    f"COPY kpibot_staging ({', '.join(_STAGED_COLUMNS)}) FROM STDIN"
                ) as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in _STAGED_COLUMNS)
            self._connection.exec_driver_sql(
                f"INSERT INTO kpibot_staging VALUES ({marks})", list(rows)
            )

    def duplicates(self, limit: int) -> Duplicates:
        """Rows naming the same campaign, day and grain as an earlier row: the first `limit`
        repeated campaign-days (by first line) and how many repeated rows in all.

        Set-based, so a million-row file costs a sort or two, never a row per row.
        """
        # The repeat reported is the earliest after the first, looked up for the first `limit`
        # groups only. CROSS JOIN keeps SQLite's loops in this order: one scan of the staged
        # rows probing the few groups, not a scan per group.
        result = self._connection.exec_driver_sql(
            "WITH d AS (SELECT ref, day, grain, MIN(line) AS first FROM kpibot_staging "
            "  GROUP BY ref, day, grain HAVING COUNT(*) > 1 "
            f"  ORDER BY MIN(line) LIMIT {int(limit)}) "
            "SELECT d.ref, d.day, d.first, MIN(s.line) FROM kpibot_staging s CROSS JOIN d "
            "WHERE s.ref = d.ref AND s.day = d.day AND s.grain = d.grain AND s.line > d.first "
            "GROUP BY d.ref, d.day, d.grain, d.first ORDER BY d.first"
        )
        found = [Duplicate(r[0], str(r[1]), r[2], r[3]) for r in result]
        if not found:
            return Duplicates([], 0)
        rows = self._connection.exec_driver_sql(
            "SELECT SUM(n) - COUNT(*) FROM (SELECT COUNT(*) AS n FROM kpibot_staging "
            "GROUP BY ref, day, grain HAVING COUNT(*) > 1) d"
        ).scalar_one()
        return Duplicates(found, int(rows))

    def oversized(self, limit: int) -> list[Oversized]:
        """Campaign-days whose staged rows add up to more than MAX_DAY_VALUE (first `limit`)."""
        if all(total <= MAX_DAY_VALUE for total in self._totals):
            return []
        # SQLite's SUM of integers fails on overflow, TOTAL is a float: close enough to test a
        # bound that has a 4,096/3,660 margin. PostgreSQL's SUM of bigint is numeric.
        total = "SUM" if self._postgres else "TOTAL"
        over = [f"{total}({m}) > {MAX_DAY_VALUE}" for m in _MEASURES]
        result = self._connection.exec_driver_sql(
            f"SELECT ref, day, MIN(line), {', '.join(over)} FROM kpibot_staging "
            f"GROUP BY ref, day HAVING {' OR '.join(over)} ORDER BY MIN(line) LIMIT {int(limit)}"
        )
        return [
            Oversized(
                r[0],
                str(r[1]),
                r[2],
                tuple(m for m, flag in zip(_MEASURES, r[3:], strict=True) if flag),
            )
            for r in result
        ]

    def resolve_campaigns(self, records: Sequence[CampaignRecord]) -> Resolution:
        """Find or create every campaign; report those stored in another currency.

        New campaigns are inserted in key order with ON CONFLICT DO NOTHING, so two imports
        creating the same campaigns at once neither deadlock nor fail: the later one takes the
        row the first created.
        """
        stored = self._stored_campaigns()
        conflicts: list[CurrencyConflict] = []
        mapping: list[dict[str, int]] = []
        new_refs: list[int] = []
        renames: list[tuple[int, CampaignRecord]] = []
        missing: list[CampaignRecord] = []
        for record in records:
            row = stored.get(_key(record))
            if row is None:
                missing.append(record)
            elif row.currency != record.currency:
                conflicts.append(CurrencyConflict(record.ref, row.currency))
            else:
                if (row.name, row.channel) != (record.name, record.channel):
                    renames.append((row.id, record))
                mapping.append({"ref": record.ref, "campaign_id": row.id})
        for campaign_id, record in sorted(renames, key=lambda item: item[0]):
            self._connection.execute(
                update(Campaign)
                .where(Campaign.id == campaign_id)
                .values(name=record.name, channel=record.channel)
            )
        for record in sorted(missing, key=_key):
            campaign_id, currency, created = self._create(record)
            if currency != record.currency:
                conflicts.append(CurrencyConflict(record.ref, currency))
                continue
            if created:
                new_refs.append(record.ref)
            mapping.append({"ref": record.ref, "campaign_id": campaign_id})
        if mapping:
            self._connection.exec_driver_sql(
                "INSERT INTO kpibot_refs (ref, campaign_id) VALUES (%(ref)s, %(campaign_id)s)"
                if self._postgres
                else "INSERT INTO kpibot_refs (ref, campaign_id) VALUES (:ref, :campaign_id)",
                mapping,
            )
        return Resolution(conflicts, sorted(new_refs))

    def _stored_campaigns(self) -> dict[tuple[str, str, str], Any]:
        rows = self._connection.execute(
            select(
                Campaign.id,
                Campaign.platform,
                Campaign.account,
                Campaign.external_id,
                Campaign.name,
                Campaign.channel,
                Campaign.currency,
            )
        )
        return {(row.platform, row.account, row.external_id): row for row in rows}

    def _create(self, record: CampaignRecord) -> tuple[int, str, bool]:
        """Insert a campaign unless another import just did: its id, its stored currency and
        whether this import created it."""
        dialect_insert = postgresql.insert if self._postgres else sqlite.insert
        created = self._connection.execute(
            dialect_insert(Campaign)
            .values(
                platform=record.platform,
                account=record.account,
                external_id=record.external_id,
                name=record.name,
                channel=record.channel,
                currency=record.currency,
            )
            .on_conflict_do_nothing(index_elements=["platform", "account", "external_id"])
            .returning(Campaign.id)
        ).scalar_one_or_none()
        if created is not None:
            return created, record.currency, True
        winner = self._connection.execute(
            select(Campaign.id, Campaign.currency).where(
                Campaign.platform == record.platform,
                Campaign.account == record.account,
                Campaign.external_id == record.external_id,
            )
        ).one()
        return winner.id, winner.currency, False

    def merge(self, new_campaigns: int) -> MergeResult:
        """Roll staged rows up to campaign × day and replace what was stored for them."""
        connection = self._connection
        sums = ", ".join(f"SUM(s.{m})" for m in _MEASURES)
        measures = ", ".join(_MEASURES)
        connection.exec_driver_sql(
            f"INSERT INTO kpibot_agg (campaign_id, day, {measures}) "
            f"SELECT r.campaign_id, s.day, {sums} FROM kpibot_staging s "
            "JOIN kpibot_refs r ON r.ref = s.ref GROUP BY r.campaign_id, s.day"
        )
        # Replace what is stored for these campaign-days: one upsert, driven by the new rows
        # (a DELETE … WHERE EXISTS would scan every stored row on SQLite).
        updates = ", ".join(f"{m} = excluded.{m}" for m in _MEASURES)
        connection.exec_driver_sql(
            f"INSERT INTO daily_metrics (campaign_id, day, {measures}) "
            f"SELECT campaign_id, day, {measures} FROM kpibot_agg "
            # In the covering index's order, so its pages fill sequentially.
            "WHERE true ORDER BY day, campaign_id "
            f"ON CONFLICT (campaign_id, day) DO UPDATE SET {updates}"
        )
        counts = connection.exec_driver_sql(
            "SELECT COUNT(*), COUNT(DISTINCT day) FROM kpibot_agg"
        ).one()
        return MergeResult(campaign_days=counts[0], days=counts[1], new_campaigns=new_campaigns)

    def close(self) -> None:
        for table in ("kpibot_staging", "kpibot_refs", "kpibot_agg"):
            self._connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


def _key(record: CampaignRecord) -> tuple[str, str, str]:
    return (record.platform, record.account, record.external_id)
