"""The digest in a terminal: readable at 80 columns, names as typed, long lists cut."""

from __future__ import annotations

from rich.console import Console

from bot.digests.content import DigestContent, DigestPreview
from bot.render.digest_blocks import digest_message
from bot.render.digest_terminal import MAX_ROWS, render_digest
from tests.bot.render.test_digest_blocks import DAY, content, losers, mover, preview


def drawn(digest: DigestPreview, width: int = 80) -> str:
    console = Console(width=width, record=True)
    console.print(render_digest(digest))
    return console.export_text()


def test_shows_every_section_within_80_columns() -> None:
    text = drawn(preview(incomplete=("meta_ads 123",)))
    assert max(len(line) for line in text.splitlines()) <= 80
    for expected in (
        "Morning digest · Wed 2 Dec",
        "all campaigns · data through 2026-12-02 · weekdays at 08:00",
        "Data incomplete: meta_ads 123",
        "EUR",
        "€1,188.00",
        "+18.8%",
        "Month to date (since Tue 1 Dec): Spend €2,188.00 · ROAS 2.03×",
        "Top improvers",
        "Winter Boost",
        "+30.0 pp",
        "Top decliners",
        "Lost money yesterday (1 campaign)",
        "Money Pit",
    ):
        assert expected in text, expected


def test_names_are_shown_as_typed_and_long_ones_wrap() -> None:
    name = "[bold]<!channel>[/bold] " + "Scandinavia " * 12
    body = content(losing=(mover(5, name, spend=10, revenue=5, roi_week_ago=None),))
    text = drawn(preview(body))
    assert "[bold]<!channel>[/bold]" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_long_lists_are_cut() -> None:
    text = drawn(preview(content(losing=losers(5_000))))
    assert f"… and {5_000 - MAX_ROWS:,} more" in text
    assert "Loser 19" in text and "Loser 20 " not in text


def test_an_empty_scope_says_so() -> None:
    text = drawn(preview(DigestContent(DAY, (), (), (), ())))
    assert "No data for all campaigns on Wed 2 Dec" in text
    assert digest_message(preview())  # the same fixture renders for Slack too
