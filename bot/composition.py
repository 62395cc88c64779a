"""The composition root: Settings in, engine, sessions and services out."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.access.people import PeopleCache
from bot.access.service import AccessService
from bot.alerts.service import AlertService
from bot.config import Settings
from bot.digests.content import DigestPreview
from bot.digests.service import DigestService
from bot.render.digest_blocks import digest_message
from bot.service import KpiService
from bot.slack.poster import SlackPeople, SlackPoster, lookup_client, posting_client
from bot.slack.replays import ReplayGuard
from storage.database import DEFAULT_BUSY_TIMEOUT, make_engine, session_factory
from storage.schema import ensure_schema
from storage.seen_requests import first_sighting

if TYPE_CHECKING:  # requests and the importer load only for the commands that sync
    from bot.sources.connectors import Connections
    from bot.sources.sync import SyncService


@dataclass(frozen=True)
class Components:
    """Everything a runtime needs, built once from Settings."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    kpis: KpiService
    digests: DigestService
    alerts: AlertService
    # Claims signed requests with side effects in the database, shared by every worker.
    replays: ReplayGuard
    # Who may ask (guests, other organisations, admins) and what each channel may see.
    access: AccessService

    @property
    def slack(self) -> SlackPoster | None:
        """Posting and the checks before it (membership, admins); None without a bot token."""
        poster = self.digests.poster
        return poster if isinstance(poster, SlackPoster) else None

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
            poster=self.digests.poster,
            ops_channel=settings.ops_channel,
            after_sync=self.alerts.check if self.digests.poster is not None else None,
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
    service = KpiService(sessions, settings.economics, settings.tz)
    poster = SlackPoster(posting_client(settings)) if settings.slack_bot_token else None
    return Components(
        settings,
        engine,
        sessions,
        service,
        _digests(settings, engine, service, poster),
        _alerts(settings, engine, service, poster),
        replays=ReplayGuard(partial(first_sighting, engine)),
        access=_access(settings, service),
    )


def _access(settings: Settings, kpis: KpiService) -> AccessService:
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
