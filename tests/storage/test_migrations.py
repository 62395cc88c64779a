"""Migrations keep what is stored."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, text

from storage.database import make_engine
from storage.schema import alembic_config, head_revision


def test_0003_keeps_existing_rows_and_lets_unmeasured_be_null(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "0002")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO campaigns (id, platform, account, external_id, name, channel,"
                    " currency) VALUES (1, 'csv', '', 'c1', 'Brand', 'other', 'DKK')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO daily_metrics VALUES "
                    "(1, '2025-08-10', 1000, 50, 0, 5, 0, 100000000, 300000000)"
                )
            )
        command.upgrade(alembic_config(engine), "0003")
        with engine.begin() as connection:
            kept = connection.execute(
                text(
                    "SELECT impressions, clicks, leads, spend_micros, revenue_micros "
                    "FROM daily_metrics"
                )
            ).one()
            assert tuple(kept) == (1000, 50, 0, 100_000_000, 300_000_000)
            connection.execute(
                text(
                    "INSERT INTO daily_metrics (campaign_id, day, spend_micros) "
                    "VALUES (1, '2025-08-11', 5000000)"
                )
            )
            unknown = connection.execute(
                text("SELECT leads, revenue_micros FROM daily_metrics WHERE day = '2025-08-11'")
            ).one()
            assert tuple(unknown) == (None, None)
        assert head_revision(engine) >= "0003"
    finally:
        engine.dispose()


def test_the_migrations_build_exactly_the_models(database_url: str) -> None:
    """What Alembic creates is what storage/models.py declares: no column, index or
    constraint only one of them has (on SQLite and PostgreSQL)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage.models import Base

    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        engine.dispose()


def test_0005_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        command.downgrade(alembic_config(engine), "0004")
        with engine.connect() as connection:
            tables = set(engine.dialect.get_table_names(connection))
        assert not {"alert_rules", "alert_statuses", "alert_events"} & tables
        command.upgrade(alembic_config(engine), "head")
        from alembic.migration import MigrationContext

        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
        assert current == head_revision(engine)
    finally:
        engine.dispose()


def test_0006_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        command.downgrade(alembic_config(engine), "0005")
        with engine.connect() as connection:
            tables = set(engine.dialect.get_table_names(connection))
        assert not {"channel_access", "seen_requests"} & tables
        assert "alert_rules" in tables
        command.upgrade(alembic_config(engine), "head")
        assert head_revision(engine) == "0008"
    finally:
        engine.dispose()


def test_0007_downgrades_and_upgrades_again(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        command.upgrade(alembic_config(engine), "head")
        command.downgrade(alembic_config(engine), "0006")
        with engine.connect() as connection:
            tables = set(engine.dialect.get_table_names(connection))
        assert not {"sources", "sync_runs"} & tables
        assert "channel_access" in tables
        command.upgrade(alembic_config(engine), "head")
        assert head_revision(engine) == "0008"
    finally:
        engine.dispose()


def _metrics(engine: Engine, columns: str) -> list[tuple[object, ...]]:
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT {columns} FROM daily_metrics ORDER BY day"))
        return [tuple(r) for r in rows]


def test_0008_stores_counts_in_micro_units_and_keeps_unknown(database_url: str) -> None:
    engine = make_engine(database_url)
    config = alembic_config(engine)
    try:
        command.upgrade(config, "0007")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO campaigns (id, platform, account, external_id, name, channel,"
                    " currency) VALUES (1, 'csv', '', 'c1', 'Brand', 'other', 'DKK')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO daily_metrics (campaign_id, day, impressions, clicks, leads,"
                    " conversions, new_customers, spend_micros, revenue_micros) VALUES "
                    "(1, '2025-08-10', 1000, 50, 3, 108, 0, 100000000, 300000000),"
                    "(1, '2025-08-11', NULL, 7, NULL, 2, NULL, 5000000, NULL)"
                )
            )
        command.upgrade(config, "0008")
        counts = "leads_micros, conversions_micros, new_customers_micros"
        assert _metrics(engine, f"impressions, clicks, {counts}, spend_micros") == [
            (1000, 50, 3_000_000, 108_000_000, 0, 100_000_000),
            (None, 7, None, 2_000_000, None, 5_000_000),
        ]
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE daily_metrics SET conversions_micros = 2500000 WHERE clicks = 7")
            )
        # Down again: whole counts, a fraction rounded half up (2.5 -> 3), unknown kept.
        command.downgrade(config, "0007")
        assert _metrics(engine, "leads, conversions, new_customers") == [
            (3, 108, 0),
            (None, 3, None),
        ]
        command.upgrade(config, "head")
        assert _metrics(engine, counts) == [
            (3_000_000, 108_000_000, 0),
            (None, 3_000_000, None),
        ]
    finally:
        engine.dispose()
