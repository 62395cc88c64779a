"""The 14-day trend chart: a small PNG when there is a trend, none without."""

from __future__ import annotations

import struct
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from bot.render.digest_chart import trend_png
from tests.bot.render.test_digest_blocks import preview

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    return width, height


def test_a_trend_gives_an_800_by_300_png() -> None:
    png = trend_png(preview())
    assert png is not None
    assert png.startswith(PNG_MAGIC)
    assert size(png) == (800, 300)


def test_each_currency_gets_its_own_panel() -> None:
    digest = preview()
    both = replace(digest, trend=(*digest.trend, ("DKK", digest.trend[0][1])))
    png = trend_png(both)
    assert png is not None and size(png) == (800, 600)


def test_spend_alone_when_revenue_is_not_measured() -> None:
    png = trend_png(replace(preview(), revenue_trend=()))
    assert png is not None and png.startswith(PNG_MAGIC)


def test_no_trend_gives_no_chart() -> None:
    assert trend_png(replace(preview(), trend=(), revenue_trend=())) is None
    assert trend_png(replace(preview(), trend=(("EUR", ()),))) is None


def test_threads_can_draw_at_once() -> None:
    with ThreadPoolExecutor(4) as pool:
        pngs = list(pool.map(lambda _: trend_png(preview()), range(8)))
    assert all(png is not None and png.startswith(PNG_MAGIC) for png in pngs)
