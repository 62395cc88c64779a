"""Replayed Slack requests with side effects: acknowledged and ignored, once for all workers.

Slack signs `v0:{timestamp}:{body}` and Bolt refuses timestamps more than 5 minutes off, so a
captured request can be replayed only inside that window, with the very same timestamp and
signature; two real presses differ in both. Read-only requests are never recorded, so
answering stays write-free; Socket Mode has no signature (nor replays: its websocket is
authenticated) and is not recorded either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware

from bot.actions import ACTION_SHARE
from bot.render.alert_blocks import ACTION_ACK, ACTION_MUTE, ACTION_SNOOZE_DAY, ACTION_SNOOZE_WEEK
from bot.slack.replies import SlackDeps
from bot.slack.request_log import FAILED, IGNORED

# Bolt refuses a request whose timestamp is further than this from its clock.
SLACK_WINDOW = timedelta(minutes=5)
# Clocks of workers on other hosts may differ a little from the one that recorded a request.
CLOCK_MARGIN = timedelta(minutes=1)

SIDE_EFFECT_ACTIONS = frozenset(
    {ACTION_SHARE, ACTION_ACK, ACTION_SNOOZE_DAY, ACTION_SNOOZE_WEEK, ACTION_MUTE}
)
ADMIN_COMMANDS = frozenset({"digest", "alert", "alerts", "access"})
CHANGING_WORDS = frozenset({"add", "remove", "pause", "resume", "snooze", "send", "clear"})
# `/kpi access [<#channel>]` shows a limit and these words show help or all limits; `access
# <#channel> <limit words>` sets one and `access clear <#channel>` clears one.
ACCESS_READS = frozenset({"list", "help"})


def command_changes(text: str) -> bool:
    """Whether `/kpi text` changes something (a digest, an alert, a channel's access)."""
    words = text.lower().split()
    if not words or words[0] not in ADMIN_COMMANDS:
        return False
    action = words[1] if len(words) > 1 else ""
    if words[0] == "access":
        return action == "clear" or (action not in ACCESS_READS and len(words) > 2)
    return action in CHANGING_WORDS


def has_side_effects(body: Any) -> bool:
    """Whether a request (any shape: it is only trusted once verified) would change or post
    something that a replay would change or post again."""
    if not isinstance(body, dict):
        return False
    if "command" in body:
        return command_changes(str(body.get("text") or ""))
    actions = body.get("actions")
    if body.get("type") != "block_actions" or not isinstance(actions, list):
        return False
    return any(
        isinstance(action, dict) and action.get("action_id") in SIDE_EFFECT_ACTIONS
        for action in actions
    )


def request_key(timestamp: str, signature: str) -> str:
    """The record's key: a replay has the same timestamp and signature, so the same key."""
    return hashlib.sha256(f"{timestamp}:{signature}".encode()).hexdigest()


class Sightings(Protocol):
    """Records a key once for every worker (storage.seen_requests.first_sighting)."""

    def __call__(self, key: str, *, expires_at: datetime, now: datetime) -> bool: ...


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ReplayGuard:
    """Says whether a signed request arrives for the first time, across workers and hosts."""

    record: Sightings
    clock: Callable[[], datetime] = _utc_now

    def first_time(self, timestamp: str, signature: str) -> bool:
        """Claim the request; False for a replay. Kept until Slack would refuse it anyway."""
        now = self.clock()
        try:
            sent = datetime.fromtimestamp(int(timestamp), UTC)
        except (ValueError, OverflowError, OSError):
            sent = now  # unverified (Bolt checks the timestamp): keep it a full window
        expires_at = sent + SLACK_WINDOW + CLOCK_MARGIN
        return self.record(request_key(timestamp, signature), expires_at=expires_at, now=now)


def _header(req: BoltRequest, name: str) -> str:
    values = req.headers.get(name) or [""]
    return str(values[0] or "")


class IgnoreReplays(Middleware):
    """A global middleware: claims a request with side effects before its listener runs."""

    def __init__(self, guard: ReplayGuard, deps: SlackDeps) -> None:
        self.guard = guard
        self.deps = deps

    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        timestamp = _header(req, "x-slack-request-timestamp")
        signature = _header(req, "x-slack-signature")
        if req.mode != "http" or not (timestamp and signature) or not has_side_effects(req.body):
            return next()
        try:
            first = self.guard.first_time(timestamp, signature)
        except Exception as error:
            return self._fail_closed(req, error)
        if first:
            return next()
        # LoggedApp's one line for this request says `"outcome": "ignored", "reason": "replay"`.
        req.context[IGNORED] = "replay"
        return BoltResponse(status=200, body="")

    def _fail_closed(self, req: BoltRequest, error: Exception) -> BoltResponse:
        """Not knowing whether it is a replay, do nothing but apologise."""
        if "command" in req.body:
            raise error  # the error handler's apology is the HTTP answer, which Slack shows
        # Slack ignores the body of a button's acknowledgement: apologise via response_url.
        req.context[FAILED] = True

        def fail() -> None:
            raise error

        self.deps.after_ack(req.body, fail)
        return BoltResponse(status=200, body="")
