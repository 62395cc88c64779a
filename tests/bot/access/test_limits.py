"""Channel limits through AccessService on SQLite and PostgreSQL: set, show, list, clear, the
campaigns a limit leaves visible, and the channel words `/kpi access` and the CLI accept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from bot import demo_data
from bot.access.model import MAX_VALUES
from bot.access.service import MAX_NAMED, AccessService, BadLimit
from bot.access.words import ChannelWordError, channel_of
from bot.composition import build
from bot.config import Settings
from bot.importing.run import import_file
from storage.database import make_engine
from storage.schema import upgrade

SET_AT = datetime(2026, 3, 30, 8, 15, tzinfo=UTC)
BRANDS = 12  # more than MAX_NAMED


def write_campaigns(path: Path) -> None:
    """12 Meta "Brand" campaigns in account 123, two Meta in 456, one Google in 123."""
    header = [*demo_data.NATIVE_HEADER, "account"]
    rows = [(f"brand-{i}", f"Brand {i:02d}", "meta_ads", "123") for i in range(BRANDS)]
    rows += [
        ("gen-1", "Generic One", "meta_ads", "456"),
        ("gen-2", "Generic Two", "meta_ads", "456"),
    ]
    rows += [("search-1", "Search Brand", "google_ads", "123")]
    lines = [",".join(header)]
    for campaign_id, name, platform, account in rows:
        lines.append(
            f"2025-08-10,{campaign_id},{name},{platform},social,USD,1000,50,100.00,0,5,300.00,1,"
            f"{account}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def access(database_url: str, tmp_path: Path) -> Iterator[AccessService]:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        write_campaigns(tmp_path / "campaigns.csv")
        import_file(engine, tmp_path / "campaigns.csv", default_currency="USD")
    finally:
        engine.dispose()
    components = build(Settings.from_mapping({"DATABASE_URL": database_url}))
    try:
        yield components.access
    finally:
        components.dispose()


def test_an_unlimited_channel_sees_every_campaign(access: AccessService) -> None:
    sight = access.sight("CNEW1")
    assert not sight.sees.limited
    assert (sight.visible, sight.set_by, sight.set_at) == (BRANDS + 3, None, None)
    assert access.limits() == []


def test_a_limit_is_echoed_with_what_it_leaves_visible(access: AccessService) -> None:
    with time_machine.travel(SET_AT, tick=False):
        sight = access.set_limit("CSALES1", ["platform", "meta_ads", "account", "456"], by="UADM")
    assert sight.sees.describe() == "platform meta_ads · account 456"
    assert (sight.visible, sight.named) == (2, ("Generic One", "Generic Two"))
    assert sight.set_by == "UADM"
    assert sight.set_at is not None and sight.set_at.astimezone(UTC) == SET_AT
    shown = access.sight("CSALES1")
    assert (shown.sees, shown.visible, shown.set_by) == (sight.sees, 2, "UADM")
    assert shown.set_at is not None and shown.set_at.replace(tzinfo=UTC) == SET_AT


def test_at_most_ten_visible_campaigns_are_named_in_order(access: AccessService) -> None:
    sight = access.set_limit("CBRAND1", ["campaign", "brand*"], by="UADM")
    # A pattern matches the whole name: `brand*` is not "Search Brand".
    assert sight.visible == BRANDS
    assert sight.named == tuple(f"Brand {i:02d}" for i in range(MAX_NAMED))


def test_setting_again_replaces_the_limit_and_clear_removes_it(access: AccessService) -> None:
    access.set_limit("CSALES2", ["platform", "google_ads"], by="U1")
    replaced = access.set_limit("CSALES2", ["account", "123"], by="U2")
    assert replaced.sees.describe() == "account 123"
    assert replaced.visible == BRANDS + 1
    assert [(s.channel, s.set_by) for s in access.limits()] == [("CSALES2", "U2")]
    assert access.clear("CSALES2") is True
    assert access.clear("CSALES2") is False
    assert not access.sight("CSALES2").sees.limited


def test_a_limit_that_matches_nothing_is_stored_and_says_so(access: AccessService) -> None:
    sight = access.set_limit("CEMPTY1", ["platform", "tiktok_ads"], by="U1")
    assert (sight.visible, sight.named) == (0, ())
    assert [s.channel for s in access.limits()] == ["CEMPTY1"]


def test_limits_are_listed_by_channel_with_their_own_counts(access: AccessService) -> None:
    access.set_limit("CZ1", ["platform", "google_ads"], by="U1")
    access.set_limit("CA1", ["campaign", "generic*"], by="U2")
    listed = [(s.channel, s.sees.describe(), s.visible) for s in access.limits()]
    assert listed == [("CA1", "campaigns generic*", 2), ("CZ1", "platform google_ads", 1)]


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ([], "Say what the channel may see"),
        (["meta_ads"], "is not a kind of limit"),
        (["platform"], "Say which platform"),
        (["account", ",", ","], "Say which account"),
        (["campaign", "x" * 200], "at most 128 printable characters"),
        (["account", ",".join(str(n) for n in range(MAX_VALUES + 1))], "At most 50 values"),
    ],
)
def test_bad_words_say_what_to_write_and_store_nothing(
    access: AccessService, words: list[str], says: str
) -> None:
    with pytest.raises(BadLimit) as bad:
        access.set_limit("CBAD1", words, by="U1")
    assert says in str(bad.value)
    assert bad.value.code == "bad_query"
    assert access.limits() == []


@pytest.mark.parametrize(
    ("word", "channel"),
    [
        ("here", "CHERE1"),
        ("HERE", "CHERE1"),
        ("<#C0123ABCD|marketing>", "C0123ABCD"),
        ("<#C0123ABCD>", "C0123ABCD"),
        ("#C0123ABCD", "C0123ABCD"),
        ("C0123ABCD", "C0123ABCD"),
        ("G0PRIVATE1", "G0PRIVATE1"),
    ],
)
def test_channel_words(word: str, channel: str) -> None:
    assert channel_of(word, "CHERE1") == channel


@pytest.mark.parametrize(
    ("word", "here", "says"),
    [
        ("#marketing", "C1", "cannot look up `#marketing` by name: write `here`"),
        ("marketing", "C1", "`marketing` is not a channel: write `here`"),
        ("<#marketing>", "C1", "is not a channel"),
        ("<!channel>", "C1", "is not a channel"),
        ("U0123ABCD", "C1", "is not a channel"),
        ("c0123abcd", "C1", "is not a channel"),
        ("here", None, "give the channel's ID instead"),
    ],
)
def test_words_that_name_no_usable_channel(word: str, here: str | None, says: str) -> None:
    with pytest.raises(ChannelWordError) as bad:
        channel_of(word, here)
    assert says in str(bad.value)
