"""Find the campaign a user means: id, name, slug, unique prefix, whole words, then fuzzy."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def match_campaign(text: str, campaigns: Sequence[CampaignInfo]) -> Match:
    """Resolve free text to exactly one campaign, never silently to a different one."""
    wanted = text.strip()
    lowered = wanted.lower()
    slug = slugify(wanted)
    # A native CSV without campaign_id uses the name as the id: that is no id to match first,
    # or one of two campaigns with the same name would win silently.
    with_ids = [c for c in campaigns if c.external_id != c.name]
    steps: tuple[tuple[str, Callable[[CampaignInfo], bool]], ...] = (
        ("id", lambda c: c.external_id == wanted),
        ("id", lambda c: c.external_id.lower() == lowered),
        ("name", lambda c: c.name.lower() == lowered),
        ("slug", lambda c: c.slug == slug),
        ("prefix", lambda c: c.slug.startswith(slug)),
        # Whole words anywhere in the name: "school" finds "Back to School".
        ("words", lambda c: f"-{slug}-" in f"-{c.slug}-"),
    )
    for how, test in steps:
        pool = with_ids if how == "id" else campaigns
        if how != "id" and how != "name" and not slug:
            continue
        hits = [c for c in pool if test(c)]
        if len(hits) == 1:
            return Match(hits[0], how=how)
        if len(hits) > 1:
            return Match(None, tuple(_ordered(hits)[:MAX_CANDIDATES]), how=how)
    return _fuzzy(lowered, campaigns)


def _ordered(hits: list[CampaignInfo]) -> list[CampaignInfo]:
    return sorted(hits, key=lambda c: (len(c.name), c.name.lower(), c.platform))


def _fuzzy(lowered: str, campaigns: Sequence[CampaignInfo]) -> Match:
    if not lowered or not campaigns:
        return Match(None)
    names = [c.name.lower() for c in campaigns]
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
