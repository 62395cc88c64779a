"""`kpibot demo`: a realistic SQLite database and a short tour, no Slack or server needed."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.demo_data import demo_campaigns, write_csv
from bot.importing.run import ImportSummary, import_file
from bot.periods import today_in
from storage.database import make_engine
from storage.schema import ensure_schema

DEMO_DB = "kpibot-demo.db"
DEMO_DAYS = 400
DEMO_SEED = 7

TOUR = (
    ("A campaign card", "summer-sale 30d"),
    ("The same, against last year", "summer-sale 30d vs last year"),
    ("A campaign whose ROI collapsed in the last three days", "retargeting-eu 3d"),
    ("The best campaigns by ROAS", "top roas 30d 5"),
    ("Totals per currency", "all 30d"),
)


def demo_url(folder: Path) -> str:
    return f"sqlite:///{(folder / DEMO_DB).resolve()}"


def build_demo(settings: Settings, folder: Path) -> ImportSummary:
    """Create or refresh the demo database; importing again replaces, so reruns are safe."""
    url = demo_url(folder)
    engine = make_engine(url)
    try:
        ensure_schema(engine, auto_upgrade=True)
        end = today_in(settings.tz) - timedelta(days=1)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "kpibot-demo.csv"
            write_csv(path, demo_campaigns(seed=DEMO_SEED), end, DEMO_DAYS, seed=DEMO_SEED)
            return import_file(engine, path, default_currency=settings.default_currency)
    finally:
        engine.dispose()
