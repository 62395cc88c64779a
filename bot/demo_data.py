"""Deterministic, realistic demo campaign data in kpibot's native CSV format.

Used by ``kpibot demo`` and by the benchmarks. Everything is derived from
``random.Random`` seeded with the caller's seed, so the same arguments always give
the same rows. Money is computed in integer cents and written as exact decimals
("1234.56"); no float ever touches an amount.

The default set (``demo_campaigns()``) is a Copenhagen e-commerce team's mix of
channels, platforms and two currencies (mostly DKK, some EUR), with weekly and yearly
seasonality and day-to-day noise, plus two planted stories for the demo:

* ``COLLAPSING_CAMPAIGN``: conversions and revenue drop ~80 % over the three days
  ending at ``end`` while spend stays where it was;
* ``PAUSED_CAMPAIGN``: zero spend, impressions and clicks over its last 20 days and on
  a few earlier weekends (the rows are still there, full of zeros).
"""

from __future__ import annotations

import csv
import gzip as _gzip
import io
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

NATIVE_HEADER: tuple[str, ...] = (
    "date",
    "campaign_id",
    "campaign",
    "platform",
    "channel",
    "currency",
    "impressions",
    "clicks",
    "spend",
    "leads",
    "conversions",
    "revenue",
    "new_customers",
)

COLLAPSING_CAMPAIGN = "meta-retargeting-eu"
PAUSED_CAMPAIGN = "podcast-sponsored-podcast"

COLLAPSE_DAYS = 3
PAUSED_TAIL_DAYS = 20

# Weekday multipliers in per-mille, Monday first.
_WEEK_ECOM = (940, 950, 970, 980, 1020, 1080, 1160)
_WEEK_SEARCH = (1060, 1030, 1010, 1000, 930, 880, 1090)
_WEEK_B2B = (1180, 1200, 1170, 1120, 980, 380, 320)
_WEEK_EMAIL = (450, 3300, 650, 600, 520, 300, 280)  # the newsletter goes out on Tuesdays
_WEEK_FLAT = (1000, 1000, 1000, 1000, 1000, 1000, 1000)
_WEEK_ORGANIC = (1080, 1060, 1040, 1020, 960, 880, 960)

# Month multipliers in per-mille, January first (interpolated between mid-months).
_YEAR_STANDARD = (880, 900, 960, 980, 1000, 1010, 950, 980, 1000, 1050, 1260, 1150)
_YEAR_Q4 = (520, 520, 560, 600, 640, 650, 600, 650, 760, 1000, 2600, 1500)
_YEAR_SUMMER = (520, 520, 620, 720, 1050, 1900, 2000, 1300, 700, 600, 680, 700)
_YEAR_SPRING = (620, 900, 1600, 1800, 1500, 900, 700, 700, 700, 720, 800, 820)
_YEAR_FLAT = (980, 980, 990, 1000, 1000, 1000, 980, 990, 1000, 1010, 1040, 1030)


@dataclass(frozen=True, slots=True)
class DemoCampaign:
    """One generated campaign and the parameters its daily rows are drawn from."""

    external_id: str
    name: str
    platform: str
    channel: str
    currency: str
    base_spend_cents: int  # typical daily spend (budget) before seasonality and noise
    cpm_cents: int  # cost of 1,000 impressions
    ctr_bp: int  # clicks per 10,000 impressions
    cvr_bp: int  # conversions per 10,000 clicks
    lead_bp: int  # leads per 10,000 clicks (0: not a lead-gen campaign)
    aov_cents: int  # average revenue per conversion
    new_customer_pct: int  # share of conversions from new customers, 0..100
    commission_pm: int = 0  # >0: spend is this per-mille of revenue (affiliate commission)
    weekday_pm: tuple[int, ...] = _WEEK_ECOM  # Monday..Sunday, per-mille
    month_pm: tuple[int, ...] = _YEAR_STANDARD  # January..December, per-mille
    noise_pm: int = 180  # day-to-day volume noise amplitude, per-mille
    collapse_days: int = 0  # conversions/revenue collapse over the last N days
    paused_days: int = 0  # zero delivery over the last N days
    gap_every_weeks: int = 0  # zero delivery on the weekend of every Nth week (0: never)


@dataclass(frozen=True, slots=True)
class _Template:
    id_prefix: str
    name: str
    platform: str
    channel: str
    currency: str
    spend: int  # whole currency units per day
    cpm_cents: int
    ctr_bp: int
    cvr_bp: int
    lead_bp: int
    aov: int  # whole currency units
    new_pct: int
    commission_pm: int = 0
    week: tuple[int, ...] = _WEEK_ECOM
    year: tuple[int, ...] = _YEAR_STANDARD
    noise_pm: int = 180
    collapse: bool = False
    paused: bool = False


