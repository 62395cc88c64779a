"""What kpibot knows about a campaign, independent of where it is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NON_WORD = re.compile(r"[^0-9a-z]+")


def slugify(text: str) -> str:
    """'Summer Sale!' → 'summer-sale' (Danish letters folded to ascii)."""
    folded = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    return _NON_WORD.sub("-", folded).strip("-")


@dataclass(frozen=True, slots=True)
class CampaignInfo:
    id: int
    external_id: str
    name: str
    platform: str
    account: str
    channel: str
    currency: str

    @property
    def slug(self) -> str:
        return slugify(self.name)
