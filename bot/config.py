"""Settings read from the environment (and an optional .env file) in one place."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from bot.importing.cells import EARLIEST_DAY, MAX_DAYS_AHEAD, exact_day
from bot.kpi import Economics
from bot.money import MoneyError, normalize_currency
from bot.sources.model import (
    DEFAULT_GOOGLE_ADS_API_URL,
    DEFAULT_GOOGLE_OAUTH_TOKEN_URL,
    DEFAULT_META_GRAPH_URL,
)


class SettingsError(ValueError):
    """A setting with a value kpibot cannot use; the message names the variable."""


DEFAULT_DATABASE_URL = "sqlite:///kpibot.db"
DEFAULT_SLACK_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class Settings:
    """Everything configurable, documented in README "Settings"."""

    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    timezone: str = "UTC"
    default_currency: str = "USD"
    gross_margin: Decimal | None = None
    purchases_per_customer: Decimal = Decimal(1)
    ltv_margin: Decimal = Decimal(1)
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    log_level: str = "INFO"
    ack_budget_seconds: Decimal = Decimal(2)
    import_earliest_date: date = EARLIEST_DAY
    import_max_days_ahead: int = MAX_DAYS_AHEAD
    import_locale: str = "en"
    digest_wait: timedelta = timedelta(hours=3)
    digest_grace: timedelta = timedelta(hours=3)
    delivery_lease: timedelta = timedelta(minutes=10)
    alert_every: timedelta = timedelta(hours=1)
    alert_repeat: timedelta = timedelta(hours=24)
    alert_landing_grace: timedelta = timedelta(hours=8)
    max_body_bytes: int = 64 * 1024
    slack_max_retry_after: timedelta = timedelta(seconds=30)
    db_connect_timeout: timedelta = timedelta(seconds=5)
    db_statement_timeout: timedelta = timedelta(seconds=5)
    allow_guests: bool = False
    allow_external: bool = False
    user_cache: timedelta = timedelta(minutes=10)
    meta_graph_url: str = DEFAULT_META_GRAPH_URL
    google_ads_api_url: str = DEFAULT_GOOGLE_ADS_API_URL
    google_oauth_token_url: str = DEFAULT_GOOGLE_OAUTH_TOKEN_URL
    sync_every: timedelta = timedelta(hours=1)
    sync_lookback_days: int = 7
    source_failing_after: timedelta = timedelta(hours=6)
    ops_channel: str | None = None

    @property
    def import_decimal_comma(self) -> bool:
        """Import `;`-separated files with decimal commas unless told otherwise (locale da)."""
        return self.import_locale == "da"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def economics(self) -> Economics:
        return Economics(
            gross_margin=self.gross_margin,
            purchases_per_customer=self.purchases_per_customer,
            ltv_margin=self.ltv_margin,
        )

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read settings; real environment variables win over the .env file."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        return cls.from_mapping(values)

    @classmethod
    def from_mapping(cls, env: Mapping[str, str]) -> Settings:
        timezone = env.get("KPIBOT_TIMEZONE", "UTC").strip() or "UTC"
        try:
            ZoneInfo(timezone)
        # A name that is a folder of the tz database (`Europe`) raises IsADirectoryError.
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise SettingsError(
                f"KPIBOT_TIMEZONE={timezone!r} is not a time zone; use an IANA name "
                "such as Europe/Copenhagen"
            ) from exc
        try:
            currency = normalize_currency(env.get("KPIBOT_DEFAULT_CURRENCY", "USD"))
        except MoneyError as exc:
            raise SettingsError(f"KPIBOT_DEFAULT_CURRENCY: {exc}") from exc
        margin_text = env.get("KPIBOT_GROSS_MARGIN", "").strip()
        return cls(
            database_url=env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL,
            timezone=timezone,
            default_currency=currency,
            gross_margin=_fraction(env, "KPIBOT_GROSS_MARGIN") if margin_text else None,
            purchases_per_customer=_positive(env, "KPIBOT_LTV_PURCHASES", Decimal(1)),
            ltv_margin=_fraction(env, "KPIBOT_LTV_MARGIN", Decimal(1)),
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_api_url=_api_url(env.get("SLACK_API_URL", "")),
            log_level=_log_level(env),
            ack_budget_seconds=_budget(env),
            import_earliest_date=_earliest_date(env),
            import_max_days_ahead=_days_ahead(env),
            import_locale=_import_locale(env),
            digest_wait=_duration(env, "KPIBOT_DIGEST_WAIT", timedelta(hours=3)),
            digest_grace=_duration(env, "KPIBOT_DIGEST_GRACE", timedelta(hours=3)),
            delivery_lease=_duration(env, "KPIBOT_DELIVERY_LEASE", timedelta(minutes=10)),
            alert_every=_positive_duration(env, "KPIBOT_ALERT_EVERY", timedelta(hours=1)),
            alert_repeat=_positive_duration(env, "KPIBOT_ALERT_REPEAT", timedelta(hours=24)),
            alert_landing_grace=_duration(env, "KPIBOT_ALERT_LANDING_GRACE", timedelta(hours=8)),
            max_body_bytes=_body_limit(env),
            slack_max_retry_after=_seconds(env, "KPIBOT_SLACK_MAX_RETRY_AFTER", 30, 0, 300),
            db_connect_timeout=_seconds(env, "KPIBOT_DB_CONNECT_TIMEOUT", 5, 1, 60),
            db_statement_timeout=_seconds(env, "KPIBOT_DB_STATEMENT_TIMEOUT", 5, 1, 600),
            allow_guests=_flag(env, "KPIBOT_ALLOW_GUESTS"),
            allow_external=_flag(env, "KPIBOT_ALLOW_EXTERNAL"),
            user_cache=_seconds(env, "KPIBOT_USER_CACHE", 600, 0, 86400),
            meta_graph_url=_base_url(env, "META_GRAPH_URL", DEFAULT_META_GRAPH_URL),
            google_ads_api_url=_base_url(env, "GOOGLE_ADS_API_URL", DEFAULT_GOOGLE_ADS_API_URL),
            google_oauth_token_url=_base_url(
                env, "GOOGLE_OAUTH_TOKEN_URL", DEFAULT_GOOGLE_OAUTH_TOKEN_URL
            ),
            sync_every=_positive_duration(env, "KPIBOT_SYNC_EVERY", timedelta(hours=1)),
            sync_lookback_days=_lookback(env),
            source_failing_after=_duration(env, "KPIBOT_SOURCE_FAILING_AFTER", timedelta(hours=6)),
            ops_channel=env.get("KPIBOT_OPS_CHANNEL", "").strip() or None,
        )


IMPORT_LOCALES = ("en", "da")
MAX_IMPORT_DAYS_AHEAD = 3660


def _earliest_date(env: Mapping[str, str]) -> date:
    text = env.get("KPIBOT_IMPORT_EARLIEST_DATE", "").strip()
    if not text:
        return EARLIEST_DAY
    day = exact_day(text)
    if day is None:
        raise SettingsError(
            f"KPIBOT_IMPORT_EARLIEST_DATE={text!r} is not a date; write YYYY-MM-DD, e.g. 2000-01-01"
        )
    return day


def _days_ahead(env: Mapping[str, str]) -> int:
    text = env.get("KPIBOT_IMPORT_MAX_DAYS_AHEAD", "").strip()
    if not text:
        return MAX_DAYS_AHEAD
    digits = text.lstrip("0") or "0"
    if not (text.isascii() and text.isdigit() and len(digits) <= 4) or (
        int(digits) > MAX_IMPORT_DAYS_AHEAD
    ):
        raise SettingsError(
            f"KPIBOT_IMPORT_MAX_DAYS_AHEAD={text[:40]!r} must be a whole number of days from 0 "
            f"to {MAX_IMPORT_DAYS_AHEAD} (default {MAX_DAYS_AHEAD})"
        )
    return int(text)


def _import_locale(env: Mapping[str, str]) -> str:
    locale = env.get("KPIBOT_IMPORT_LOCALE", "").strip().lower() or "en"
    if locale not in IMPORT_LOCALES:
        raise SettingsError(
            f"KPIBOT_IMPORT_LOCALE={locale!r} must be en (`,`-separated, `.` decimals) or da "
            "(`;`-separated, decimal commas, as Danish Excel saves CSV)"
        )
    return locale


def _base_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) base URL without a trailing slash."""
    text = env.get(name, "").strip() or default
    if not text.startswith(("https://", "http://")) or len(text) < 10:
        raise SettingsError(f"{name}={text!r} is not an http(s) URL; e.g. {default}")
    return text.rstrip("/")


