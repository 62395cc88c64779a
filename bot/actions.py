"""Button payloads: what a Share, Did-you-mean or Next button asks to be answered again."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from bot.periods import Grain, Period
from bot.query import Compare, QueryError

ACTION_SHARE = "kpi_share"
ACTION_PICK = "kpi_pick"
ACTION_PAGE = "kpi_page"


class PayloadError(QueryError):
    """A button value kpibot did not write (or no longer understands)."""

    def __init__(self, detail: str) -> None:
        super().__init__("This button is out of date. Run the `/kpi` command again.")
        self.detail = detail


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
                "g": self.period.grain.value,
                "td": int(self.period.to_date),
                "v": self.compare.value,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, value: str) -> CardRef:
        try:
            data = json.loads(value)
            # Grain and to-date decide what the card is compared with (`mtd`: the same days of
            # last month); buttons written before they were recorded are runs of days.
            period = Period(
                date.fromisoformat(data["s"]),
                date.fromisoformat(data["e"]),
                data["l"],
                Grain(data.get("g", Grain.DAY.value)),
                bool(data.get("td", 0)),
            )
            return cls(int(data["c"]), period, Compare(data["v"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadError(f"not a card reference: {value[:100]!r}") from exc


@dataclass(frozen=True, slots=True)
class PageRef:
    """A page of a list answer: the query text, the day it was asked on, and the page wanted."""

    query: str
    page: int
    as_of: date | None = None

    def encode(self) -> str:
        data: dict[str, object] = {"q": self.query, "p": self.page}
        if self.as_of is not None:
            data["t"] = self.as_of.isoformat()
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, value: str) -> PageRef:
        try:
            data = json.loads(value)
            as_of = date.fromisoformat(data["t"]) if "t" in data else None
            return cls(str(data["q"]), max(0, int(data["p"])), as_of)
        except (ValueError, KeyError, TypeError) as exc:
            raise PayloadError(f"not a page reference: {value[:100]!r}") from exc
