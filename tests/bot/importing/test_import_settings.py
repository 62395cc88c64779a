"""The import settings: the date window and the locale, validated where they are read."""

from __future__ import annotations

from datetime import date

import pytest

from bot.config import Settings, SettingsError


def test_defaults() -> None:
    settings = Settings.from_mapping({})
    assert settings.import_earliest_date == date(2000, 1, 1)
    assert settings.import_max_days_ahead == 366
    assert settings.import_locale == "en"
    assert not settings.import_decimal_comma


def test_values() -> None:
    settings = Settings.from_mapping(
        {
            "KPIBOT_IMPORT_EARLIEST_DATE": " 2015-03-01 ",
            "KPIBOT_IMPORT_MAX_DAYS_AHEAD": "0",
            "KPIBOT_IMPORT_LOCALE": "DA",
        }
    )
    assert settings.import_earliest_date == date(2015, 3, 1)
    assert settings.import_max_days_ahead == 0
    assert settings.import_locale == "da"
    assert settings.import_decimal_comma


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "KPIBOT_IMPORT_EARLIEST_DATE",
            "01-03-2015",
            "KPIBOT_IMPORT_EARLIEST_DATE='01-03-2015' is not a date; write YYYY-MM-DD, "
            "e.g. 2000-01-01",
        ),
        (
            "KPIBOT_IMPORT_EARLIEST_DATE",
            "2015-02-30",
            "KPIBOT_IMPORT_EARLIEST_DATE='2015-02-30' is not a date",
        ),
        (
            "KPIBOT_IMPORT_MAX_DAYS_AHEAD",
            "a year",
            "KPIBOT_IMPORT_MAX_DAYS_AHEAD='a year' must be a whole number of days from 0 to "
            "3660 (default 366)",
        ),
        ("KPIBOT_IMPORT_MAX_DAYS_AHEAD", "-1", "must be a whole number of days from 0 to 3660"),
        ("KPIBOT_IMPORT_MAX_DAYS_AHEAD", "3661", "must be a whole number of days from 0 to 3660"),
        ("KPIBOT_IMPORT_MAX_DAYS_AHEAD", "9" * 5000, "must be a whole number of days"),
        (
            "KPIBOT_IMPORT_LOCALE",
            "da_DK",
            "KPIBOT_IMPORT_LOCALE='da_dk' must be en (`,`-separated, `.` decimals) or da",
        ),
        ("KPIBOT_DEFAULT_CURRENCY", "XXX", "KPIBOT_DEFAULT_CURRENCY: unknown currency code"),
    ],
)
def test_bad_values_name_the_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError) as info:
        Settings.from_mapping({name: value})
    assert message in str(info.value)
