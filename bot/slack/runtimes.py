"""The ways kpibot meets Slack: Socket Mode (`kpibot run`), HTTP (`kpibot serve`), and the
digest scheduler (`kpibot scheduler`, also inside `kpibot run`; never in `serve`'s workers)."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Any

from bot.composition import Components, build
from bot.config import Settings
from bot.scheduling import DigestScheduler, run_until_signalled
from bot.slack.app import SlackSetupError, create_app

log = logging.getLogger("kpibot")


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # slack_sdk logs retried URLs (a response_url is a bearer credential) at INFO and bodies
    # at DEBUG; Bolt logs unverified request bodies at INFO. Keep both to warnings.
    logging.getLogger("slack_sdk").setLevel(logging.WARNING)
    logging.getLogger("slack_bolt").setLevel(logging.WARNING)
    logging.getLogger("kpibot.bolt").setLevel(logging.WARNING)
    # APScheduler logs every job start and finish at INFO; kpibot.scheduler logs the outcome.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def run_socket_mode(settings: Settings) -> None:
    """Connect over a websocket with the app token; no public URL needed."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    app_token = settings.slack_app_token
    if not app_token:
        raise SlackSetupError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs the app-level token (xapp-…). "
            "See README, 'Connect a Slack workspace'."
        )
    components = build(settings, auto_upgrade=False)
    app = create_app(components, http_mode=False)
    # One process, so the digests run here too; the ledger keeps it safe beside a worker.
    scheduler = _scheduler(components)
    # SIGTERM as SystemExit, so the scheduler below shuts down (a delivery finishes first).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    scheduler.start()
    try:
        log.info("kpibot connecting to Slack in Socket Mode")
        SocketModeHandler(app, app_token).start()  # type: ignore[no-untyped-call]
    finally:
        scheduler.shutdown()
        components.dispose()


def _scheduler(components: Components) -> DigestScheduler:
    """Digests on their schedules, the alert check every KPIBOT_ALERT_EVERY and the data
    sources' sync every KPIBOT_SYNC_EVERY."""
    settings = components.settings
    return DigestScheduler(
        components.digests,
        alerts=components.alerts,
        alert_every_seconds=settings.alert_every.total_seconds(),
        syncs=components.sync,
        sync_every_seconds=settings.sync_every.total_seconds(),
    )


def run_scheduler(settings: Settings) -> None:
    """Post digests on their schedules until SIGTERM/SIGINT (`kpibot scheduler`)."""
    if not settings.slack_bot_token:
        raise SlackSetupError(
            "SLACK_BOT_TOKEN is not set: the scheduler posts digests with the bot token. "
            "See README, 'Connect a Slack workspace'."
        )
    components = build(settings, auto_upgrade=False)
    try:
        log.info("kpibot scheduler starting")
        run_until_signalled(_scheduler(components))
        log.info("kpibot scheduler stopped")
    finally:
        components.dispose()


def serve_http(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve POST /slack/events and GET /healthz under gunicorn."""
    from gunicorn.app.base import BaseApplication

    if not settings.slack_signing_secret:
        raise SlackSetupError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode must verify that requests come from "
            "Slack. See README, 'Connect a Slack workspace'."
        )
    if not settings.slack_bot_token:
        raise SlackSetupError("SLACK_BOT_TOKEN is not set: kpibot needs its bot token.")
    # Check (not change) the schema before forking, so a stale database fails loudly once.
    build(settings, auto_upgrade=False).dispose()

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 8)
            self.cfg.set("timeout", 30)
            self.cfg.set("accesslog", None)
            # gunicorn's own bounds, set rather than inherited: Slack sends one short request
            # line and ~15 short headers (a proxy adds a few), so anything bigger is refused
            # with 4xx before kpibot sees it. The body limit is the gate's (bot/slack/gate.py).
            self.cfg.set("limit_request_line", 2048)
            self.cfg.set("limit_request_fields", 40)
            self.cfg.set("limit_request_field_size", 4096)
            self.cfg.set("keepalive", 5)
            self.cfg.set("graceful_timeout", 30)

        def load(self) -> Any:
            from bot.slack.web import KpibotWsgi

            return KpibotWsgi(build(settings, auto_upgrade=False))

    Server().run()


def wsgi_from_env() -> Any:
    """For `gunicorn 'bot.slack.runtimes:wsgi_from_env()'` in a custom deployment."""
    from bot.slack.web import KpibotWsgi

    settings = Settings.from_env()
    configure_logging(settings)
    components: Components = build(settings, auto_upgrade=False)
    return KpibotWsgi(components)
