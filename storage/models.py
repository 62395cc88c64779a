"""SQLAlchemy 2 typed models: campaigns, daily metrics, imports, digests, deliveries, alerts."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Text limits of campaign columns, in characters: the columns below and the importer's checks
# both use these, so SQLite (which would store anything) and PostgreSQL refuse the same texts.
PLATFORM_MAX = 64
ACCOUNT_MAX = 128
EXTERNAL_ID_MAX = 128
NAME_MAX = 512

# The largest value of any measure (a count, or micro-units) stored for one campaign-day. A
# query sums at most bot.periods.MAX_PERIOD_DAYS (3,660 < 4,096) days of one campaign, so every
# such sum fits a signed 64-bit integer, on SQLite as on PostgreSQL.
MAX_DAY_VALUE = (2**63 - 1) // 4096


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Campaign(Base):
    """A campaign on one platform and ad account, in one currency."""

    __tablename__ = "campaigns"
    __table_args__ = (UniqueConstraint("platform", "account", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(PLATFORM_MAX))
    account: Mapped[str] = mapped_column(String(ACCOUNT_MAX), default="")
    external_id: Mapped[str] = mapped_column(String(EXTERNAL_ID_MAX))
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    channel: Mapped[str] = mapped_column(String(32), default="other")
    currency: Mapped[str] = mapped_column(String(3))


MEASURE_COLUMNS = (
    "impressions",
    "clicks",
    "leads_micros",
    "conversions_micros",
    "new_customers_micros",
    "spend_micros",
    "revenue_micros",
)


class DailyMetrics(Base):
    """One campaign's measures on one day; money and fractional counts in integer micro-units.

    A measure the source does not report is NULL (unknown), never 0; spend is always reported.
    """

    __tablename__ = "daily_metrics"
    __table_args__ = (
        # "All campaigns over a range" (top, all, channel): a range scan on day that holds
        # every measure, so the sums never visit the table rows (3× faster on SQLite).
        Index("ix_daily_metrics_day_covering", "day", "campaign_id", *MEASURE_COLUMNS),
    )

    # The primary key (campaign_id, day) serves "one campaign over a range".
    campaign_id: Mapped[int] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    impressions: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    clicks: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # Leads, conversions and new customers may be fractional (data-driven attribution): in
    # micro-units, exactly, like money (2.5 conversions are 2_500_000).
    leads_micros: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    conversions_micros: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    new_customers_micros: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    spend_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    revenue_micros: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class ImportRun(Base):
    """A record of one import of one file: when, what, how many rows, how it ended."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(32), default="")
    rows: Mapped[int] = mapped_column(Integer, default=0)
    campaigns: Mapped[int] = mapped_column(Integer, default=0)
    days: Mapped[int] = mapped_column(Integer, default=0)
    result: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")


