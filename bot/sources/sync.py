"""Syncing sources: fetch a look-back window, land it through the import as one unit that
replaces the source's days in the window (all or nothing), record the run, tell the ops
channel once when a source has been failing too long and once when it recovers."""

from __future__ import annotations

import logging
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot import messages
from bot.delivery.posting import Poster, PostFailure
from bot.importing.cells import DateWindow
from bot.importing.run import ImportFailed, ReplaceWindow, import_file, import_files
from bot.sources.http import Connector
from bot.sources.landing import write_native
from bot.sources.model import Fetched, Kind, PlatformDay, SourceConfig, SourceError
from storage import sources as store

log = logging.getLogger(__name__)

Connect = Callable[[SourceConfig], Connector]
Download = Callable[[SourceConfig, Path], int]


@dataclass(frozen=True, slots=True)
class SyncOutcome:
    """One source's sync: the days asked for, the rows landed, how it ended."""

    source: str
    start: date
    end: date
    ok: bool
    rows: int
    seconds: float
    detail: str  # the import's summary line, or the error in plain words
    needs_new_token: bool = False


class SyncService:
    def __init__(
        self,
        engine: Engine,
        *,
        connect: Connect,
        download: Download,
        default_currency: str,
        tz: ZoneInfo,
        lookback_days: int,
        failing_after: timedelta,
        poster: Poster | None = None,
        ops_channel: str | None = None,
        after_sync: Callable[[], object] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._connect = connect
        self._download = download
        self._currency = default_currency
        self._tz = tz
        self._lookback = lookback_days
        self._failing_after = failing_after
        self._poster = poster
        self._ops = ops_channel
        self._after = after_sync
        self._clock = clock

    def window(self, since: date | None = None) -> tuple[date, date]:
        """The days a sync re-reads: the look-back window (or from `since`) to today."""
        today = self._clock().astimezone(self._tz).date()
        start = since if since is not None else today - timedelta(days=self._lookback)
        return min(start, today), today

    def sync(
        self, names: Sequence[str] | None = None, since: date | None = None
    ) -> list[SyncOutcome]:
        """Sync the named sources (all when none); store.UnknownSource for a name not
        configured. After any success the alerts are evaluated."""
        records = store.list_sources(self._engine)
        if names:
            known = {r.config.name: r for r in records}
            missing = [n for n in names if n not in known]
            if missing:
                raise store.UnknownSource(", ".join(missing))
            records = [known[n] for n in dict.fromkeys(names)]
        outcomes = [self._one(record, since) for record in records]
        if self._after is not None and any(o.ok for o in outcomes):
            try:
                self._after()
            except Exception:  # the data has landed whatever the alerts do
                log.exception("sync: alert evaluation after the sync failed")
        return outcomes

    def _one(self, record: store.SourceRecord, since: date | None) -> SyncOutcome:
        config = record.config
        start, end = self.window(since)
        started = self._clock()
        began = time.monotonic()
        run_id = store.start_run(self._engine, record.id, start, end, started)
        try:
            rows, detail = self._land(config, start, end)
        except SourceError as exc:
            return self._failed(record, run_id, start, end, began, exc.message, exc.needs_new_token)
        except ImportFailed as exc:
            return self._failed(record, run_id, start, end, began, str(exc), False)
        except (SQLAlchemyError, OSError) as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            return self._failed(record, run_id, start, end, began, f"not written: {reason}", False)
        noticed = store.finish_ok(self._engine, run_id, record.id, rows, end, self._clock())
        if noticed:
            self._notify(record, messages.source_recovered(config.name, end))
        log.info("sync %s: %s rows for %s..%s", config.name, rows, start, end)
        return SyncOutcome(config.name, start, end, True, rows, time.monotonic() - began, detail)

    def _land(self, config: SourceConfig, start: date, end: date) -> tuple[int, str]:
        """Fetch and import; the summary (or the refusal) names the source, not the temporary
        file it went through."""
        with tempfile.TemporaryDirectory(prefix="kpibot-sync-") as folder:
            path = Path(folder) / f"{config.name}.csv"
            label = f"source {config.name!r}"
            try:
                rows, line = self._import(config, start, end, path)
            except ImportFailed as exc:
                raise replace(
                    exc,
                    source=label,
                    problems=[_named(p, path, label) for p in exc.problems],
                    warnings=[_named(w, path, label) for w in exc.warnings],
                ) from None
            return rows, _named(line, path, label)

    def _import(self, config: SourceConfig, start: date, end: date, path: Path) -> tuple[int, str]:
        # `end` is today: the import accepts what it would accept from a file today.
        window = DateWindow.default(end)
        if config.kind is Kind.CSV_URL:
            self._download(config, path)
            summary = import_file(
                self._engine, path, default_currency=self._currency, window=window
            )
            return summary.rows, summary.line()
        fetched = self._connect(config).fetch(start, end)
        write_native(fetched, path, self._known(fetched))
        batch = import_files(
            self._engine,
            [path],
            as_one=True,
            default_currency=fetched.currency,
            currency_chosen=True,
            window=window,
            replace=ReplaceWindow(fetched.platform, fetched.account, start, end),
        )
        if not batch.ok:
            raise batch.failures[0]
        summary = batch.summaries[0]
        return summary.rows, summary.line()

    def _known(self, fetched: Fetched) -> list[PlatformDay]:
        """The account's campaigns already stored in the window, as zero-day examples."""
        covered = store.covered_campaigns(
            self._engine, fetched.platform, fetched.account, fetched.start, fetched.end
        )
        zero = Decimal(0)
        return [
            PlatformDay(
                day=fetched.start,
                campaign_id=c.external_id,
                campaign_name=c.name,
                impressions=0 if c.impressions else None,
                clicks=0 if c.clicks else None,
                spend=zero,
                conversions=zero if c.conversions else None,
                revenue=zero if c.revenue else None,
                leads=zero if c.leads else None,
            )
            for c in covered
        ]

    def _failed(
        self,
        record: store.SourceRecord,
        run_id: int,
        start: date,
        end: date,
        began: float,
        error: str,
        needs_new_token: bool,
    ) -> SyncOutcome:
        name = record.config.name
        now = self._clock()
        since = store.finish_failed(self._engine, run_id, record.id, error, needs_new_token, now)
        log.warning("sync %s failed: %s", name, error.splitlines()[0] if error else "")
        if now - since >= self._failing_after and store.claim_notice(self._engine, record.id):
            text = messages.source_failing(name, since, error, needs_new_token)
            if not self._notify(record, text):
                store.set_noticed(self._engine, record.id, False)  # told next run instead
        return SyncOutcome(
            name, start, end, False, 0, time.monotonic() - began, error, needs_new_token
        )

    def _notify(self, record: store.SourceRecord, text: str) -> bool:
        """Post to the ops channel; whether it was posted (no channel: logged only)."""
        if self._poster is None or self._ops is None:
            log.warning("source %s: %s (no KPIBOT_OPS_CHANNEL to tell)", record.config.name, text)
            return True
        try:
            self._poster.post(self._ops, {"text": text, "mrkdwn": True})
        except PostFailure as exc:
            log.warning("source %s: ops notice not posted: %s", record.config.name, exc.error)
            return False
        return True


def _named(text: str, path: Path, label: str) -> str:
    """An import message about the fetched file, about the source instead: `source 'fb',
    fetched row 9: spend: …` (a row of what the platform sent, zero days included)."""
    pattern = re.escape(str(path)) + r":(\d+):"
    rows = re.sub(pattern, lambda m: f"{label}, fetched row {m[1]}:", text)
    return rows.replace(str(path), label)
