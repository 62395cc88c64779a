"""The composition root: Settings in, engine, sessions and services out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property, partial
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.service import KpiService
from storage.database import DEFAULT_BUSY_TIMEOUT, make_engine, session_factory
from storage.schema import ensure_schema

if TYPE_CHECKING:
    # Built when first used: `kpibot kpi` answers without loading Slack, alerts, digests,
    # access checks, requests or the importer (start-up time).
    from bot.access.service import AccessService
    from bot.alerts.service import AlertService
    from bot.digests.content import DigestPreview
    from bot.digests.service import DigestService
    from bot.slack.poster import SlackPoster
    from bot.slack.replays import ReplayGuard
    from bot.sources.connectors import Connections
    from bot.sources.sync import SyncService


@dataclass(frozen=True)
class Components:
    """Everything a runtime needs, built once from Settings."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    kpis: KpiService

    @cached_property
    def poster(self) -> SlackPoster | None:
        """Posting for digests and alerts (one client); None without a bot token."""
        if not self.settings.slack_bot_token:
            return None
        from bot.slack.poster import SlackPoster, posting_client

        return SlackPoster(posting_client(self.settings))

    @cached_property
    def digests(self) -> DigestService:
        return _digests(self.settings, self.engine, self.kpis, self.poster)

    @cached_property
    def alerts(self) -> AlertService:
        return _alerts(self.settings, self.engine, self.kpis, self.poster)

    @cached_property
    def replays(self) -> ReplayGuard:
        """Claims signed requests with side effects in the database, shared by every worker."""
        from bot.slack.replays import ReplayGuard
        from storage.seen_requests import first_sighting

        return ReplayGuard(partial(first_sighting, self.engine))

    @cached_property
    def access(self) -> AccessService:
        """Who may ask (guests, other organisations, admins) and what each channel may see."""
        return _access(self.settings, self.kpis)

    @property
    def slack(self) -> SlackPoster | None:
        """Posting and the checks before it (membership, admins); None without a bot token."""
        return self.poster

    @property
    def connections(self) -> Connections:
        """Connectors for the data sources, with the settings' base URLs and HTTP limits."""
        from bot.sources.connectors import Connections
        from bot.sources.http import Endpoints, HttpPolicy

        settings = self.settings
        return Connections(
            Endpoints(
                meta_graph_url=settings.meta_graph_url,
                google_ads_api_url=settings.google_ads_api_url,
                google_oauth_token_url=settings.google_oauth_token_url,
            ),
            HttpPolicy(),
        )

    @property
    def sync(self) -> SyncService:
        """Syncing the data sources; after a successful sync the alerts are evaluated (when
        kpibot can post them)."""
        from bot.sources.sync import SyncService

        settings = self.settings
        connections = self.connections
        return SyncService(
            self.engine,
            connect=connections.connect,
            download=connections.download,
            default_currency=settings.default_currency,
            tz=settings.tz,
            lookback_days=settings.sync_lookback_days,
            failing_after=settings.source_failing_after,
            poster=self.poster,
            ops_channel=settings.ops_channel,
            after_sync=self.alerts.check if self.poster is not None else None,
        )

    def dispose(self) -> None:
        self.engine.dispose()


def build(
    settings: Settings, *, auto_upgrade: bool = True, long_statements: bool = False
) -> Components:
    """Connect, check (or upgrade) the schema, and wire the services; long_statements for an
    operator's long command (`kpibot import`), see database_engine."""
    engine = database_engine(settings, long_statements=long_statements)
    try:
        ensure_schema(engine, auto_upgrade=auto_upgrade)
    except Exception:
        engine.dispose()
        raise
    sessions = session_factory(engine)
    return Components(
        settings, engine, sessions, KpiService(sessions, settings.economics, settings.tz)
    )


def _access(settings: Settings, kpis: KpiService) -> AccessService:
    from bot.access.people import PeopleCache
    from bot.access.service import AccessService
    from bot.slack.poster import SlackPeople, lookup_client

    # Without a bot token nobody can be looked up: Slack requests are refused (fail closed).
    people = None
    if settings.slack_bot_token:
        people = PeopleCache(SlackPeople(lookup_client(settings)), settings.user_cache)
    return AccessService(
        kpis.sessions,
        kpis.directory.current,
        people,
        allow_guests=settings.allow_guests,
        allow_external=settings.allow_external,
    )


def _alerts(
    settings: Settings, engine: Engine, kpis: KpiService, poster: SlackPoster | None
) -> AlertService:
    from bot.alerts.service import AlertService
    from bot.render.alert_blocks import alert_message, incident_message

    return AlertService(
        engine,
        kpis.sessions,
        kpis.directory,
        settings.economics,
        settings.tz,
        poster=poster,
        render=alert_message,
        render_incident=incident_message,
        repeat=settings.alert_repeat,
        landing_grace=settings.alert_landing_grace,
        lease=settings.delivery_lease,
    )


def _digests(
    settings: Settings, engine: Engine, kpis: KpiService, poster: SlackPoster | None
) -> DigestService:
    from bot.digests.service import DigestService
    from bot.render.digest_blocks import digest_message

    return DigestService(
        engine,
        kpis.sessions,
        kpis.directory,
        settings.economics,
        settings.timezone,
        poster=poster,
        render=digest_message,
        chart=_chart,
        wait=settings.digest_wait,
        grace=settings.digest_grace,
        lease=settings.delivery_lease,
    )


def database_engine(settings: Settings, *, long_statements: bool = False) -> Engine:
    """The engine with kpibot's database limits. Every statement of the runtimes and of
    answers waits at most KPIBOT_DB_STATEMENT_TIMEOUT (SQLite: for a lock too) so a slow or
    hung database gets the user an apology, not silence; long_statements (an operator's import
    or `db upgrade`, watched in a terminal) lifts that limit, and waits longer for a lock."""
    bound = None if long_statements else settings.db_statement_timeout
    return make_engine(
        settings.database_url,
        connect_timeout=settings.db_connect_timeout,
        statement_timeout=bound,
        busy_timeout=bound or max(settings.db_statement_timeout, DEFAULT_BUSY_TIMEOUT),
        ping=True,
    )


def with_database(settings: Settings, url: str | None) -> Settings:
    return settings if url is None else replace(settings, database_url=url)


def _chart(preview: DigestPreview) -> bytes | None:
    # matplotlib takes over a second to import: only the process that posts a digest pays.
    from bot.render.digest_chart import trend_png

    return trend_png(preview)
