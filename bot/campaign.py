"""What kpibot knows about a campaign, independent of where it is stored."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

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
    slug: str = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Computed once: the matcher compares slugs of every campaign on every query.
        object.__setattr__(self, "slug", slugify(self.name))
