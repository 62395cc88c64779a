"""HTTP mode: a WSGI app serving POST /slack/events (Bolt) and GET /healthz."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy.exc import SQLAlchemyError

from bot.composition import Components
from bot.slack.app import create_app
from storage.schema import current_revision

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger("kpibot.web")


class KpibotWsgi:
    """Routes /healthz to a database check and everything else to Bolt."""

    def __init__(self, components: Components) -> None:
        self.components = components
        self.slack = SlackRequestHandler(create_app(components, http_mode=True))

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") == "GET":
            return self._health(start_response)
        return self.slack(environ, start_response)

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            revision = current_revision(self.components.engine)
            status, document = "200 OK", {"status": "ok", "schema": revision}
        except SQLAlchemyError as exc:
            log.warning("health check failed: %s", exc.__class__.__name__)
            status, document = "503 Service Unavailable", {"status": "database unavailable"}
        body = json.dumps(document).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        return [body]
