"""What a source is and what fetching from it gives: pure data, no HTTP and no database.

A source is a named entry: its kind, the account it reads, options, and the *names* of the
environment variables that hold its secrets (never the secrets: those are read from the
environment when a sync runs, and never stored, logged or echoed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from bot.access.model import Visibility

# The platforms' base URLs, API version included (settings META_GRAPH_URL, GOOGLE_ADS_API_URL,
# GOOGLE_OAUTH_TOKEN_URL override them: tests point them at local fake servers).
DEFAULT_META_GRAPH_URL = "https://graph.facebook.com/v23.0"
DEFAULT_GOOGLE_ADS_API_URL = "https://googleads.googleapis.com/v22"
DEFAULT_GOOGLE_OAUTH_TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 (a URL)


class Kind(StrEnum):
    META = "meta"
    GOOGLE_ADS = "google-ads"
    CSV_URL = "csv-url"


# The stored platform slug of a kind's campaigns; a remote CSV names its own, row by row.
PLATFORM_OF = {Kind.META: "meta_ads", Kind.GOOGLE_ADS: "google_ads"}


@dataclass(frozen=True)
class SourceConfig:
    """One configured source. `options` hold plain settings (account ids, action types, the
    URL); `secret_envs` map a secret's role (e.g. "token") to the variable that holds it."""

    name: str
    kind: Kind
    account: str
    options: dict[str, str] = field(default_factory=dict)
    secret_envs: dict[str, str] = field(default_factory=dict)


def visible_to(config: SourceConfig, sees: Visibility) -> bool:
    """Whether a channel that may see `sees` may know of the source: a limited channel sees
    only the sources of its platforms and accounts (a remote CSV, whose rows may be any
    campaign's, and every source of a channel limited to some campaigns, stay hidden)."""
    if not sees.limited:
        return True
    platform = PLATFORM_OF.get(config.kind)
    if platform is None or sees.campaigns:
        return False
    if sees.platforms and platform not in sees.platforms:
        return False
    return not sees.accounts or config.account.lower() in sees.accounts


@dataclass(frozen=True)
class PlatformDay:
    """One campaign × day as an ad platform reports it, numbers exact (from the API's strings
    or micros). A measure the platform does not report for this source is None (unknown), not
    zero: e.g. leads when no lead action type is configured."""

    day: date
    campaign_id: str
    campaign_name: str
    impressions: int | None
    clicks: int | None
    spend: Decimal
    conversions: Decimal | None
    revenue: Decimal | None
    leads: Decimal | None = None


@dataclass(frozen=True)
class Fetched:
    """What one fetch brought back for [start, end]: every day in that range was covered, so
    a campaign with no row on a covered day spent nothing that day (platforms omit all-zero
    rows). `currency` is the account's (ISO 4217); `account` its id as stored."""

    platform: str  # "meta_ads" / "google_ads": the stored platform slug
    account: str
    currency: str
    start: date
    end: date
    rows: list[PlatformDay]


@dataclass(frozen=True)
class SourceInfo:
    """What `kpibot source test` prints: what the credentials can see."""

    account_name: str
    currency: str
    campaigns: int


class SourceError(Exception):
    """A fetch failed; `message` is plain words for the user (never a secret), and
    `needs_new_token` marks a credential the platform refused (Meta 190, OAuth invalid_grant)."""

    def __init__(self, message: str, *, needs_new_token: bool = False, retryable: bool = False):
        super().__init__(message)
        self.message = message
        self.needs_new_token = needs_new_token
        self.retryable = retryable