class DigestSubscription(Base):
    """A morning digest: which channel, when (weekdays, local time, zone) and which campaigns.

    The database is the only source of truth for schedules; `updated_at` changes on every edit,
    so schedulers in other processes notice and rebuild their triggers.
    """

    __tablename__ = "digest_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    days: Mapped[str] = mapped_column(String(32))  # "mon,tue,wed,thu,fri"
    at: Mapped[str] = mapped_column(String(5))  # "08:00", local time
    timezone: Mapped[str] = mapped_column(String(64))
    scope_kind: Mapped[str] = mapped_column(String(16))  # all | channel | platform | campaigns
    scope_values: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class Delivery(Base):
    """The delivery ledger, for digests and alerts alike: one row per thing to post, claimed
    before posting, so two processes, a restart or a retry never post it twice.

    `key` names the occurrence: a digest's local date, an alert's campaign, day and state.
    """

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("kind", "subject_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "digest" | "alert"
    subject_id: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))  # claimed | retry | sent | failed | skipped
    claimed_by: Mapped[str] = mapped_column(String(128), default="")
    claimed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    retry_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class AlertRule(Base):
    """An alert rule as typed (bot.alerts.rules.AlertRule), in columns scripts can read.

    Decimals are stored as exact text; `text` is the canonical rule, which parses back to it.
    """

    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    scope_kind: Mapped[str] = mapped_column(String(16))  # all | channel | platform | campaigns
    scope_values: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of strings
    kpi: Mapped[str] = mapped_column(String(32))
    condition: Mapped[str] = mapped_column(String(16))  # threshold | change
    op: Mapped[str | None] = mapped_column(String(2), nullable=True)
    value: Mapped[str | None] = mapped_column(String(40), nullable=True)
    direction: Mapped[str | None] = mapped_column(String(8), nullable=True)
    amount: Mapped[str | None] = mapped_column(String(40), nullable=True)
    unit: Mapped[str | None] = mapped_column(String(4), nullable=True)
    baseline: Mapped[str | None] = mapped_column(String(32), nullable=True)
    window_days: Mapped[int] = mapped_column(Integer, default=1)
    for_days: Mapped[int] = mapped_column(Integer, default=1)
    min_spend: Mapped[str | None] = mapped_column(String(40), nullable=True)
    min_clicks: Mapped[int | None] = mapped_column(Integer, nullable=True)
    notify: Mapped[str | None] = mapped_column(String(32), nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    no_data_since: Mapped[date | None] = mapped_column(Date, nullable=True)


class AlertStatus(Base):
    """Where one (rule, campaign) is in its lifecycle; no row is OK. `version` makes every
    change a compare-and-set, so two evaluating processes never apply one transition twice."""

    __tablename__ = "alert_statuses"

    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), primary_key=True
    )
    campaign_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(16))
    streak: Mapped[int] = mapped_column(Integer, default=0)
    last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    incident: Mapped[int] = mapped_column(Integer, default=0)
    open_incident: Mapped[bool] = mapped_column(Boolean, default=False)
    incident_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    ts: Mapped[str | None] = mapped_column(String(32), nullable=True)
    acknowledged_by: Mapped[str | None] = mapped_column(String(32), nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    snoozed_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AlertEvent(Base):
    """Alert history: every transition and every action on an alert, once.

    (rule, campaign, day, event) is unique: the process whose insert lands is the one that
    applies the transition and claims its delivery; campaign 0 is the rule itself (no data).
    """

    __tablename__ = "alert_events"
    __table_args__ = (
        UniqueConstraint("rule_id", "campaign_id", "day", "event"),
        Index("ix_alert_events_rule_at", "rule_id", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    campaign_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    event: Mapped[str] = mapped_column(String(64))  # fire#1, remind#1.1, resolve#1, ack, …
    state: Mapped[str] = mapped_column(String(16))  # the state after it
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    value: Mapped[str | None] = mapped_column(String(64), nullable=True)
    baseline: Mapped[str | None] = mapped_column(String(64), nullable=True)
    explanation: Mapped[str] = mapped_column(Text, default="")
    by_user: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ChannelAccess(Base):
    """What one Slack channel may see (bot.access.model.Visibility); no row is no limit.

    The lists are JSON arrays of text: platforms, ad accounts (lower-case) and campaign name
    patterns (lower-case globs).
    """

    __tablename__ = "channel_access"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    platforms: Mapped[str] = mapped_column(Text, default="[]")
    accounts: Mapped[str] = mapped_column(Text, default="[]")
    campaigns: Mapped[str] = mapped_column(Text, default="[]")
    set_by: Mapped[str] = mapped_column(String(32), default="")
    set_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SeenRequest(Base):
    """A signed Slack request already handled, kept until Slack's 5-minute window has passed,
    so a replay of a request with side effects is acknowledged and ignored by every worker."""

    __tablename__ = "seen_requests"
    __table_args__ = (Index("ix_seen_requests_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Source(Base):
    """A data source kpibot syncs from (bot.sources.model.SourceConfig) and how it is doing.

    `options` and `secret_envs` are JSON objects of text; `secret_envs` holds the *names* of
    the environment variables with the credentials, never a credential. `failing_since` is the
    first failed run since the last success; `failing_noticed` says the ops channel was told.
    """

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # meta | google-ads | csv-url
    account: Mapped[str] = mapped_column(String(ACCOUNT_MAX), default="")
    options: Mapped[str] = mapped_column(Text, default="{}")
    secret_envs: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    data_through: Mapped[date | None] = mapped_column(Date, nullable=True)
    last_rows: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    failing_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    needs_new_token: Mapped[bool] = mapped_column(Boolean, default=False)
    failing_noticed: Mapped[bool] = mapped_column(Boolean, default=False)


class SyncRun(Base):
    """One sync of one source: the days it asked for, what it brought, how it ended."""

    __tablename__ = "sync_runs"
    __table_args__ = (Index("ix_sync_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    start_day: Mapped[date] = mapped_column(Date)
    end_day: Mapped[date] = mapped_column(Date)
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    outcome: Mapped[str] = mapped_column(String(16))  # running | ok | failed
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
