"""The composition root: Settings in, engine, sessions and services out."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.alerts.service import AlertService
from bot.config import Settings
from bot.digests.content import DigestPreview
from bot.digests.service import DigestService
from bot.render.digest_blocks import digest_message
from bot.service import KpiService
from bot.slack.poster import SlackPoster, posting_client
from storage.database import make_engine, session_factory
from storage.schema import ensure_schema


@dataclass(frozen=True)
class Components:
    """Everything a runtime needs, built once from Settings."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    kpis: KpiService
    digests: DigestService
    alerts: AlertService

    @property
    def slack(self) -> SlackPoster | None:
        """Posting and the checks before it (membership, admins); None without a bot token."""
        poster = self.digests.poster
        return poster if isinstance(poster, SlackPoster) else None

    def dispose(self) -> None:
        self.engine.dispose()


def build(settings: Settings, *, auto_upgrade: bool = True) -> Components:
    """Connect, check (or upgrade) the schema, and wire the services."""
    engine = make_engine(settings.database_url, pool_pre_ping=True)
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


def with_database(settings: Settings, url: str | None) -> Settings:
    return settings if url is None else replace(settings, database_url=url)


def _chart(preview: DigestPreview) -> bytes | None:
    # matplotlib takes over a second to import: only the process that posts a digest pays.
    from bot.render.digest_chart import trend_png

    return trend_png(preview)
