"""Channel types (BRIEF §1) and platform names, normalised to stable slugs."""

from __future__ import annotations

import re

CHANNELS: tuple[str, ...] = (
    "affiliate",
    "native",
    "sponsored",
    "social",
    "paid_search",
    "seo",
    "influencer",
    "email",
    "display",
    "video",
    "other",
)

_CHANNEL_ALIASES = {
    "search": "paid_search",
    "paid-search": "paid_search",
    "paid search": "paid_search",
    "sem": "paid_search",
    "ppc": "paid_search",
    "social media": "social",
    "sponsored content": "sponsored",
    "native advertising": "native",
    "e-mail": "email",
    "newsletter": "email",
}

# Fivetran's ad_reporting has no channel: infer it from the platform.
_PLATFORM_CHANNEL = {
    "google_ads": "paid_search",
    "microsoft_ads": "paid_search",
    "bing_ads": "paid_search",
    "apple_search_ads": "paid_search",
    "amazon_ads": "paid_search",
    "facebook_ads": "social",
    "meta_ads": "social",
    "instagram_ads": "social",
    "tiktok_ads": "social",
    "linkedin_ads": "social",
    "snapchat_ads": "social",
    "pinterest_ads": "social",
    "twitter_ads": "social",
    "reddit_ads": "social",
    "youtube_ads": "video",
    "dv360": "display",
}

_NON_WORD = re.compile(r"[^0-9a-z]+")


def platform_slug(name: str) -> str:
    """'Google Ads' → 'google_ads'."""
    return _NON_WORD.sub("_", name.strip().lower()).strip("_")


def normalize_channel(text: str) -> str | None:
    """A known channel slug for this text, or None when it is not a channel type."""
    lowered = text.strip().lower()
    if lowered in _CHANNEL_ALIASES:
        return _CHANNEL_ALIASES[lowered]
    slug = platform_slug(lowered)
    return slug if slug in CHANNELS else None


def channel_for_platform(platform: str) -> str:
    return _PLATFORM_CHANNEL.get(platform, "other")
