"""Who may ask, and what channels may see: the one access service every adapter uses.

`admit` runs before any answer is computed for a Slack request; the channel limits it keeps are
applied by the KPI, digest and alert services themselves (they read them in their sessions).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import NoReturn

from sqlalchemy.orm import Session, sessionmaker

from bot import messages
from bot.access.identity import Identities, IdentityUnavailable, Person
from bot.access.model import EVERYTHING, LimitError, Visibility, parse_limit
from bot.matching import CampaignIndex
from bot.query import QueryError
from storage import access as stored
from storage.database import session_scope
from storage.write_lock import write_scope

log = logging.getLogger("kpibot.access")

MAX_NAMED = 10
"""Visible campaigns named in the echo of a new limit."""


class Reason(StrEnum):
    """Why a request was refused: the word in the log line."""

    GUEST = "guest"
    EXTERNAL = "external"
    IDENTITY_UNKNOWN = "identity_unknown"
    NOT_ADMIN = "not_admin"
    LIMITED = "limited"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who asks, and in which channel (ids from the signed request)."""

    user: str
    channel: str


class Refused(QueryError):
    """A request kpibot will not answer for this person; the message says why, plainly."""

    code = "access_refused"

    def __init__(self, reason: Reason, text: str) -> None:
        super().__init__(text)
        self.reason = reason


class BadLimit(QueryError):
    """Limit words kpibot cannot read (bot.access.model.LimitError), as a query mistake."""


@dataclass(frozen=True, slots=True)
class ChannelSight:
    """What one channel sees now: its limit (who set it, when) and the campaigns it leaves."""

    channel: str
    sees: Visibility
    set_by: str | None
    set_at: datetime | None
    visible: int
    named: tuple[str, ...]
    """Up to MAX_NAMED visible campaign names, in alphabetical order."""


def log_refused(reason: Reason, *, user: str, channel: str) -> None:
    """The one log line of a refused request: ids and the reason, never the data."""
    log.warning("refused user=%s channel=%s reason=%s", user or "-", channel or "-", reason)


def _utc_now() -> datetime:
    return datetime.now(UTC)


CampaignsOf = Callable[[Session], CampaignIndex]


class AccessService:
    """Admission of Slack requests and the channel limits, for Slack and the CLI alike."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        campaigns: CampaignsOf,
        identities: Identities | None,
        *,
        allow_guests: bool = False,
        allow_external: bool = False,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.sessions = sessions
        self._campaigns = campaigns
        self._identities = identities
        self.allow_guests = allow_guests
        self.allow_external = allow_external
        self._clock = clock

    # ----------------------------------------------------------------- who may ask

    def admit(self, viewer: Viewer) -> None:
        """Refused (logged once) for a guest or an outsider the settings do not let in, and
        for anyone Slack cannot tell us about: admission fails closed."""
        if self.allow_guests and self.allow_external:
            return  # everyone is let in: no need to ask Slack who they are
        person = self._person(viewer)
        if person.guest and not self.allow_guests:
            self._refuse(viewer, Reason.GUEST, messages.ACCESS_GUEST)
        if not self.allow_external and self._outsider(viewer, person):
            self._refuse(viewer, Reason.EXTERNAL, messages.ACCESS_EXTERNAL)

    def require_admin(self, viewer: Viewer) -> None:
        """Refused unless the viewer is a workspace admin or owner (users.info, cached)."""
        if not self._person(viewer).admin:
            self._refuse(viewer, Reason.NOT_ADMIN, messages.ACCESS_NOT_ADMIN)

    def _person(self, viewer: Viewer) -> Person:
        if self._identities is None:
            self._refuse(viewer, Reason.IDENTITY_UNKNOWN, messages.ACCESS_IDENTITY_UNKNOWN)
        try:
            return self._identities.person(viewer.user)
        except IdentityUnavailable as exc:
            log.warning("users.info failed user=%s: %s", viewer.user or "-", exc)
            self._refuse(viewer, Reason.IDENTITY_UNKNOWN, messages.ACCESS_IDENTITY_UNKNOWN)

    def _outsider(self, viewer: Viewer, person: Person) -> bool:
        assert self._identities is not None  # _person refused already otherwise
        try:
            installation = self._identities.installation()
        except IdentityUnavailable as exc:
            log.warning("auth.test failed: %s", exc)
            self._refuse(viewer, Reason.IDENTITY_UNKNOWN, messages.ACCESS_IDENTITY_UNKNOWN)
        return installation.is_outsider(person)

    @staticmethod
    def _refuse(viewer: Viewer, reason: Reason, text: str) -> NoReturn:
        log_refused(reason, user=viewer.user, channel=viewer.channel)
        raise Refused(reason, text)

    # ----------------------------------------------------------------- channel limits

    def sight(self, channel: str) -> ChannelSight:
        """What `channel` sees now (everything without a limit)."""
        with session_scope(self.sessions) as session:
            limit = next((x for x in stored.all_limits(session) if x.channel == channel), None)
            index = self._campaigns(session)
            if limit is None:
                return _sight(index, channel, EVERYTHING, None, None)
            return _sight(index, channel, limit.sees, limit.set_by, limit.set_at)

    def limits(self) -> list[ChannelSight]:
        """Every limited channel, by channel id."""
        with session_scope(self.sessions) as session:
            index = self._campaigns(session)
            return [
                _sight(index, x.channel, x.sees, x.set_by, x.set_at)
                for x in stored.all_limits(session)
            ]

    def set_limit(self, channel: str, words: list[str], *, by: str) -> ChannelSight:
        """Replace the channel's limit with what `words` say; BadLimit says what to write."""
        try:
            sees = parse_limit(words)
        except LimitError as exc:
            raise BadLimit(str(exc)) from exc
        now = self._clock()
        with write_scope(self.sessions) as session:
            limit = stored.set_limit(session, channel, sees, by=by, now=now)
            index = self._campaigns(session)
            return _sight(index, channel, limit.sees, limit.set_by, limit.set_at)

    def clear(self, channel: str) -> bool:
        """Remove the channel's limit; False when it had none."""
        with write_scope(self.sessions) as session:
            return stored.clear_limit(session, channel)


def _sight(
    index: CampaignIndex,
    channel: str,
    sees: Visibility,
    set_by: str | None,
    set_at: datetime | None,
) -> ChannelSight:
    visible = sorted(
        (c.name for c in index.campaigns if sees.allows(c)), key=lambda name: name.lower()
    )
    return ChannelSight(channel, sees, set_by, set_at, len(visible), tuple(visible[:MAX_NAMED]))
