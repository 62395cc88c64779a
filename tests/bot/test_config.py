from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import DEFAULT_DATABASE_URL, DEFAULT_SLACK_API_URL, Settings, SettingsError
from bot.kpi import Economics


def test_defaults() -> None:
    settings = Settings.from_mapping({})
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///kpibot.db"
    assert settings.timezone == "UTC"
    assert settings.tz == ZoneInfo("UTC")
    assert settings.default_currency == "USD"
    assert settings.gross_margin is None
    assert settings.purchases_per_customer == 1
    assert settings.ltv_margin == 1
    assert settings.economics == Economics()
    assert settings.slack_bot_token is None
    assert settings.slack_app_token is None
    assert settings.slack_signing_secret is None
    assert settings.slack_api_url == DEFAULT_SLACK_API_URL
    assert settings.log_level == "INFO"


def test_blank_values_mean_the_default() -> None:
    settings = Settings.from_mapping(
        {
            "DATABASE_URL": " ",
            "KPIBOT_TIMEZONE": "",
            "KPIBOT_GROSS_MARGIN": "",
            "KPIBOT_LTV_PURCHASES": "",
            "SLACK_BOT_TOKEN": "",
        }
    )
    assert settings == Settings.from_mapping({})


def test_every_setting_is_read() -> None:
    settings = Settings.from_mapping(
        {
            "DATABASE_URL": "postgresql+psycopg://u@h/db",
            "KPIBOT_TIMEZONE": "Europe/Copenhagen",
            "KPIBOT_DEFAULT_CURRENCY": "dkk",
            "KPIBOT_GROSS_MARGIN": "0.4",
            "KPIBOT_LTV_PURCHASES": "3.5",
            "KPIBOT_LTV_MARGIN": "0.6",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_APP_TOKEN": "xapp-1",
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": "http://127.0.0.1:9000/api",
            "KPIBOT_LOG_LEVEL": "debug",
        }
    )
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.tz == ZoneInfo("Europe/Copenhagen")
    assert settings.default_currency == "DKK"
    assert settings.economics == Economics(Decimal("0.4"), Decimal("3.5"), Decimal("0.6"))
    assert settings.slack_bot_token == "xoxb-1"
    assert settings.slack_app_token == "xapp-1"
    assert settings.slack_signing_secret == "secret"
    assert settings.slack_api_url == "http://127.0.0.1:9000/api/"
    assert settings.log_level == "DEBUG"


def test_secrets_are_not_in_the_repr() -> None:
    settings = Settings.from_mapping(
        {"SLACK_BOT_TOKEN": "xoxb-secret", "SLACK_SIGNING_SECRET": "s3"}
    )
    assert "xoxb-secret" not in repr(settings)
    assert "s3" not in repr(settings)


@pytest.mark.parametrize("value", ["Mars/Olympus", "Europe", "../etc/passwd", "CET+1"])
def test_bad_timezone_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="KPIBOT_TIMEZONE") as info:
        Settings.from_mapping({"KPIBOT_TIMEZONE": value})
    assert "IANA" in str(info.value)


@pytest.mark.parametrize("value", ["KRONER", "kr", "XYZ"])
def test_bad_currency_names_the_variable(value: str) -> None:
    with pytest.raises(SettingsError, match="KPIBOT_DEFAULT_CURRENCY") as info:
        Settings.from_mapping({"KPIBOT_DEFAULT_CURRENCY": value})
    assert "ISO 4217" in str(info.value)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KPIBOT_GROSS_MARGIN", "1.5", "fraction"),
        ("KPIBOT_GROSS_MARGIN", "0", "fraction"),
        ("KPIBOT_GROSS_MARGIN", "-0.2", "fraction"),
        ("KPIBOT_GROSS_MARGIN", "40%", "not a number"),
        ("KPIBOT_GROSS_MARGIN", "0,4", "not a number"),
        ("KPIBOT_GROSS_MARGIN", "NaN", "not a finite number"),
        ("KPIBOT_LTV_MARGIN", "2", "fraction"),
        ("KPIBOT_LTV_MARGIN", "abc", "not a number"),
        ("KPIBOT_LTV_PURCHASES", "0", "above 0"),
        ("KPIBOT_LTV_PURCHASES", "-1", "above 0"),
        ("KPIBOT_LTV_PURCHASES", "Infinity", "not a finite number"),
    ],
)
def test_bad_margin_and_ltv_settings_name_the_variable(name: str, value: str, message: str) -> None:
    with pytest.raises(SettingsError, match=name) as info:
        Settings.from_mapping({name: value})
    assert message in str(info.value)


def test_gross_margin_of_one_is_allowed() -> None:
    assert Settings.from_mapping({"KPIBOT_GROSS_MARGIN": "1"}).gross_margin == Decimal(1)


def test_env_file_is_honoured(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "KPIBOT_TIMEZONE=Europe/Copenhagen\nKPIBOT_DEFAULT_CURRENCY=EUR\n"
        "DATABASE_URL=sqlite:///from-dotenv.db\n",
        encoding="utf-8",
    )
    settings = Settings.from_env({}, env_file)
    assert settings.timezone == "Europe/Copenhagen"
    assert settings.default_currency == "EUR"
    assert settings.database_url == "sqlite:///from-dotenv.db"


def test_real_environment_wins_over_the_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KPIBOT_DEFAULT_CURRENCY=EUR\nKPIBOT_TIMEZONE=Europe/Copenhagen\n")
    settings = Settings.from_env({"KPIBOT_DEFAULT_CURRENCY": "DKK"}, env_file)
    assert settings.default_currency == "DKK"
    assert settings.timezone == "Europe/Copenhagen"


def test_missing_env_file_is_fine(tmp_path: Path) -> None:
    settings = Settings.from_env({"KPIBOT_DEFAULT_CURRENCY": "SEK"}, tmp_path / "nope.env")
    assert settings.default_currency == "SEK"
    assert Settings.from_env({}, None) == Settings.from_mapping({})


def test_bad_value_in_env_file_names_the_variable(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("KPIBOT_TIMEZONE=Nowhere/Atall\n")
    with pytest.raises(SettingsError, match="KPIBOT_TIMEZONE"):
        Settings.from_env({}, env_file)


def test_from_env_reads_os_environ_and_the_default_env_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("KPIBOT_LTV_PURCHASES=2\nKPIBOT_DEFAULT_CURRENCY=EUR\n")
    monkeypatch.setenv("KPIBOT_DEFAULT_CURRENCY", "NOK")
    settings = Settings.from_env()
    assert settings.default_currency == "NOK"
    assert settings.purchases_per_customer == Decimal(2)