# The first 14 are the default demo; larger sets cycle through all of them.
# The two planted stories come first so every count >= 2 contains them.
# None of the first 14 lives on a thin margin: each either earns clearly (ROAS ~4 and up,
# with enough conversions a day that rounding is small) or clearly loses money (upper funnel,
# lead gen), so day-to-day noise never looks like the planted story: on the demo,
# `all roi drops 30%` fires for the collapsing campaign only, whatever day it is built
# (tests/bot/test_demo_alert_story.py).
_TEMPLATES: tuple[_Template, ...] = (
    _Template("meta", "Retargeting EU", "meta_ads", "social", "EUR",
              spend=420, cpm_cents=850, ctr_bp=140, cvr_bp=380, lead_bp=0, aov=70,
              new_pct=25, collapse=True),
    _Template("podcast", "Sponsored Podcast", "podcast_network", "sponsored", "DKK",
              spend=1800, cpm_cents=25000, ctr_bp=80, cvr_bp=500, lead_bp=0, aov=640,
              new_pct=80, week=_WEEK_FLAT, noise_pm=120, paused=True),
    _Template("gads", "Brand Search DK", "google_ads", "paid_search", "DKK",
              spend=2400, cpm_cents=30000, ctr_bp=1200, cvr_bp=500, lead_bp=0, aov=690,
              new_pct=35, week=_WEEK_SEARCH),
    _Template("meta", "Summer Sale", "meta_ads", "social", "DKK",
              spend=3200, cpm_cents=5200, ctr_bp=110, cvr_bp=500, lead_bp=0, aov=560,
              new_pct=55, year=_YEAR_SUMMER),
    _Template("gads", "Black Friday DK", "google_ads", "paid_search", "DKK",
              spend=2800, cpm_cents=20000, ctr_bp=650, cvr_bp=300, lead_bp=0, aov=820,
              new_pct=50, week=_WEEK_SEARCH, year=_YEAR_Q4),
    _Template("nl", "Newsletter Weekly", "newsletter", "email", "DKK",
              spend=90, cpm_cents=1200, ctr_bp=380, cvr_bp=300, lead_bp=0, aov=610,
              new_pct=8, week=_WEEK_EMAIL, year=_YEAR_FLAT, noise_pm=120),
    _Template("tiktok", "Influencer Spring", "tiktok_ads", "influencer", "DKK",
              spend=1500, cpm_cents=4200, ctr_bp=90, cvr_bp=70, lead_bp=450, aov=480,
              new_pct=70, year=_YEAR_SPRING, noise_pm=250),
    _Template("aff", "Affiliate Partners", "affiliate_network", "affiliate", "DKK",
              spend=1400, cpm_cents=2500, ctr_bp=160, cvr_bp=330, lead_bp=0, aov=590,
              new_pct=60, commission_pm=110),
    _Template("taboola", "Native Articles", "taboola", "native", "EUR",
              spend=500, cpm_cents=300, ctr_bp=45, cvr_bp=330, lead_bp=0, aov=85,
              new_pct=65, week=_WEEK_FLAT),
    _Template("seo", "SEO Content Hub", "google_search_console", "seo", "DKK",
              spend=650, cpm_cents=1500, ctr_bp=280, cvr_bp=190, lead_bp=0, aov=560,
              new_pct=60, week=_WEEK_ORGANIC, year=_YEAR_FLAT, noise_pm=100),
    _Template("yt", "YouTube Pre-roll", "google_ads", "video", "DKK",
              spend=1900, cpm_cents=7500, ctr_bp=35, cvr_bp=250, lead_bp=0, aov=650,
              new_pct=65),
    _Template("gads", "Display Prospecting EU", "google_ads", "display", "EUR",
              spend=260, cpm_cents=250, ctr_bp=25, cvr_bp=70, lead_bp=0, aov=90,
              new_pct=70),
    _Template("li", "LinkedIn B2B Lead Gen", "linkedin_ads", "social", "DKK",
              spend=1100, cpm_cents=32000, ctr_bp=90, cvr_bp=30, lead_bp=1100, aov=1500,
              new_pct=90, week=_WEEK_B2B, year=_YEAR_FLAT),
    _Template("web", "Pop-up Store Copenhagen", "manual", "other", "DKK",
              spend=1000, cpm_cents=3000, ctr_bp=150, cvr_bp=450, lead_bp=250, aov=380,
              new_pct=60, week=_WEEK_ECOM, noise_pm=300),
    _Template("tiktok", "TikTok Spark Ads", "tiktok_ads", "social", "DKK",
              spend=1300, cpm_cents=3600, ctr_bp=95, cvr_bp=170, lead_bp=0, aov=420,
              new_pct=72),
    _Template("meta", "Newsletter Signup Meta", "meta_ads", "social", "DKK",
              spend=700, cpm_cents=4800, ctr_bp=130, cvr_bp=60, lead_bp=1500, aov=500,
              new_pct=85),
    _Template("gads", "Shopping Feed DK", "google_ads", "paid_search", "DKK",
              spend=3600, cpm_cents=6000, ctr_bp=160, cvr_bp=280, lead_bp=0, aov=580,
              new_pct=45, week=_WEEK_SEARCH),
)  # fmt: skip


