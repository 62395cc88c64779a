"""The latency floor of the HTTP stack: a Bolt app whose only listener acknowledges at once.

Served by benchmarks/kpi_latency.py exactly as `kpibot serve` serves kpibot (gunicorn,
gthread worker, 8 threads, Bolt's WSGI adapter, signature verification on, a local
authorize function, process_before_response=True), with no database and no logging:

    BENCH_SIGNING_SECRET=… gunicorn --chdir benchmarks -k gthread --threads 8 noop_app:app
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.authorization import AuthorizeResult

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

TOKEN = "xoxb-bench-noop"


def _authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
    return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=TOKEN)


bolt = App(
    signing_secret=os.environ["BENCH_SIGNING_SECRET"],
    authorize=_authorize,
    process_before_response=True,
)


@bolt.command("/noop")
def noop(ack: Ack, command: dict[str, Any]) -> None:
    ack("ok")


_slack = SlackRequestHandler(bolt)


def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/healthz":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"ok"]
    return _slack(environ, start_response)