MAX_LOOKBACK_DAYS = 90


def _lookback(env: Mapping[str, str]) -> int:
    text = env.get("KPIBOT_SYNC_LOOKBACK_DAYS", "").strip()
    if not text:
        return 7
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_LOOKBACK_DAYS:
        raise SettingsError(
            f"KPIBOT_SYNC_LOOKBACK_DAYS={text!r} must be a whole number of days from 1 to "
            f"{MAX_LOOKBACK_DAYS}"
        )
    return int(text)


def _api_url(text: str) -> str:
    url = text.strip() or DEFAULT_SLACK_API_URL
    return url if url.endswith("/") else url + "/"


def _decimal(env: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise SettingsError(f"{name}={text!r} is not a number") from exc
    if not value.is_finite():
        raise SettingsError(f"{name}={text!r} is not a finite number")
    return value


def _fraction(env: Mapping[str, str], name: str, default: Decimal = Decimal(1)) -> Decimal:
    value = _decimal(env, name, default)
    if not Decimal(0) < value <= Decimal(1):
        raise SettingsError(f"{name}={value} must be a fraction above 0 and at most 1 (e.g. 0.4)")
    return value


def _positive(env: Mapping[str, str], name: str, default: Decimal) -> Decimal:
    value = _decimal(env, name, default)
    if value <= 0:
        raise SettingsError(f"{name}={value} must be above 0")
    return value


def _budget(env: Mapping[str, str]) -> Decimal:
    value = _decimal(env, "KPIBOT_ACK_BUDGET_SECONDS", Decimal(2))
    if not Decimal(0) <= value <= Decimal("2.5"):
        raise SettingsError(
            f"KPIBOT_ACK_BUDGET_SECONDS={value} must be between 0 and 2.5 (Slack waits 3 s)"
        )
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(env: Mapping[str, str]) -> str:
    level = (env.get("KPIBOT_LOG_LEVEL", "INFO").strip() or "INFO").upper()
    if level not in LOG_LEVELS:
        raise SettingsError(f"KPIBOT_LOG_LEVEL={level!r} must be one of {', '.join(LOG_LEVELS)}")
    return level


_DURATION = re.compile(r"([0-9]{1,4})\s*(s|m|min|h|d)?")
_UNITS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, None: 60}


