"""The composition root: Settings in, engine, sessions and services out."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.service import KpiService
from storage.database import make_engine, session_factory
from storage.schema import ensure_schema


@dataclass(frozen=True)
class Components:
    """Everything a runtime needs, built once from Settings."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    kpis: KpiService

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
    return Components(settings, engine, sessions, service)


def with_database(settings: Settings, url: str | None) -> Settings:
    return settings if url is None else replace(settings, database_url=url)
