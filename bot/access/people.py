"""users.info answers kept for a while, so admitting a request rarely costs a round trip."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta

from bot.access.identity import Identities, Installation, Person

MAX_PEOPLE = 4096
"""People remembered at once; the least recently asked about is forgotten first."""


class PeopleCache:
    """An Identities that asks the one behind it at most once per person per `ttl`.

    Thread-safe (answering threads share it) and bounded. Failures are never kept: the next
    request asks Slack again. The installation is asked once per process: it never changes
    while kpibot runs with the same token.
    """

    def __init__(
        self,
        source: Identities,
        ttl: timedelta,
        *,
        size: int = MAX_PEOPLE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._source = source
        self._ttl = ttl.total_seconds()
        self._size = max(1, size)
        self._clock = clock
        self._lock = threading.Lock()
        self._people: OrderedDict[str, tuple[float, Person]] = OrderedDict()
        self._installation: Installation | None = None

    def person(self, user: str) -> Person:
        now = self._clock()
        with self._lock:
            kept = self._people.get(user)
            # A clock that went back (asked "in the future") is no reason to trust an entry.
            if kept is not None and 0 <= now - kept[0] < self._ttl:
                self._people.move_to_end(user)
                return kept[1]
        person = self._source.person(user)  # outside the lock: one slow lookup blocks nobody
        with self._lock:
            self._people[user] = (now, person)
            self._people.move_to_end(user)
            while len(self._people) > self._size:
                self._people.popitem(last=False)
        return person

    def installation(self) -> Installation:
        with self._lock:
            if self._installation is not None:
                return self._installation
        installation = self._source.installation()
        with self._lock:
            self._installation = installation
        return installation