def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in out.split("-") if part)


def _jitter(rng: random.Random, value: int, spread_pm: int) -> int:
    """``value`` scaled by a uniform factor in [1 - spread, 1 + spread] (per-mille)."""
    factor = 1000 - spread_pm + rng.randrange(2 * spread_pm + 1)
    return max(1, value * factor // 1000)


def demo_campaigns(count: int = 14, seed: int = 7) -> list[DemoCampaign]:
    """``count`` campaigns with distinct names and ids; the same seed gives the same set.

    The first 14 are the demo team's campaigns; beyond that the mix repeats with
    numbered names ("Summer Sale #2") and freshly jittered parameters. Names, ids and
    the planted stories do not depend on the seed; the economics do.
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    rng = random.Random(f"kpibot-demo-campaigns:{seed}")  # noqa: S311 - not for security
    campaigns: list[DemoCampaign] = []
    width = len(_TEMPLATES)
    for index in range(count):
        tpl = _TEMPLATES[index % width]
        copy = index // width + 1
        name = tpl.name if copy == 1 else f"{tpl.name} #{copy}"
        external_id = f"{tpl.id_prefix}-{_slug(tpl.name)}"
        if copy > 1:
            external_id = f"{external_id}-{copy}"
        original = copy == 1
        campaigns.append(
            DemoCampaign(
                external_id=external_id,
                name=name,
                platform=tpl.platform,
                channel=tpl.channel,
                currency=tpl.currency,
                base_spend_cents=_jitter(rng, tpl.spend * 100, 250),
                cpm_cents=_jitter(rng, tpl.cpm_cents, 120),
                ctr_bp=_jitter(rng, tpl.ctr_bp, 150),
                cvr_bp=_jitter(rng, tpl.cvr_bp, 150),
                lead_bp=_jitter(rng, tpl.lead_bp, 150) if tpl.lead_bp else 0,
                aov_cents=_jitter(rng, tpl.aov * 100, 100),
                new_customer_pct=tpl.new_pct,
                commission_pm=tpl.commission_pm,
                weekday_pm=tpl.week,
                month_pm=tpl.year,
                noise_pm=tpl.noise_pm,
                collapse_days=COLLAPSE_DAYS if tpl.collapse and original else 0,
                paused_days=PAUSED_TAIL_DAYS if tpl.paused and original else 0,
                gap_every_weeks=6 if tpl.paused and original else 0,
            )
        )
    return campaigns


def _days_in_month(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - date(year, month, 1)).days


def _season_pm(month_pm: tuple[int, ...], day: date) -> int:
    """Month factor linearly interpolated between mid-months (continuous over the year)."""
    dim = _days_in_month(day.year, day.month)
    here = month_pm[day.month - 1]
    pos2 = 2 * (day.day - 1) + 1  # position in half-days; the middle is ``dim``
    if pos2 < dim:
        prev = month_pm[day.month - 2]  # index -1 wraps to December
        return (prev * (dim - pos2) + here * (dim + pos2)) // (2 * dim)
    nxt = month_pm[day.month % 12]
    return (here * (3 * dim - pos2) + nxt * (pos2 - dim)) // (2 * dim)


def _money(cents: int) -> str:
    units, rest = divmod(cents, 100)
    return f"{units}.{rest:02d}"


_ZERO_TAIL = ("0", "0", "0.00", "0", "0", "0.00", "0")
_M16 = 0xFFFF
_M8 = 0xFF
_RATE_DEN = 10_000 * 1000 * 256  # basis points x per-mille noise x 8-bit dither
# Day-to-day noise amplitudes of CTR, conversion rate and order value, per-mille (triangular).
# They multiply into ROAS: kept small so that a quiet day is not a 30 % ROI drop.
_CTR_NOISE_PM = 60
_CVR_NOISE_PM = 80
_AOV_NOISE_PM = 50


def iter_rows(
    campaigns: Sequence[DemoCampaign], end: date, days: int, seed: int = 7
) -> Iterator[tuple[str, ...]]:
    """One row per campaign per day for the ``days`` days ending at ``end`` (inclusive).

    Rows come by day (oldest first), then in ``campaigns`` order, as strings in
    ``NATIVE_HEADER`` order. Each day draws from its own ``Random(seed, day)``, so a
    given date's rows do not depend on ``days``.
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    start = end - timedelta(days=days - 1)
    ctr_amp, cvr_amp, aov_amp = _CTR_NOISE_PM, _CVR_NOISE_PM, _AOV_NOISE_PM
    profiles: dict[tuple[int, ...], int] = {}
    for c in campaigns:
        profiles.setdefault(c.month_pm, len(profiles))
    profile_list = list(profiles)
    prepared = [
        (
            (c.external_id, c.name, c.platform, c.channel, c.currency),
            profiles[c.month_pm],
            c,
        )
        for c in campaigns
    ]
    for offset in range(days):
        day = start + timedelta(days=offset)
        day_text = day.isoformat()
        weekday = day.weekday()
        ordinal = day.toordinal()
        days_left = (end - day).days  # 0 on ``end``
        gap_week = (ordinal // 7) if weekday >= 5 else -1
        seasons = [_season_pm(p, day) for p in profile_list]
        rng = random.Random(f"kpibot-demo-rows:{seed}:{ordinal}")  # noqa: S311 - not for security
        bits = rng.getrandbits
        for prefix, profile, c in prepared:
            r = bits(96)
            if days_left < c.paused_days or (
                c.gap_every_weeks and gap_week >= 0 and gap_week % c.gap_every_weeks == 0
            ):
                yield (day_text, *prefix, *_ZERO_TAIL)
                continue
            # Triangular noise in [-255, 255] from pairs of bytes.
            vol = (r & _M8) + (r >> 8 & _M8) - 255
            ctr_n = (r >> 16 & _M8) + (r >> 24 & _M8) - 255
            cvr_n = (r >> 32 & _M8) + (r >> 40 & _M8) - 255
            aov_n = (r >> 48 & _M8) + (r >> 56 & _M8) - 255
            u_click = r >> 64 & _M8
            u_conv = r >> 72 & _M8
            u_lead = r >> 80 & _M8
            u_new = r >> 88 & _M8
            day_pm = seasons[profile] * c.weekday_pm[weekday] // 1000
            noise = 1000 + vol * c.noise_pm // 255
            budget = c.base_spend_cents * day_pm * noise // 1_000_000
            impressions = budget * 1000 // c.cpm_cents
            clicks = (
                impressions * c.ctr_bp * (1000 + ctr_n * ctr_amp // 255) * 256
                + u_click * 10_000_000
            ) // _RATE_DEN
            if clicks > impressions:
                clicks = impressions
            conv_pm = 1000 + cvr_n * cvr_amp // 255
            if days_left < c.collapse_days:
                conv_pm //= 5
            conversions = (clicks * c.cvr_bp * conv_pm * 256 + u_conv * 10_000_000) // _RATE_DEN
            if conversions > clicks:
                conversions = clicks
            leads = 0
            if c.lead_bp:
                leads = (clicks * c.lead_bp * noise * 256 + u_lead * 10_000_000) // _RATE_DEN
            new_customers = (conversions * c.new_customer_pct * 256 + u_new * 100) // 25_600
            if new_customers > conversions:
                new_customers = conversions
            revenue = conversions * c.aov_cents * (1000 + aov_n * aov_amp // 255) // 1000
            spend = revenue * c.commission_pm // 1000 if c.commission_pm else budget
            yield (
                day_text,
                *prefix,
                str(impressions),
                str(clicks),
                _money(spend),
                str(leads),
                str(conversions),
                _money(revenue),
                str(new_customers),
            )


def write_csv(
    path: Path,
    campaigns: Sequence[DemoCampaign],
    end: date,
    days: int,
    seed: int = 7,
    gzip: bool = False,
) -> int:
    """Stream the rows to ``path`` (gzip-compressed when asked); return the data rows written.

    Gzip output carries no timestamp or file name, so the same arguments give the same bytes.
    """
    with path.open("wb") as raw:
        if gzip:
            with (
                _gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed,
                io.TextIOWrapper(packed, encoding="utf-8", newline="") as text,
            ):
                return _write_rows(text, campaigns, end, days, seed)
        with io.TextIOWrapper(raw, encoding="utf-8", newline="") as text:
            return _write_rows(text, campaigns, end, days, seed)


def _write_rows(
    out: io.TextIOWrapper, campaigns: Sequence[DemoCampaign], end: date, days: int, seed: int
) -> int:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(NATIVE_HEADER)
    count = 0
    for row in iter_rows(campaigns, end, days, seed):
        writer.writerow(row)
        count += 1
    return count
