from __future__ import annotations

import pytest

from bot.campaign import CampaignInfo, slugify
from bot.matching import MAX_CANDIDATES, match_campaign


def _campaign(
    id: int, external_id: str, name: str, platform: str = "google_ads", currency: str = "USD"
) -> CampaignInfo:
    return CampaignInfo(id, external_id, name, platform, "acc", "paid_search", currency)


SUMMER_SALE = _campaign(1, "CAM102", "Summer Sale", "facebook_ads")
SUMMER_LAUNCH = _campaign(2, "CAM300", "Summer Launch")
BACK_TO_SCHOOL = _campaign(3, "CAM101", "Back to School")
AWARENESS = _campaign(4, "CAM201", "Awareness Push", "tiktok_ads")
FORAAR = _campaign(5, "Forår DK", "Forår DK", "meta_ads", "DKK")
CAMPAIGNS = [SUMMER_SALE, SUMMER_LAUNCH, BACK_TO_SCHOOL, AWARENESS, FORAAR]


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Summer Sale!", "summer-sale"),
        ("  Back to  School ", "back-to-school"),
        ("Forår DK", "foraar-dk"),
        ("Rød/Grøn ÆBLE", "roed-groen-aeble"),
        ("---", ""),
    ],
)
def test_slugify(name: str, slug: str) -> None:
    assert slugify(name) == slug


def test_matches_the_external_id() -> None:
    match = match_campaign("CAM101", CAMPAIGNS)
    assert match.campaign == BACK_TO_SCHOOL
    assert match.how == "id"


def test_matches_the_external_id_case_insensitively() -> None:
    assert match_campaign("cam101", CAMPAIGNS).campaign == BACK_TO_SCHOOL


def test_exact_id_wins_over_names() -> None:
    named_like_an_id = _campaign(9, "X1", "CAM101 retired")
    assert match_campaign("CAM101", [*CAMPAIGNS, named_like_an_id]).campaign == BACK_TO_SCHOOL


def test_matches_the_exact_name_case_insensitively() -> None:
    match = match_campaign("SUMMER sale", CAMPAIGNS)
    assert match.campaign == SUMMER_SALE
    assert match.how == "name"


def test_matches_the_slug() -> None:
    match = match_campaign("summer-sale", CAMPAIGNS)
    assert match.campaign == SUMMER_SALE
    assert match.how == "slug"


def test_slug_folds_danish_letters() -> None:
    assert match_campaign("foraar-dk", CAMPAIGNS).campaign == FORAAR
    assert match_campaign("forår dk", CAMPAIGNS).campaign == FORAAR


def test_matches_a_unique_prefix() -> None:
    match = match_campaign("back to", CAMPAIGNS)
    assert match.campaign == BACK_TO_SCHOOL
    assert match.how == "prefix"
    assert match_campaign("aware", CAMPAIGNS).campaign == AWARENESS


def test_matches_a_typo_fuzzily() -> None:
    match = match_campaign("sumer sale", CAMPAIGNS)
    assert match.campaign == SUMMER_SALE
    assert match.how == "fuzzy"
    assert match_campaign("summer sael", CAMPAIGNS).campaign == SUMMER_SALE
    assert match_campaign("summr launch", CAMPAIGNS).campaign == SUMMER_LAUNCH


def test_ambiguous_prefix_gives_candidates_and_no_campaign() -> None:
    match = match_campaign("summer", CAMPAIGNS)
    assert match.campaign is None
    assert match.ambiguous
    assert set(match.candidates) == {SUMMER_SALE, SUMMER_LAUNCH}


def test_same_name_on_two_platforms_is_ambiguous() -> None:
    google_sale = _campaign(7, "G-55", "Summer Sale", "google_ads")
    campaigns = [*CAMPAIGNS, google_sale]
    for text in ("Summer Sale", "summer-sale", "summer sale"):
        match = match_campaign(text, campaigns)
        assert match.campaign is None, text
        assert match.ambiguous, text
        assert set(match.candidates) == {SUMMER_SALE, google_sale}, text


def test_a_name_used_as_id_does_not_beat_a_same_named_campaign() -> None:
    # A native CSV without campaign_id stores the name as the external id.
    native = _campaign(11, "Summer Sale", "Summer Sale", "csv")
    match = match_campaign("summer sale", [*CAMPAIGNS, native])
    assert match.campaign is None
    assert set(match.candidates) == {SUMMER_SALE, native}
    assert match_campaign("Forår DK", CAMPAIGNS).campaign == FORAAR


