"""Bulk loading of daily metrics through staging tables: stage and check in one transaction,
then find campaigns and replace their days in another (see storage.write_lock).

Every SQL text here is built only from the constant column names below, never from data,
hence the S608 exemptions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from storage.models import MAX_DAY_VALUE, MEASURE_COLUMNS, Campaign, DailyMetrics

_MEASURES = MEASURE_COLUMNS
# The order of bot.importing.rows.StagedRow.
_STAGED_COLUMNS = ("line", "ref", "day", "grain", *MEASURE_COLUMNS)
_FIRST_MEASURE = _STAGED_COLUMNS.index(MEASURE_COLUMNS[0])
_TABLES = ("kpibot_staging", "kpibot_refs", "kpibot_agg", "kpibot_keys")


@dataclass(frozen=True, slots=True)
class ReplaceWindow:
    """The days of one platform account an import replaces whole: every stored day of its
    campaigns from `start` to `end` (inclusive) goes, so a day no longer reported disappears."""

    platform: str
    account: str
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"a replace window ends ({self.end}) before it starts ({self.start})")

    def __str__(self) -> str:
        account = self.account or "(no account)"
        return f"{self.platform} account {account} from {self.start} to {self.end}"


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
class Overlap:
    """A campaign-day that two files of one import both hold, where summing them would count
    something twice: `line` of the later file (`ref`) against `first_line` of the earlier one.

    `whole_day`: one of the rows is a whole campaign-day (a native row, empty grain), not a
    share of it; otherwise both files have a row of the same grain (the same ad).
    """

    first_ref: int
    first_line: int
    ref: int
    line: int
    day: str
    whole_day: bool


@dataclass(frozen=True, slots=True)
class Overlaps:
    """The first overlapping campaign-days and how many there are in all."""

    found: list[Overlap]
    count: int


@dataclass(frozen=True, slots=True)
class OutsideDay:
    """A staged row outside the replace window: its campaign, day and first line."""

    ref: int
    day: str
    line: int


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
    """Stages rows in a temporary table, then replaces campaign × day rows in one go.

    Several files can be staged into one load, one part each (start_part): their campaign
    refs do not overlap, so duplicates() and oversized() look at the current part only, and
    overlaps() / oversized_across() at what the parts hold together.
    """

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._postgres = connection.dialect.name == "postgresql"
        # Per measure, the sum of everything staged (and of the current part): when none
        # exceeds MAX_DAY_VALUE, no campaign-day can, and the check in SQL is not needed.
        self._totals = [0] * len(_MEASURES)
        self._part_totals = [0] * len(_MEASURES)
        self._first_ref = 0
        if not self._postgres:
            # The covering day index is written all over during a large import: 16 MB of
            # page cache (instead of 2 MB) holds its hot pages; memory stays flat.
            connection.exec_driver_sql("PRAGMA cache_size=-16384")
        day_type = "DATE" if self._postgres else "TEXT"
        big = "BIGINT"
        for table in _TABLES:
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
        # Which refs of different parts are the same campaign (only filled for overlaps()).
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE kpibot_keys (ref INTEGER PRIMARY KEY, campaign INTEGER)"
        )

    def start_part(self, first_ref: int) -> None:
        """The rows staged from now on are one file's, whose campaign refs start at first_ref
        (every earlier part's are below it)."""
        self._first_ref = first_ref
        self._part_totals = [0] * len(_MEASURES)

    def _in_part(self, alias: str = "") -> str:
        column = f"{alias}.ref" if alias else "ref"
        return f"{column} >= {int(self._first_ref)}" if self._first_ref else "true"

    def stage(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Append parsed rows (in _STAGED_COLUMNS order) to the staging table."""
        if not rows:
            return
        columns = list(zip(*rows, strict=True))[_FIRST_MEASURE:]
        for i, values in enumerate(columns):
            added = sum(filter(None, values))
            self._totals[i] += added
            self._part_totals[i] += added
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
        """Rows of the current part naming the same campaign, day and grain as an earlier row:
        the first `limit` repeated campaign-days (by first line) and how many repeated rows.

        Set-based, so a million-row file costs a sort or two, never a row per row.
        """
        # The repeat reported is the earliest after the first, looked up for the first `limit`
        # groups only. CROSS JOIN keeps SQLite's loops in this order: one scan of the staged
        # rows probing the few groups, not a scan per group.
        result = self._connection.exec_driver_sql(
            "WITH d AS (SELECT ref, day, grain, MIN(line) AS first FROM kpibot_staging "
            f"  WHERE {self._in_part()} GROUP BY ref, day, grain HAVING COUNT(*) > 1 "
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
            f"WHERE {self._in_part()} GROUP BY ref, day, grain HAVING COUNT(*) > 1) d"
        ).scalar_one()
        return Duplicates(found, int(rows))

    def oversized(self, limit: int) -> list[Oversized]:
        """Campaign-days of the current part whose rows add up to more than MAX_DAY_VALUE
        (the first `limit`)."""
        if all(total <= MAX_DAY_VALUE for total in self._part_totals):
            return []
        over = self._over()
        result = self._connection.exec_driver_sql(
            f"SELECT ref, day, MIN(line), {', '.join(over)} FROM kpibot_staging "
            f"WHERE {self._in_part()} "
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

    def _over(self, alias: str = "") -> list[str]:
        # SQLite's SUM of integers fails on overflow, TOTAL is a float: close enough to test a
        # bound that has a 4,096/3,660 margin. PostgreSQL's SUM of bigint is numeric.
        total = "SUM" if self._postgres else "TOTAL"
        prefix = f"{alias}." if alias else ""
        return [f"{total}({prefix}{m}) > {MAX_DAY_VALUE}" for m in _MEASURES]

    def link_campaigns(self, same: Sequence[tuple[int, int]]) -> None:
        """Say which refs (of different parts) are one campaign: (ref, campaign number) pairs,
        for overlaps() and oversized_across(); refs of a campaign met in one part only may be
        left out."""
        self._connection.exec_driver_sql("DELETE FROM kpibot_keys")
        if same:
            self._connection.exec_driver_sql(
                "INSERT INTO kpibot_keys (ref, campaign) VALUES "
                + ("(%(ref)s, %(campaign)s)" if self._postgres else "(:ref, :campaign)"),
                [{"ref": ref, "campaign": campaign} for ref, campaign in same],
            )

    def overlaps(self, limit: int) -> Overlaps:
        """Campaign-days that several parts hold where adding them up would count twice: one
        part has the whole day (the empty grain, a native row), or two parts have the same
        grain (the same ad). The first `limit` (by campaign and day) and how many in all.

        Rows of different grains in different parts are shares of the day, and add up.
        """
        # Within a part, (ref, day, grain) is unique once duplicates() found none, so a grain
        # counted more often than it is distinct is one that two parts share.
        clashing = (
            "SELECT k.campaign, s.day FROM kpibot_staging s JOIN kpibot_keys k ON k.ref = s.ref "
            "GROUP BY k.campaign, s.day HAVING COUNT(DISTINCT s.ref) > 1 "
            "AND (MIN(s.grain) = '' OR COUNT(*) > COUNT(DISTINCT s.grain))"
        )
        count = int(
            self._connection.exec_driver_sql(f"SELECT COUNT(*) FROM ({clashing}) c").scalar_one()
        )
        if not count:
            return Overlaps([], 0)
        result = self._connection.exec_driver_sql(
            f"WITH c AS ({clashing} ORDER BY k.campaign, s.day LIMIT {int(limit)}) "
            "SELECT c.campaign, s.day, s.grain, s.ref, MIN(s.line) FROM kpibot_staging s "
            "JOIN kpibot_keys k ON k.ref = s.ref "
            "JOIN c ON c.campaign = k.campaign AND c.day = s.day "
            "GROUP BY c.campaign, s.day, s.grain, s.ref ORDER BY c.campaign, s.day, s.ref"
        )
        groups: dict[tuple[int, str], list[tuple[str, int, int]]] = {}
        for campaign, day, grain, ref, line in result:
            groups.setdefault((campaign, str(day)), []).append((grain, ref, line))
        return Overlaps([_overlap(day, rows) for (_, day), rows in groups.items()], count)

    def oversized_across(self, limit: int) -> list[Oversized]:
        """Campaign-days whose rows in all parts add up to more than MAX_DAY_VALUE: `ref` and
        `line` are those of the part whose rows pass it."""
        if all(total <= MAX_DAY_VALUE for total in self._totals):
            return []
        over = self._over("s")
        result = self._connection.exec_driver_sql(
            f"SELECT k.campaign, s.day, MAX(s.ref), {', '.join(over)} "
            "FROM kpibot_staging s JOIN kpibot_keys k ON k.ref = s.ref "
            f"GROUP BY k.campaign, s.day HAVING {' OR '.join(over)} "
            f"ORDER BY k.campaign, s.day LIMIT {int(limit)}"
        ).all()
        found = []
        for _, day, ref, *flags in result:
            line = self._connection.execute(
                text("SELECT MIN(line) FROM kpibot_staging WHERE ref = :ref AND day = :day"),
                {"ref": ref, "day": day},
            ).scalar_one()
            measures = tuple(m for m, flag in zip(_MEASURES, flags, strict=True) if flag)
            found.append(Oversized(ref, str(day), int(line), measures))
        return found

    def part_counts(self, end_ref: int) -> tuple[int, int]:
        """(days, campaign-days) the current part holds; its refs end before end_ref."""
        row = self._connection.exec_driver_sql(
            "SELECT COUNT(DISTINCT day), COUNT(*) FROM (SELECT ref, day FROM kpibot_staging "
            f"WHERE {self._in_part()} AND ref < {int(end_ref)} GROUP BY ref, day) p"
        ).one()
        return int(row[0]), int(row[1])

    def outside(self, window: ReplaceWindow, limit: int) -> list[OutsideDay]:
        """Staged campaign-days outside the window's days, the first `limit` by line."""
        start: object = window.start if self._postgres else window.start.isoformat()
        end: object = window.end if self._postgres else window.end.isoformat()
        result = self._connection.execute(
            text(
                "SELECT ref, day, MIN(line) FROM kpibot_staging "
                "WHERE day < :start OR day > :end "
                f"GROUP BY ref, day ORDER BY MIN(line) LIMIT {int(limit)}"
            ),
            {"start": start, "end": end},
        )
        return [OutsideDay(r[0], str(r[1]), int(r[2])) for r in result]

    def clear_window(self, window: ReplaceWindow) -> int:
        """Delete every stored day in the window of the window's account's campaigns (inside
        the write transaction, before merge()); how many campaign-days went."""
        campaigns = select(Campaign.id).where(
            Campaign.platform == window.platform, Campaign.account == window.account
        )
        result = self._connection.execute(
            delete(DailyMetrics).where(
                DailyMetrics.campaign_id.in_(campaigns),
                DailyMetrics.day >= window.start,
                DailyMetrics.day <= window.end,
            )
        )
        return int(result.rowcount)

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
        for table in _TABLES:
            self._connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")


def _overlap(day: str, rows: list[tuple[str, int, int]]) -> Overlap:
    """The clash of one campaign-day from its (grain, ref, first line) rows, ordered by ref."""
    whole = [row for row in rows if row[0] == ""]
    if whole:
        first = whole[0]
        other = next(row for row in rows if row[1] != first[1])
    else:
        refs_by_grain: dict[str, list[tuple[str, int, int]]] = {}
        for row in rows:
            refs_by_grain.setdefault(row[0], []).append(row)
        first, other = next(shared[:2] for shared in refs_by_grain.values() if len(shared) > 1)
    earlier, later = sorted((first, other), key=lambda row: row[1])
    return Overlap(earlier[1], earlier[2], later[1], later[2], day, bool(whole))


def _key(record: CampaignRecord) -> tuple[str, str, str]:
    return (record.platform, record.account, record.external_id)
