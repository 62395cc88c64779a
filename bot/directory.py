"""The campaigns, indexed for matching, and per channel limit the index of only what it may see.

Every answer, digest and alert resolves names through this, so "did you mean" candidates,
prefixes and fuzzy matches in a limited channel never include a campaign it may not see.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from sqlalchemy.orm import Session

from bot.access.model import EVERYTHING, Visibility
from bot.matching import CampaignIndex
from storage.access import limits_by_channel
from storage.metrics import all_campaigns, campaigns_fingerprint

Fingerprint = tuple[int, int, int]
MAX_VIEWS = 64
"""Visible indexes kept (one per distinct limit and campaign list); the oldest go first."""


class CampaignDirectory:
    """The campaigns, rebuilt only when the database says they changed, and their views."""

    def __init__(self, max_views: int = MAX_VIEWS) -> None:
        self._lock = threading.Lock()
        self._fingerprint: Fingerprint | None = None
        self._index = CampaignIndex([])
        self._views: OrderedDict[tuple[Fingerprint, Visibility], CampaignIndex] = OrderedDict()
        self._max_views = max_views

    def current(self, session: Session) -> CampaignIndex:
        """Every campaign (what the CLI without `--channel` and unlimited channels see)."""
        return self._current(session)[1]

    def visible(self, session: Session, sees: Visibility) -> CampaignIndex:
        """Only the campaigns `sees` allows, indexed on their own."""
        fingerprint, index = self._current(session)
        return self._view(fingerprint, index, sees)

    def views(self, session: Session) -> ChannelViews:
        """Every channel's view for one pass over many channels: limits read once."""
        fingerprint, index = self._current(session)
        return ChannelViews(self, fingerprint, index, limits_by_channel(session))

    def _current(self, session: Session) -> tuple[Fingerprint, CampaignIndex]:
        fingerprint = campaigns_fingerprint(session)
        with self._lock:
            if fingerprint == self._fingerprint:
                return fingerprint, self._index
        index = CampaignIndex(all_campaigns(session))
        with self._lock:
            self._fingerprint, self._index = fingerprint, index
        return fingerprint, index

    def _view(
        self, fingerprint: Fingerprint, index: CampaignIndex, sees: Visibility
    ) -> CampaignIndex:
        if not sees.limited:
            return index
        key = (fingerprint, sees)
        with self._lock:
            found = self._views.get(key)
            if found is not None:
                self._views.move_to_end(key)
                return found
        view = CampaignIndex([c for c in index.campaigns if sees.allows(c)])
        with self._lock:
            self._views[key] = view
            while len(self._views) > self._max_views:
                self._views.popitem(last=False)
        return view


class ChannelViews:
    """What each channel sees, from one read of the campaigns and of every channel limit."""

    def __init__(
        self,
        directory: CampaignDirectory,
        fingerprint: Fingerprint,
        index: CampaignIndex,
        limits: dict[str, Visibility],
    ) -> None:
        self._directory = directory
        self._fingerprint = fingerprint
        self.everything = index
        self.limits = limits

    def sees(self, channel: str | None) -> Visibility:
        return self.limits.get(channel, EVERYTHING) if channel else EVERYTHING

    def of(self, channel: str | None) -> CampaignIndex:
        return self._directory._view(self._fingerprint, self.everything, self.sees(channel))