def test_same_id_on_two_platforms_is_ambiguous() -> None:
    twin = _campaign(8, "CAM101", "Back to School EU", "microsoft_ads")
    match = match_campaign("CAM101", [*CAMPAIGNS, twin])
    assert match.campaign is None
    assert set(match.candidates) == {BACK_TO_SCHOOL, twin}


def test_unknown_text_gives_candidates_but_no_campaign() -> None:
    match = match_campaign("winter sale", CAMPAIGNS)
    assert match.campaign is None
    assert not match.ambiguous or len(match.candidates) > 1
    assert SUMMER_SALE in match.candidates
    assert len(match.candidates) <= MAX_CANDIDATES


def test_nothing_alike_gives_no_candidates() -> None:
    match = match_campaign("zzzqqq", CAMPAIGNS)
    assert match.campaign is None
    assert match.candidates == ()
    assert not match.ambiguous


def test_no_campaigns_at_all() -> None:
    match = match_campaign("summer sale", [])
    assert match.campaign is None
    assert match.candidates == ()


@pytest.mark.parametrize("text", ["", "   ", "!!!"])
def test_empty_text_matches_nothing(text: str) -> None:
    assert match_campaign(text, CAMPAIGNS).campaign is None


@pytest.mark.parametrize(
    "text",
    [
        "summer",  # two campaigns start with it
        "winter sale",  # a different campaign with a similar name
        "summer sale 2024",  # names a campaign that does not exist
        "summer sale eu",
    ],
)
def test_never_silently_a_different_campaign(text: str) -> None:
    match = match_campaign(text, CAMPAIGNS)
    assert match.campaign is None, f"{text!r} answered for {match.campaign}"


def test_a_distinctive_part_of_a_name_matches() -> None:
    retargeting = _campaign(10, "meta-retargeting-eu", "Retargeting EU", "meta_ads")
    assert match_campaign("retargeting", [*CAMPAIGNS, retargeting]).campaign == retargeting
    assert match_campaign("school", CAMPAIGNS).campaign == BACK_TO_SCHOOL


def test_an_extra_letter_is_still_a_typo() -> None:
    assert match_campaign("summmer sale", CAMPAIGNS).campaign == SUMMER_SALE


def test_candidates_are_capped() -> None:
    many = [_campaign(i, f"S{i}", f"Sale {i:02d}") for i in range(12)]
    match = match_campaign("sale", many)
    assert match.campaign is None
    assert len(match.candidates) == MAX_CANDIDATES


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("black friday de", "Black Friday DK"),
        ("display prospecting dk", "Display Prospecting EU"),
        ("brand search de", "Brand Search DK"),
    ],
)
def test_a_different_market_is_never_answered_for_silently(text: str, stored: str) -> None:
    campaign = _campaign(20, "x-20", stored)
    match = match_campaign(text, [*CAMPAIGNS, campaign])
    assert match.campaign is None
    assert campaign in match.candidates


def test_whole_words_inside_a_name_match_when_unique() -> None:
    assert match_campaign("to school", CAMPAIGNS).campaign == BACK_TO_SCHOOL
    assert match_campaign("push", CAMPAIGNS).campaign == AWARENESS


def test_the_external_id_is_tried_before_the_exact_name() -> None:
    # One campaign's id is another's name: whoever typed an id meant that campaign.
    by_id = _campaign(30, "Brand Search", "Q3 Promo")
    by_name = _campaign(31, "B-31", "Brand Search")
    for campaigns in ([by_id, by_name], [by_name, by_id]):
        exact = match_campaign("Brand Search", campaigns)
        assert (exact.campaign, exact.how) == (by_id, "id")
        lowered = match_campaign("brand search", campaigns)
        assert (lowered.campaign, lowered.how) == (by_id, "id")
    assert match_campaign("q3 promo", [by_id, by_name]).campaign == by_id


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("summer sale", True),  # one campaign
        ("summer", True),  # two share the prefix
        ("winter sale", False),  # merely resembles some
        ("zzzqqq", False),
    ],
)
def test_names_campaign_only_when_the_text_names_one_not_when_it_resembles(
    text: str, names: bool
) -> None:
    assert match_campaign(text, CAMPAIGNS).names_campaign is names
