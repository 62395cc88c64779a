"""Who is asking: what kpibot needs to know about a person and its own installation (pure).

The facts come from Slack (users.info, auth.test) through the `Identities` port, so the access
rules can be tested with the fake Slack and the console can answer them locally.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Person:
    """One Slack user as users.info describes them."""

    user: str
    team: str
    enterprise: str | None = None
    restricted: bool = False
    """A multi-channel guest (`is_restricted`)."""
    ultra_restricted: bool = False
    """A single-channel guest (`is_ultra_restricted`)."""
    admin: bool = False
    """A workspace admin or owner (`is_admin`, `is_owner`, `is_primary_owner`)."""

    @property
    def guest(self) -> bool:
        return self.restricted or self.ultra_restricted


@dataclass(frozen=True, slots=True)
class Installation:
    """The workspace (and Enterprise Grid organisation, if any) kpibot is installed in."""

    team: str
    enterprise: str | None = None

    def is_outsider(self, person: Person) -> bool:
        """From another organisation (Slack Connect): another team, and on Enterprise Grid
        not the installation's organisation either (a colleague from a sibling workspace)."""
        if person.team and person.team == self.team:
            return False
        return not (self.enterprise and person.enterprise == self.enterprise)


class IdentityUnavailable(RuntimeError):
    """Slack could not say who someone is (down, rate limited, no such user): refuse."""


class Identities(Protocol):
    """The port: users.info and auth.test (bot.slack.poster.SlackPeople answers them).

    Both raise IdentityUnavailable when Slack cannot be asked or gives no usable answer.
    """

    def person(self, user: str) -> Person: ...

    def installation(self) -> Installation: ...
