"""`kpibot source add|list|remove|test` and `kpibot sync` through the command line, with a
remote CSV served over real HTTP by a local server that wants an auth header."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import func, select

from bot.cli import main
from storage.database import make_engine
from storage.models import DailyMetrics

SECRET = "Bearer s3cr3t-warehouse-token"
CSV = (
    "date,campaign_id,campaign,platform,currency,impressions,clicks,spend,conversions,revenue\n"
    "2026-03-09,w1,Warehouse One,Google Ads,EUR,1000,50,25.50,2,80.00\n"
    "2026-03-10,w1,Warehouse One,Google Ads,EUR,1200,60,30.25,3,99.99\n"
)


class _Files(ThreadingHTTPServer):
    body: bytes = CSV.encode()
    status: int = 200
    seen: list[dict[str, str]]


class _Handler(BaseHTTPRequestHandler):
    server: _Files

    def do_GET(self) -> None:
        self.server.seen.append(dict(self.headers))
        if self.headers.get("Authorization") != SECRET:
            self.send_response(401)
            self.end_headers()
            return
        self.send_response(self.server.status)
        self.send_header("Content-Type", "text/csv")
        self.send_header("Content-Length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def files() -> Iterator[_Files]:
    server = _Files(("127.0.0.1", 0), _Handler)
    server.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _isolated(clean_env: None) -> None:
    """A clean environment (tests/conftest.py)."""


def _cli(database_url: str, *args: str, **env: str) -> Result:
    return CliRunner().invoke(
        main,
        ["--db", database_url, *args],
        env={"COLUMNS": "1000", "KPIBOT_TIMEZONE": "UTC", **env},
        catch_exceptions=False,
    )


def _url(files: _Files) -> str:
    return f"http://127.0.0.1:{files.server_address[1]}/export.csv"


def test_a_csv_url_source_from_add_to_sync(database_url: str, files: _Files) -> None:
    added = _cli(
        database_url, "source", "add", "csv-url", "wh", "--url", _url(files), "--header-env", "WH"
    )
    assert added.exit_code == 0, added.output
    tested = _cli(database_url, "source", "test", "wh", WH=SECRET)
    assert tested.exit_code == 0, tested.output
    assert "native format, 1 campaigns, 2 rows; spend 55.75 EUR" in tested.stdout
    synced = _cli(database_url, "sync", "--json", WH=SECRET)
    assert synced.exit_code == 0, synced.output
    [run] = json.loads(synced.stdout)["runs"]
    assert run["ok"] and run["rows"] == 2 and run["source"] == "wh"
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            spend = connection.execute(select(func.sum(DailyMetrics.spend_micros))).scalar_one()
    finally:
        engine.dispose()
    assert spend == 55_750_000
    listed = json.loads(_cli(database_url, "source", "list", "--json").stdout)
    [source] = listed["sources"]
    assert source["status"] == "ok" and source["rows"] == 2
    assert source["secret_envs"] == {"header": "WH"}
    everything = added.output + tested.output + synced.output + json.dumps(listed)
    assert "s3cr3t" not in everything
    assert all(seen.get("Authorization") == SECRET for seen in files.seen)


def test_a_failing_csv_url_is_reported_and_listed(database_url: str, files: _Files) -> None:
    _cli(database_url, "source", "add", "csv-url", "wh", "--url", _url(files), "--header-env", "WH")
    unset = _cli(database_url, "sync", "wh")
    assert unset.exit_code == 1
    assert "WH" in unset.stderr and "not set" in unset.stderr
    refused = _cli(database_url, "sync", "wh", WH="Bearer wrong-token-value")
    assert refused.exit_code == 1 and "refused the credentials (HTTP 401)" in refused.stderr
    assert "wrong-token-value" not in refused.output
    listed = _cli(database_url, "source", "list")
    assert "failing since" in listed.stdout and "needs a new token" in listed.stdout
    files.status = 503
    down = _cli(database_url, "sync", "wh", WH=SECRET)
    assert down.exit_code == 1 and "HTTP 503" in down.stderr


def test_secrets_are_refused_as_option_values_and_never_echoed(database_url: str) -> None:
    token = "EAAGm0PX4ZCpsBA-looks-like-a-token"
    result = _cli(
        database_url, "source", "add", "meta", "fb", "--account", "act_123", "--token-env", token
    )
    assert result.exit_code == 2
    assert "NAME of the environment variable" in result.stderr
    assert token not in result.output


def test_add_list_remove(database_url: str) -> None:
    meta = _cli(
        database_url,
        "source",
        "add",
        "meta",
        "fb",
        "--account",
        "123",
        "--token-env",
        "META_T",
        "--lead-action",
        "lead",
    )
    assert meta.exit_code == 0, meta.output
    google = _cli(
        database_url,
        "source",
        "add",
        "google-ads",
        "ga",
        "--customer",
        "123-456-7890",
        "--login-customer",
        "1112223334",
        "--developer-token-env",
        "GA_DEV",
        "--client-id-env",
        "GA_ID",
        "--client-secret-env",
        "GA_SECRET",
        "--refresh-token-env",
        "GA_REFRESH",
    )
    assert google.exit_code == 0, google.output
    again = _cli(database_url, "source", "add", "meta", "fb", "--account", "1", "--token-env", "X")
    assert again.exit_code == 2 and "exists already" in again.stderr
    listed = json.loads(_cli(database_url, "source", "list", "--json").stdout)["sources"]
    assert [(s["name"], s["kind"], s["account"]) for s in listed] == [
        ("fb", "meta", "act_123"),
        ("ga", "google-ads", "1234567890"),
    ]
    assert listed[0]["options"] == {"lead_action": "lead", "purchase_action": "omni_purchase"}
    assert listed[1]["secret_envs"]["refresh_token"] == "GA_REFRESH"
    assert listed[0]["status"] == "never synced"
    removed = _cli(database_url, "source", "remove", "fb")
    assert removed.exit_code == 0
    assert _cli(database_url, "source", "remove", "fb").exit_code == 2
    bad_url = _cli(database_url, "source", "add", "csv-url", "x", "--url", "ftp://example.com/a")
    assert bad_url.exit_code == 2 and "https://" in bad_url.stderr
    plain_http = _cli(database_url, "source", "add", "csv-url", "x", "--url", "http://example.com")
    assert plain_http.exit_code == 2
