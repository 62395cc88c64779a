"""Bulk loading of daily metrics through a staging table, inside one transaction.

Every SQL text here is built only from the constant column names below, never from data,
hence the S608 exemptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update

from storage.models import MEASURE_COLUMNS, Campaign

_MEASURES = MEASURE_COLUMNS
# The order of bot.importing.rows.StagedRow.
_STAGED_COLUMNS = ("line", "ref", "day", "grain", *MEASURE_COLUMNS)


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
class MergeResult:
    campaign_days: int
    days: int
    new_campaigns: int


class MetricsLoad:
    """Stages rows in a temporary table, then replaces campaign × day rows in one go."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._postgres = connection.dialect.name == "postgresql"
        if not self._postgres:
            # The covering day index is written all over during a large import: 16 MB of
            # page cache (instead of 2 MB) holds its hot pages; memory stays flat.
            connection.exec_driver_sql("PRAGMA cache_size=-16384")
        day_type = "DATE" if self._postgres else "TEXT"
        big = "BIGINT"
        for table in ("kpibot_staging", "kpibot_refs", "kpibot_agg"):
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE kpibot_staging (line INTEGER, ref INTEGER, "
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

    def duplicates(self, limit: int) -> list[Duplicate]:
        """Rows naming the same campaign, day and grain more than once."""
        result = self._connection.exec_driver_sql(
            "SELECT s.ref, s.day, MIN(s.line) OVER (PARTITION BY s.ref, s.day, s.grain), s.line "
            "FROM kpibot_staging s JOIN ("
            "  SELECT ref, day, grain FROM kpibot_staging GROUP BY ref, day, grain "
            "  HAVING COUNT(*) > 1) d ON d.ref = s.ref AND d.day = s.day AND d.grain = s.grain "
            "ORDER BY s.line"
        )
        found = [Duplicate(r[0], str(r[1]), r[2], r[3]) for r in result if r[2] != r[3]]
        return found[:limit]

    def resolve_campaigns(
        self, records: Sequence[CampaignRecord]
    ) -> tuple[list[CurrencyConflict], int]:
        """Find or create every campaign; report those stored in another currency."""
        connection = self._connection
        existing = {
            (row.platform, row.account, row.external_id): row
            for row in connection.execute(
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
        }
        conflicts: list[CurrencyConflict] = []
        mapping: list[dict[str, int]] = []
        new: list[CampaignRecord] = []
        for record in records:
            row = existing.get((record.platform, record.account, record.external_id))
            if row is None:
                new.append(record)
                continue
            if row.currency != record.currency:
                conflicts.append(CurrencyConflict(record.ref, row.currency))
                continue
            if (row.name, row.channel) != (record.name, record.channel):
                connection.execute(
                    update(Campaign)
                    .where(Campaign.id == row.id)
                    .values(name=record.name, channel=record.channel)
                )
            mapping.append({"ref": record.ref, "campaign_id": row.id})
        for record in new:
            campaign_id = connection.execute(
                insert(Campaign)
                .values(
                    platform=record.platform,
                    account=record.account,
                    external_id=record.external_id,
                    name=record.name,
                    channel=record.channel,
                    currency=record.currency,
                )
                .returning(Campaign.id)
            ).scalar_one()
            mapping.append({"ref": record.ref, "campaign_id": campaign_id})
        if mapping:
            connection.exec_driver_sql(
                "INSERT INTO kpibot_refs (ref, campaign_id) VALUES (%(ref)s, %(campaign_id)s)"
                if self._postgres
                else "INSERT INTO kpibot_refs (ref, campaign_id) VALUES (:ref, :campaign_id)",
                mapping,
            )
        return conflicts, len(new)

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
