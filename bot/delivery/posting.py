"""What a Slack post can end in, and what the ledger does about each outcome (pure).

Slack clients raise PostFailure; `next_step` turns a failure into a decision: retry later
(429 after its Retry-After, capped; 5xx and connection errors with backoff), or give up and
report once (permanent errors, or too many attempts). Nothing waits in a sleeping thread, so
one rate-limited channel never holds up the other deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Protocol

# Errors no retry can fix: the message or the channel has to change first.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "account_inactive",
        "invalid_auth",
        "token_revoked",
        "missing_scope",
        "msg_too_long",
        "no_text",
        "restricted_action",
        "user_not_found",
        "cannot_dm_bot",
    }
)
RETRY_AFTER_CAP = timedelta(minutes=5)
MAX_ATTEMPTS = 6


class Outcome(Enum):
    RATE_LIMITED = "rate_limited"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


class PostFailure(Exception):
    """A post Slack did not take; `error` is Slack's error code or a short description."""

    def __init__(self, outcome: Outcome, error: str, retry_after: float | None = None) -> None:
        super().__init__(error)
        self.outcome = outcome
        self.error = error
        self.retry_after = retry_after


def classify(
    error: str, status: int | None = None, retry_after: float | None = None
) -> PostFailure:
    """A PostFailure for Slack's error code (or an HTTP status when there is none)."""
    if status == 429 or error == "ratelimited":
        return PostFailure(Outcome.RATE_LIMITED, error or "ratelimited", retry_after)
    if error in PERMANENT_ERRORS:
        return PostFailure(Outcome.PERMANENT, error)
    return PostFailure(Outcome.TRANSIENT, error or f"HTTP {status}")


class Poster(Protocol):
    """Posting to Slack (bot.slack.poster.SlackPoster; a fake in tests)."""

    def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None = None
    ) -> tuple[str, str]:
        """Post a message; (channel id, ts). Raises PostFailure."""
        ...

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        """Edit one of the bot's own messages. Raises PostFailure."""
        ...

    def upload_png(self, channel: str, png: bytes, *, title: str, filename: str) -> None:
        """Upload an image into a channel (files_upload_v2). Raises PostFailure."""
        ...

    def direct_message(self, user: str, message: dict[str, Any]) -> None:
        """A DM to a user (conversations.open, then post). Raises PostFailure."""
        ...


@dataclass(frozen=True, slots=True)
class RetryAt:
    when: datetime
    error: str


@dataclass(frozen=True, slots=True)
class GiveUp:
    error: str
    report: bool  # tell a person (once): the failure needs someone to act


def next_step(failure: PostFailure, attempts: int, now: datetime) -> RetryAt | GiveUp:
    """What to do after `attempts` tries (this one included) ended in `failure`."""
    if failure.outcome is Outcome.PERMANENT:
        return GiveUp(failure.error, report=True)
    if attempts >= MAX_ATTEMPTS:
        return GiveUp(f"{failure.error} ({attempts} attempts)", report=True)
    if failure.outcome is Outcome.RATE_LIMITED:
        wait = timedelta(seconds=max(1.0, failure.retry_after or 30.0))
        return RetryAt(now + min(wait, RETRY_AFTER_CAP), failure.error)
    # 30 s, 1 min, 2 min, 4 min, 8 min
    return RetryAt(now + timedelta(seconds=30 * 2 ** (attempts - 1)), failure.error)
