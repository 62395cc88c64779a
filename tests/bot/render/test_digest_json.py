"""The digest as JSON: the documented shape, numbers as `kpibot kpi --json` writes them."""

from __future__ import annotations

import json

from bot.answers import Scope
from bot.digests.content import DigestContent
from bot.render.digest_json import digest_json
from bot.render.json_answer import kpis_json, scope_json
from tests.bot.render.test_digest_blocks import DAY, content, losers, mover, preview

EUR_DAY = {
    "spend": "1188.00",
    "revenue": "2435.40",
    "roas": "2.05",
    "roi": "1.05",
    "conversions": 54,
    "cpa": "22.00",
}


def test_document_has_the_documented_shape_and_exact_numbers() -> None:
    document = digest_json(preview(incomplete=("meta_ads 123",)))
    assert list(document) == [
        "subscription",
        "day",
        "data_through",
        "incomplete",
        "totals",
        "improvers",
        "decliners",
        "losing_money",
    ]
    assert document["subscription"] == {
        "id": 42,
        "channel": "C0123",
        "schedule": "weekdays at 08:00 Europe/Copenhagen",
        "scope": "all campaigns",
    }
    assert document["day"] == "2026-12-02"
    assert document["data_through"] == "2026-12-02"
    assert document["incomplete"] == {"missing": ["meta_ads 123"]}
    [eur] = document["totals"]
    assert eur == {
        "currency": "EUR",
        "kpis": EUR_DAY,
        "previous_day": {
            "spend": "1000.00",
            "revenue": "2000.00",
            "roas": "2",
            "roi": "1",
            "conversions": 40,
            "cpa": "25.00",
        },
        "week_ago": {
            "spend": "1320.00",
            "revenue": "2640.00",
            "roas": "2",
            "roi": "1",
            "conversions": 60,
            "cpa": "22.00",
        },
        "month_to_date": {"spend": "2188.00", "roas": "2.027148080438756855575868373"},
    }
    json.dumps(document)  # plain JSON all the way down


def test_rows_carry_the_campaign_scope_kpis_and_roi_against_a_week_earlier() -> None:
    document = digest_json(preview())
    assert document["improvers"] == [
        {
            "scope": {
                "type": "campaign",
                "id": "ext-1",
                "name": "Winter Boost",
                "platform": "meta_ads",
                "channel": "social",
            },
            "currency": "EUR",
            "kpis": {
                "spend": "100.00",
                "revenue": "150.00",
                "roas": "1.5",
                "roi": "0.5",
                "conversions": None,
                "cpa": None,
            },
            "roi_week_ago": "0.2",
            "roi_change": "0.3",
        }
    ]
    assert document["decliners"][0]["roi_change"] == "-0.3"
    [losing] = document["losing_money"]
    assert losing["roi_week_ago"] is None and losing["roi_change"] is None


def test_values_use_the_kpi_json_vocabulary() -> None:
    row = mover(9, "X", spend=100, revenue=150, roi_week_ago="0.2")
    document = digest_json(preview(content(improvers=(row,))))
    assert document["improvers"][0]["scope"] == scope_json(Scope.of(row.campaign))
    assert document["improvers"][0]["kpis"] == kpis_json(row.kpis)


def test_complete_data_is_null_and_every_loser_is_listed() -> None:
    document = digest_json(preview(content(losing=losers(5_000))))
    assert document["incomplete"] is None
    assert len(document["losing_money"]) == 5_000


def test_an_empty_digest_has_empty_lists() -> None:
    document = digest_json(preview(DigestContent(DAY, (), (), (), ())))
    assert document["totals"] == [] == document["improvers"] == document["losing_money"]
