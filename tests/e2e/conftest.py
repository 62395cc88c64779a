"""`kpibot serve` for real on a local port, talking to a fake Slack over real HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
from slack_sdk.signature import SignatureVerifier

from bot import demo_data
from bot.importing.run import import_file
from storage.database import make_engine
from storage.schema import upgrade
from tests.conftest import FIVETRAN_SAMPLE, postgres_schema
from tests.support.fake_slack import FakeSlack

SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-e2e-token"
USER_ID = "U0E2E0001"
BULK_CAMPAIGNS = 60
NASTY_NAMES = (
    "<!channel> Promo",
    "<@U123> & Friends",
    "Cheap <http://evil.example|click>",
    "*NEW* _promo_",
)

NATIVE_HEADER = ",".join(demo_data.NATIVE_HEADER)


def write_extra_campaigns(path: Path) -> None:
    """Campaigns for lists, pagination, ambiguity and injection, beside the Fivetran sample."""
    lines = [NATIVE_HEADER]
    days = ("2025-08-10", "2025-08-11", "2025-08-12")
    for i in range(BULK_CAMPAIGNS):
        for day in days:
            lines.append(
                f"{day},bulk-{i},Bulk campaign {i:03d},google_ads,paid_search,DKK,"
                f"{1000 + i},{50 + i},{100 + i}.50,{i % 3},{5 + i % 7},{300 + 3 * i}.00,{i % 4}"
            )
    for i, name in enumerate(NASTY_NAMES):
        quoted = '"' + name.replace('"', '""') + '"'
        for day in days:
            lines.append(f"{day},nasty-{i},{quoted},meta_ads,social,EUR,900,40,80.00,2,3,150.00,1")
    for day in days:
        lines.append(f"{day},splash,Summer Splash,tiktok_ads,social,EUR,500,10,20.00,0,1,40.00,0")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServedApp:
    """The running `kpibot serve`, its fake Slack, and a way to talk to it as Slack does."""

    url: str
    slack: FakeSlack
    database_url: str
    secret: str = SIGNING_SECRET
    _counter: int = 0

    def next_response_name(self) -> str:
        """The name the next response_url will get, to script a failure for it."""
        return f"r{self._counter + 1}"

    def response_url(self) -> tuple[str, str]:
        self._counter += 1
        name = f"r{self._counter}"
        return name, self.slack.response_url(name)

    def post(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        secret: str | None = None,
        sign: bool = True,
    ) -> requests.Response:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign:
            stamp = str(int(time.time()) if timestamp is None else timestamp)
            verifier = SignatureVerifier(secret or self.secret)
            headers["X-Slack-Request-Timestamp"] = stamp
            headers["X-Slack-Signature"] = verifier.generate_signature(timestamp=stamp, body=body)
        return requests.post(
            f"{self.url}slack/events", data=body.encode(), headers=headers, timeout=10
        )

    def command_body(self, text: str, response_url: str) -> str:
        return urlencode(
            {
                "token": "legacy-verification-token",
                "team_id": "T1",
                "team_domain": "example",
                "channel_id": "C0E2E0001",
                "channel_name": "marketing",
                "user_id": USER_ID,
                "user_name": "lead",
                "command": "/kpi",
                "text": text,
                "response_url": response_url,
                "trigger_id": "1.2.3",
            }
        )

    def command(self, text: str) -> tuple[requests.Response, str]:
        """Send `/kpi text`; returns the HTTP response and the response_url's name."""
        name, url = self.response_url()
        return self.post(self.command_body(text, url)), name

    def press(self, action: dict[str, Any]) -> tuple[requests.Response, str]:
        """Press a button taken from a message kpibot produced."""
        name, url = self.response_url()
        payload = {
            "type": "block_actions",
            "team": {"id": "T1"},
            "user": {"id": USER_ID, "name": "lead"},
            "channel": {"id": "C0E2E0001"},
            "response_url": url,
            "trigger_id": "1.2.3",
            "actions": [
                {
                    "type": "button",
                    "action_id": action["action_id"],
                    "block_id": "b",
                    "value": action.get("value", ""),
                    "action_ts": "1",
                }
            ],
        }
        return self.post(urlencode({"payload": json.dumps(payload)})), name


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        element
        for block in message.get("blocks", [])
        if block.get("type") == "actions"
        for element in block.get("elements", [])
    ]


def message_text(message: dict[str, Any]) -> str:
    """Every text of a message, joined, for assertions on what the user reads."""
    return json.dumps(message, ensure_ascii=False)


def _wait_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"kpibot serve exited: {log.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}healthz", timeout=1).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"kpibot serve did not become healthy: {log.read_text()[-3000:]}")


def serve_env(database_url: str, slack: FakeSlack, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "KPIBOT_", "DATABASE_URL"))
    }
    env.update(
        DATABASE_URL=database_url,
        SLACK_API_URL=slack.url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        KPIBOT_DEFAULT_CURRENCY="USD",
        KPIBOT_LOG_LEVEL="INFO",
        **extra,
    )
    return env


def kpibot_executable() -> str:
    return str(Path(sys.executable).with_name("kpibot"))


def start_serve(
    stack: ExitStack, database_url: str, slack: FakeSlack, log: Path, **extra: str
) -> str:
    port = free_port()
    out = stack.enter_context(log.open("wb"))
    process = subprocess.Popen(
        [kpibot_executable(), "serve", "--port", str(port), "--workers", "2"],
        env=serve_env(database_url, slack, **extra),
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=log.parent,
    )

    def stop() -> None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    stack.callback(stop)
    url = f"http://127.0.0.1:{port}/"
    _wait_healthy(url, process, log)
    return url


def seed(database_url: str, folder: Path) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine)
        extra = folder / "extra.csv"
        write_extra_campaigns(extra)
        import_file(engine, FIVETRAN_SAMPLE, default_currency="USD")
        import_file(engine, extra, default_currency="USD")
    finally:
        engine.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServedApp]:
    folder = tmp_path_factory.mktemp(f"served-{request.param}")
    with ExitStack() as stack:
        if request.param == "sqlite":
            database_url = f"sqlite:///{folder / 'kpibot.db'}"
        else:
            database_url = stack.enter_context(postgres_schema())
        seed(database_url, folder)
        slack = stack.enter_context(FakeSlack())
        url = start_serve(stack, database_url, slack, folder / "serve.log")
        yield ServedApp(url, slack, database_url)


@pytest.fixture
def app(served: ServedApp) -> ServedApp:
    served.slack.reset()
    if not served.slack.is_up:
        served.slack.up()
    return served
