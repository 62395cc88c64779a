"""`kpibot console`: the real Bolt app, driven from a terminal with signed requests."""

from __future__ import annotations

import contextlib
import json
import queue
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

from rich.console import Console
from slack_bolt import App, BoltRequest

from bot.composition import build
from bot.config import Settings
from bot.slack.app import create_app
from bot.slack.console_view import Button, render_message
from bot.slack.signing import signed_headers

USER_ID = "UCONSOLE1"
CHANNEL_ID = "CCONSOLE1"
TEAM_ID = "TCONSOLE1"
RESPONSE_WAIT_SECONDS = 10.0
# A stand-in token: the console's Slack is a local inbox, never the real Web API.
CONSOLE_TOKEN = "xoxb-console"  # noqa: S105

CONSOLE_HELP = """Type a slash command as you would in Slack, e.g.
  /kpi summer-sale 30d      /kpi top roas 30d      /kpi help
  press N   press button N of the last message
  quit      leave (Ctrl-D works too)"""


def _web_api_answer(method: str) -> dict[str, Any]:
    """What the console's Slack says: the one console user, a member and admin of its
    workspace (so every `/kpi`, and `/kpi access`, can be tried); `ok` for anything else."""
    if method == "users.info":
        user = {"id": USER_ID, "team_id": TEAM_ID, "name": "console", "is_admin": True}
        return {"ok": True, "user": user}
    if method == "auth.test":
        return {"ok": True, "team_id": TEAM_ID, "user_id": "UCONSOLEBOT", "bot_id": "BCONSOLE"}
    return {"ok": True}


class _Inbox(ThreadingHTTPServer):
    """Stands in for Slack on 127.0.0.1: takes Web API calls and response_url posts."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _InboxHandler)
        self.posts: queue.Queue[dict[str, Any]] = queue.Queue()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _InboxHandler(BaseHTTPRequestHandler):
    server: _Inbox

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        if self.path.startswith("/response/"):
            with contextlib.suppress(ValueError):
                self.server.posts.put(json.loads(raw or b"{}"))
            self._answer(b"ok", "text/plain")
            return
        answer = _web_api_answer(self.path.strip("/").removeprefix("api/"))
        self._answer(json.dumps(answer).encode(), "application/json")

    def _answer(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@contextmanager
def _inbox() -> Iterator[_Inbox]:
    server = _Inbox()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


class ConsoleSession:
    """Sends what the user types to the app, signed as Slack would, and draws the replies."""

    def __init__(self, app: App, secret: str, inbox: _Inbox, console: Console) -> None:
        self.app = app
        self.secret = secret
        self.inbox = inbox
        self.console = console
        self.buttons: list[Button] = []
        self._counter = 0

    def _response_url(self) -> str:
        self._counter += 1
        return f"{self.inbox.url}response/{self._counter}"

    def _dispatch(self, body: str, *, expect_post: bool) -> None:
        response = self.app.dispatch(
            BoltRequest(body=body, headers=signed_headers(self.secret, body))
        )
        if response.status != 200:
            self.console.print(f"[red]The app answered HTTP {response.status}.[/red]")
            return
        shown = False
        if response.body:
            try:
                self._show(json.loads(response.body))
                shown = True
            except ValueError:
                self.console.print(response.body, markup=False)
        if not shown or expect_post:
            self._wait_for_post()

    def _wait_for_post(self) -> None:
        try:
            message = self.inbox.posts.get(timeout=RESPONSE_WAIT_SECONDS)
        except queue.Empty:
            self.console.print("[yellow]No answer arrived.[/yellow]")
            return
        self._show(message)

    def _show(self, message: dict[str, Any]) -> None:
        renderable, self.buttons = render_message(message)
        self.console.print(renderable)

    def command(self, line: str) -> None:
        name, _, text = line.strip().partition(" ")
        body = urlencode(
            {
                "token": "console",
                "team_id": TEAM_ID,
                "channel_id": CHANNEL_ID,
                "user_id": USER_ID,
                "user_name": "console",
                "command": name,
                "text": text.strip(),
                "response_url": self._response_url(),
                "trigger_id": f"console.{secrets.token_hex(6)}",
            }
        )
        self._dispatch(body, expect_post=False)

    def press(self, number: int) -> None:
        button = next((b for b in self.buttons if b.number == number), None)
        if button is None:
            self.console.print(f"[yellow]There is no button {number} on the last message.[/yellow]")
            return
        payload = {
            "type": "block_actions",
            "team": {"id": TEAM_ID},
            "user": {"id": USER_ID, "name": "console"},
            "channel": {"id": CHANNEL_ID},
            "response_url": self._response_url(),
            "trigger_id": f"console.{secrets.token_hex(6)}",
            "actions": [
                {
                    "type": "button",
                    "action_id": button.action_id,
                    "block_id": button.block_id,
                    "value": button.value,
                    "action_ts": "0",
                }
            ],
        }
        self._dispatch(urlencode({"payload": json.dumps(payload)}), expect_post=True)

    def handle(self, line: str) -> bool:
        """One typed line; False when the user wants to leave."""
        stripped = line.strip()
        if not stripped:
            return True
        if stripped in ("quit", "exit", ":q"):
            return False
        if stripped in ("help", "?"):
            self.console.print(CONSOLE_HELP, markup=False)
        elif stripped.startswith("press"):
            number = stripped.removeprefix("press").strip()
            if number.isdigit():
                self.press(int(number))
            else:
                self.console.print("Say which button, e.g. `press 1`.", markup=False)
        elif stripped.startswith("/"):
            self.command(stripped)
        else:
            self.command("/kpi " + stripped)
        return True


def run_console(settings: Settings, read_line: Callable[[str], str] = input) -> None:
    """Interactive loop until quit or end of input."""
    console = Console()
    secret = secrets.token_hex(16)
    with _inbox() as inbox:
        local = replace(
            settings,
            slack_api_url=inbox.url,
            slack_bot_token=CONSOLE_TOKEN,
            slack_signing_secret=secret,
        )
        components = build(local)
        try:
            app = create_app(components, http_mode=True)
            session = ConsoleSession(app, secret, inbox, console)
            console.print(CONSOLE_HELP, markup=False)
            while True:
                try:
                    line = read_line("kpibot> ")
                except (EOFError, KeyboardInterrupt):
                    console.print()
                    break
                if not session.handle(line):
                    break
        finally:
            components.dispose()
