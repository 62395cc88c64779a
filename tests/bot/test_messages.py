"""What kpibot says: plurals and empty states."""

from __future__ import annotations

import pytest

from bot import messages


@pytest.mark.parametrize(
    ("count", "said"),
    [(0, "0 campaigns"), (1, "1 campaign"), (2, "2 campaigns"), (1234, "1,234 campaigns")],
)
def test_plurals_agree_with_the_count(count: int, said: str) -> None:
    assert messages.plural(count, "campaign") == said


def test_irregular_plurals_are_given() -> None:
    assert messages.plural(2, "campaign-day", "campaign-days") == "2 campaign-days"
    assert messages.plural(1, "entry", "entries") == "1 entry"


def test_left_out_campaigns_agree_in_number() -> None:
    assert messages.left_out_without(1, "CPA").startswith(
        "1 campaign with data in this period has no CPA"
    )
    assert messages.left_out_without(3, "CPA").startswith(
        "3 campaigns with data in this period have no CPA"
    )


def test_empty_states_say_what_is_empty_and_what_to_do() -> None:
    assert messages.NO_DATA_YET == "No data yet: import a file with `kpibot import FILE`."
    assert messages.no_campaign_contains("zzz") == (
        "No campaign's name contains “zzz”. `list` shows them all."
    )
