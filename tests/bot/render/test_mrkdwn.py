"""mrkdwn escaping: data text shows as typed, never pings or formats, and cuts stay whole."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.mrkdwn import ELLIPSIS, LOOKALIKES, SOFT_HYPHEN, cut, escape, escaped, unescape

ENTITY = re.compile(r"&(amp|lt|gt);")
# The lookalikes themselves are left out: `unescape` reads them as the markers they stand for.
_STAND_INS = {*LOOKALIKES.values(), SOFT_HYPHEN}
SLACK_TEXT = st.text(alphabet=st.sampled_from("&<>*_~`ab1 \n-:!@#"), max_size=60) | st.text(
    alphabet=st.characters(exclude_characters=_STAND_INS), max_size=60
)


def test_the_three_control_characters_become_entities() -> None:
    assert escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"


def test_formatting_markers_become_lookalikes_slack_does_not_parse() -> None:
    text = escape("*NEW* _promo_ ~old~ `code`")
    assert not set(text) & set("*_~`")
    assert unescape(text) == "*NEW* _promo_ ~old~ `code`"


@pytest.mark.parametrize("word", ["google_ads", "new_customers", "ltv_cac", "bulk_2025_q3"])
def test_an_underscore_inside_a_word_stays_so_it_can_be_copied_into_a_query(word: str) -> None:
    assert escape(word) == word


def test_a_quote_marker_at_the_start_of_a_line_cannot_open_a_quote() -> None:
    text = escape("> VIP\n> again")
    assert not re.search(r"(^|\n)&gt;", text)
    assert unescape(text) == "> VIP\n> again"


def test_our_own_sentences_can_keep_their_code_style() -> None:
    assert escape("`roaz` is not a KPI", code=True) == "`roaz` is not a KPI"


@given(SLACK_TEXT)
def test_escaped_text_never_formats_or_mentions_and_unescapes_to_itself(text: str) -> None:
    out = escape(text)
    assert "<" not in out
    assert ">" not in out
    assert not re.search(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])|[*~`]", out)
    assert all(ENTITY.match(out, m.start()) for m in re.finditer("&", out))
    assert unescape(out) == text


@given(SLACK_TEXT)
def test_a_cut_never_splits_an_entity_at_any_length(text: str) -> None:
    whole = escape(text)
    for limit in range(1, len(whole) + 1):
        out = escaped(text, limit)
        assert len(out) <= limit
        if out == whole:
            continue
        head = out.removesuffix(ELLIPSIS)
        assert out.endswith(ELLIPSIS)
        assert whole.startswith(head)
        assert all(ENTITY.match(head, m.start()) for m in re.finditer("&", head)), limit


def test_a_cut_at_every_length_of_a_name_full_of_ampersands() -> None:
    whole = escape("A&B & C<D>E" * 5)
    for limit in range(1, len(whole) + 2):
        head = cut(whole, limit).removesuffix(ELLIPSIS)
        assert all(ENTITY.match(head, m.start()) for m in re.finditer("&", head)), limit
