"""What a channel may see: the pure part of access (no SQL, no Slack).

A channel limit is up to three lists: platforms, ad accounts and campaign name patterns. A
campaign is visible when it matches every list that is set (any value within a list): with
`platform meta_ads account 123` only account 123's Meta campaigns are visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

from bot.campaign import CampaignInfo
from bot.channels import platform_slug

KINDS = ("platform", "account", "campaign")
_HEADS = {
    "platform": "platform",
    "platforms": "platform",
    "account": "account",
    "accounts": "account",
    "campaign": "campaign",
    "campaigns": "campaign",
}
MAX_VALUES = 50
MAX_VALUE_CHARS = 128
LIMIT_EXAMPLE = "`platform meta_ads account 123`, `platform google_ads` or `campaign brand*`"


class LimitError(ValueError):
    """Limit words kpibot cannot read; the message says what to write instead."""


@dataclass(frozen=True, slots=True)
class Visibility:
    """The campaigns an answer may show. Empty lists mean "any"; EVERYTHING is no limit."""

    platforms: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()
    campaigns: tuple[str, ...] = ()
    """Lower-case glob patterns (`brand*`), matched against the name and its slug."""

    @property
    def limited(self) -> bool:
        return bool(self.platforms or self.accounts or self.campaigns)

    def allows(self, campaign: CampaignInfo) -> bool:
        if self.platforms and campaign.platform not in self.platforms:
            return False
        if self.accounts and campaign.account.lower() not in self.accounts:
            return False
        if self.campaigns:
            name = campaign.name.lower()
            return any(
                fnmatchcase(name, p) or fnmatchcase(campaign.slug, p) for p in self.campaigns
            )
        return True

    def describe(self) -> str:
        """`platform meta_ads · account 123 · campaigns brand*`; "everything" without a limit."""
        parts = []
        if self.platforms:
            parts.append("platform " + ", ".join(sorted(self.platforms)))
        if self.accounts:
            parts.append("account " + ", ".join(sorted(self.accounts)))
        if self.campaigns:
            parts.append("campaigns " + ", ".join(self.campaigns))
        return " · ".join(parts) or "everything"

    def words(self) -> str:
        """The limit as `access` words that parse back to it."""
        parts = []
        if self.platforms:
            parts.append("platform " + ", ".join(sorted(self.platforms)))
        if self.accounts:
            parts.append("account " + ", ".join(sorted(self.accounts)))
        if self.campaigns:
            parts.append("campaign " + ", ".join(self.campaigns))
        return " ".join(parts)


EVERYTHING = Visibility()


def parse_limit(words: list[str]) -> Visibility:
    """`platform meta_ads account 123 campaign brand*, Summer Sale` → a Visibility.

    After each kind come its values, separated by commas (a value may have spaces: a campaign
    name, `google ads`); a kind may come again. LimitError says what to write instead.
    """
    if not words:
        raise LimitError(f"Say what the channel may see, e.g. {LIMIT_EXAMPLE}.")
    segments: list[tuple[str, list[str]]] = []
    for word in words:
        head = _HEADS.get(word.lower())
        if head is not None:
            segments.append((head, []))
        elif not segments:
            raise LimitError(
                f"`{word[:40]}` is not a kind of limit: start with platform, account or "
                f"campaign, e.g. {LIMIT_EXAMPLE}."
            )
        else:
            segments[-1][1].append(word)
    found: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for kind, values in segments:
        named = [v for v in " ".join(values).split(",") if v.strip()]
        if not named:
            raise LimitError(f"Say which {kind}, e.g. {LIMIT_EXAMPLE}.")
        found[kind].extend(_value(kind, v) for v in named)
    for kind, values in found.items():
        if len(values) > MAX_VALUES:
            raise LimitError(f"At most {MAX_VALUES} values per kind; {kind} has {len(values)}.")
    return Visibility(
        frozenset(found["platform"]),
        frozenset(found["account"]),
        tuple(dict.fromkeys(found["campaign"])),
    )


def _value(kind: str, text: str) -> str:
    value = " ".join(text.split()).strip("`\"'“”")
    if not value or len(value) > MAX_VALUE_CHARS or not value.isprintable():
        raise LimitError(
            f"`{text.strip()[:40]}` is not a {kind}: at most {MAX_VALUE_CHARS} printable "
            "characters."
        )
    return platform_slug(value) if kind == "platform" else value.lower()
