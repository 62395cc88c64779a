"""Unexpected failures: a full log line with a reference, a short apology to the user."""

from __future__ import annotations

import logging
import secrets
from typing import Any

from bot.render.blocks import apology_message
from bot.slack.clients import DeliveryError, Responder

log = logging.getLogger("kpibot.errors")

EPHEMERAL = "ephemeral"


def new_reference() -> str:
    return secrets.token_hex(4).upper()


def log_failure(error: BaseException, body: dict[str, Any]) -> str:
    """Log the failure with its stack trace; return the reference the user will see."""
    reference = new_reference()
    kind = body.get("type") or ("command" if "command" in body else "unknown")
    log.error(
        "unhandled error ref=%s kind=%s: %s",
        reference,
        kind,
        error.__class__.__name__,
        exc_info=error,
    )
    return reference


def apology(reference: str) -> dict[str, Any]:
    return {**apology_message(reference), "response_type": EPHEMERAL}


def apologise_later(responder: Responder, error: BaseException, body: dict[str, Any]) -> None:
    """After the acknowledgement: log, then apologise through response_url if there is one."""
    reference = log_failure(error, body)
    response_url = body.get("response_url")
    if not response_url:
        return
    try:
        responder.send(str(response_url), apology(reference))
    except DeliveryError as exc:
        log.error("could not deliver the apology ref=%s: %s", reference, exc)
