"""Button payloads: what a Share, Did-you-mean or Next button asks to be answered again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from bot.periods import Period
from bot.query import Compare

ACTION_SHARE = "kpi_share"
ACTION_PICK = "kpi_pick"
ACTION_PAGE = "kpi_page"


class PayloadError(ValueError):
    """A button value kpibot did not write (or no longer understands)."""


@dataclass(frozen=True, slots=True)
class CardRef:
    """A campaign card to draw again: which campaign, which period, compared with what."""

    campaign_id: int
    period: Period
    compare: Compare

    def encode(self) -> str:
        return json.dumps(
            {
                "c": self.campaign_id,
                "s": self.period.start.isoformat(),
                "e": self.period.end.isoformat(),
                "l": self.period.label[:80],
                "v": self.compare.value,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, value: str) -> CardRef:
        try:
            data = json.loads(value)
            period = Period(date.fromisoformat(data["s"]), date.fromisoformat(data["e"]), data["l"])
            return cls(int(data["c"]), period, Compare(data["v"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadError(f"not a card reference: {value[:100]!r}") from exc


@dataclass(frozen=True, slots=True)
class PageRef:
    """A page of a list answer: the query text that made it and the page wanted."""

    query: str
    page: int

    def encode(self) -> str:
        return json.dumps({"q": self.query, "p": self.page}, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> PageRef:
        try:
            data = json.loads(value)
            return cls(str(data["q"]), max(0, int(data["p"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadError(f"not a page reference: {value[:100]!r}") from exc
