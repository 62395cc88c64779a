"""The Bolt app factory: Settings and services in, a fully wired slack_bolt.App out."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from slack_bolt.authorization import AuthorizeResult

from bot.composition import Components
from bot.config import Settings
from bot.slack.clients import Responder, SlackUrls, policy_for, web_client
from bot.slack.replays import IgnoreReplays
from bot.slack.replies import SlackDeps
from bot.slack.request_log import LoggedApp
from handlers import alert_buttons, buttons, errors, kpi_command
from storage.sources import visible_sources


class SlackSetupError(RuntimeError):
    """A Slack setting missing for the runtime asked for; the message names it."""


def _require(value: str | None, name: str, why: str) -> str:
    if not value:
        raise SlackSetupError(f"{name} is not set: {why}. See README, 'Connect a Slack workspace'.")
    return value


def create_app(components: Components, *, http_mode: bool, workers: int = 8) -> LoggedApp:
    """Build the Bolt app; HTTP mode verifies every request's signature, always."""
    settings: Settings = components.settings
    token = _require(settings.slack_bot_token, "SLACK_BOT_TOKEN", "kpibot needs its bot token")
    secret = settings.slack_signing_secret
    if http_mode:
        secret = _require(
            secret, "SLACK_SIGNING_SECRET", "HTTP mode must verify that requests come from Slack"
        )

    def authorize(enterprise_id: str | None, team_id: str | None) -> AuthorizeResult:
        # Single workspace: no auth.test round trip per request, so a Web API outage
        # cannot stop /kpi from answering in the acknowledgement.
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, bot_token=token)

    retries = policy_for(settings, workers)
    bolt_logger = logging.getLogger("kpibot.bolt")
    # Bolt warns that SLACK_BOT_TOKEN is unused because `authorize` supplies it: expected here.
    previous_level = bolt_logger.level
    bolt_logger.setLevel(logging.ERROR)
    app = LoggedApp(
        client=web_client(settings, token, retries),
        signing_secret=secret,
        authorize=authorize,
        request_verification_enabled=http_mode,
        logger=bolt_logger,
        # Listeners return once acknowledged; slower work goes to SlackDeps.after_ack, so
        # an error before the ack becomes the apology in the HTTP answer itself.
        process_before_response=True,
    )
    bolt_logger.setLevel(previous_level)
    deps = SlackDeps(
        kpis=components.kpis,
        # Answers only to Slack's origins; one Retry-After cap and sleep budget for both clients.
        responder=Responder(SlackUrls.from_settings(settings), retries),
        executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kpibot-answer"),
        ack_budget=float(settings.ack_budget_seconds),
        digests=components.digests,
        alerts=components.alerts,
        slack=components.slack,
        access=components.access,
        sources=partial(visible_sources, components.engine),
    )
    # After Bolt's own middleware (the signature check): a replay with side effects is
    # acknowledged and ignored before any listener runs.
    app.use(IgnoreReplays(components.replays, deps))
    errors.register(app, deps)
    kpi_command.register(app, deps)
    buttons.register(app, deps)
    alert_buttons.register(app, deps)
    return app