def _duration(env: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    """`3h`, `90m`, `45` (minutes), `1d`: at most a week."""
    text = env.get(name, "").strip().lower()
    if not text:
        return default
    match = _DURATION.fullmatch(text)
    seconds = int(match.group(1)) * _UNITS[match.group(2)] if match else -1
    if not 0 <= seconds <= 7 * 86400:
        raise SettingsError(
            f"{name}={text[:40]!r} must be a duration such as 3h, 90m or 1d (at most 7d)"
        )
    return timedelta(seconds=seconds)


def _positive_duration(env: Mapping[str, str], name: str, default: timedelta) -> timedelta:
    """A duration as `_duration`, and at least a minute (a check every 0 s would spin)."""
    value = _duration(env, name, default)
    if value < timedelta(minutes=1):
        raise SettingsError(f"{name} must be at least 1m (e.g. 1h); it was {value}")
    return value


_SECONDS = re.compile(r"([0-9]{1,6})\s*(s|m|min|h)?")
_SECOND_UNITS = {"s": 1, None: 1, "m": 60, "min": 60, "h": 3600}


def _seconds(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> timedelta:
    """`5`, `5s`, `2m`, `1h` (a bare number is seconds), from `low` to `high` seconds."""
    text = env.get(name, "").strip().lower()
    if not text:
        return timedelta(seconds=default)
    match = _SECONDS.fullmatch(text)
    seconds = int(match.group(1)) * _SECOND_UNITS[match.group(2)] if match else -1
    if not low <= seconds <= high:
        raise SettingsError(
            f"{name}={text[:40]!r} must be a number of seconds from {low} to {high} "
            f"(e.g. {default}s or 2m); the default is {default}s"
        )
    return timedelta(seconds=seconds)


MIN_BODY_BYTES = 4 * 1024
MAX_BODY_BYTES = 10 * 1024 * 1024


def _body_limit(env: Mapping[str, str]) -> int:
    text = env.get("KPIBOT_MAX_BODY_BYTES", "").strip()
    if not text:
        return 64 * 1024
    if not (text.isascii() and text.isdigit() and len(text) <= 9) or not (
        MIN_BODY_BYTES <= int(text) <= MAX_BODY_BYTES
    ):
        raise SettingsError(
            f"KPIBOT_MAX_BODY_BYTES={text[:40]!r} must be a number of bytes from "
            f"{MIN_BODY_BYTES} to {MAX_BODY_BYTES} (default 65536)"
        )
    return int(text)


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("", "0", "false", "no", "off")


def _flag(env: Mapping[str, str], name: str) -> bool:
    text = env.get(name, "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SettingsError(f"{name}={text[:40]!r} must be true or false (1/0, yes/no)")
