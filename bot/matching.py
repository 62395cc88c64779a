"""Find the campaign a user means: id, name, slug, unique prefix, whole words, then fuzzy."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.campaign import CampaignInfo, slugify

FUZZY_ACCEPT = 90.0
FUZZY_MARGIN = 8.0
FUZZY_SUGGEST = 55.0
WORD_TYPO = 75.0
MAX_CANDIDATES = 5


@dataclass(frozen=True, slots=True)
class Match:
    """The campaign meant, or the best candidates when it is unknown or ambiguous."""

    campaign: CampaignInfo | None
    candidates: tuple[CampaignInfo, ...] = ()
    how: str = ""

    @property
    def ambiguous(self) -> bool:
        return self.campaign is None and len(self.candidates) > 1

    @property
    def names_campaign(self) -> bool:
        """True when the text named a campaign (one, or several sharing that id, name or
        prefix), not when it merely resembles some."""
        return self.campaign is not None or (self.ambiguous and self.how != "fuzzy")


class CampaignIndex:
    """Campaigns looked up by id, name and slug; built once per set of campaigns, so a query
    costs dictionary look-ups rather than a scan of every campaign."""

    def __init__(self, campaigns: Sequence[CampaignInfo]) -> None:
        self.campaigns = list(campaigns)
        self.by_id = {c.id: c for c in self.campaigns}
        self._names = [c.name.lower() for c in self.campaigns]
        self._exact: dict[str, dict[str, list[CampaignInfo]]] = {
            "id": defaultdict(list),
            "id_lower": defaultdict(list),
            "name": defaultdict(list),
            "slug": defaultdict(list),
        }
        for campaign, lowered in zip(self.campaigns, self._names, strict=True):
            # A native CSV without campaign_id uses the name as the id: that is no id to
            # match first, or one of two campaigns with the same name would win silently.
            if campaign.external_id != campaign.name:
                self._exact["id"][campaign.external_id].append(campaign)
                self._exact["id_lower"][campaign.external_id.lower()].append(campaign)
            self._exact["name"][lowered].append(campaign)
            self._exact["slug"][campaign.slug].append(campaign)

    def match(self, text: str) -> Match:
        """Resolve free text to exactly one campaign, never silently to a different one."""
        wanted = text.strip()
        lowered = wanted.lower()
        slug = slugify(wanted)
        for how, table, key in (
            ("id", "id", wanted),
            ("id", "id_lower", lowered),
            ("name", "name", lowered),
            ("slug", "slug", slug),
        ):
            found = _decide(self._exact[table].get(key, []) if key else [], how)
            if found is not None:
                return found
        if slug:
            for how, hits in (
                ("prefix", [c for c in self.campaigns if c.slug.startswith(slug)]),
                # Whole words anywhere in the name: "school" finds "Back to School".
                ("words", [c for c in self.campaigns if f"-{slug}-" in f"-{c.slug}-"]),
            ):
                found = _decide(hits, how)
                if found is not None:
                    return found
        return _fuzzy(lowered, self.campaigns, self._names)


def _decide(hits: list[CampaignInfo], how: str) -> Match | None:
    if len(hits) == 1:
        return Match(hits[0], how=how)
    if len(hits) > 1:
        return Match(None, tuple(_ordered(hits)[:MAX_CANDIDATES]), how=how)
    return None


def match_campaign(text: str, campaigns: Sequence[CampaignInfo]) -> Match:
    """Resolve free text to exactly one campaign, never silently to a different one."""
    return CampaignIndex(campaigns).match(text)


def _ordered(hits: list[CampaignInfo]) -> list[CampaignInfo]:
    return sorted(hits, key=lambda c: (len(c.name), c.name.lower(), c.platform))


def _fuzzy(lowered: str, campaigns: Sequence[CampaignInfo], names: list[str]) -> Match:
    if not lowered or not campaigns:
        return Match(None)
    scored = process.extract(
        lowered, names, scorer=fuzz.WRatio, limit=MAX_CANDIDATES, score_cutoff=FUZZY_SUGGEST
    )
    if not scored:
        return Match(None)
    best_score = scored[0][1]
    runner_up = scored[1][1] if len(scored) > 1 else 0.0
    best = campaigns[scored[0][2]]
    if (
        best_score >= FUZZY_ACCEPT
        and best_score - runner_up >= FUZZY_MARGIN
        and _is_typo_of(lowered, names[scored[0][2]])
    ):
        return Match(best, how="fuzzy")
    return Match(None, tuple(campaigns[i] for _, _, i in scored), how="fuzzy")


def _is_typo_of(wanted: str, name: str) -> bool:
    """Only a misspelling of every word is answered for; "black friday de" is not a typo of
    "Black Friday DK", and "summer sale 2024" is not "Summer Sale" (WRatio scores both high)."""
    wanted_words, name_words = wanted.split(), name.split()
    if len(wanted_words) != len(name_words):
        return False
    return fuzz.ratio(wanted, name) >= WORD_TYPO and all(
        fuzz.ratio(a, b) >= WORD_TYPO for a, b in zip(wanted_words, name_words, strict=True)
    )
