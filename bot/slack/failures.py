"""Unexpected failures: a full log line with a reference, a short apology to the user."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from bot.render.blocks import apology_message
from bot.slack.clients import DeliveryError, Responder

log = logging.getLogger("kpibot.errors")

EPHEMERAL = "ephemeral"
_ID_CHARS = 40


def new_reference() -> str:
    return secrets.token_hex(4).upper()


def _field(container: Any, key: str) -> str:
    return str(container.get(key) or "")[:_ID_CHARS] if isinstance(container, dict) else ""


def who(body: dict[str, Any]) -> str:
    """kind, user and channel of a request, for a log line: ids only, never its text."""
    kind = _field(body, "type") or ("command" if "command" in body else "unknown")
    user = _field(body, "user_id") or _field(body.get("user"), "id") or "-"
    channel = _field(body, "channel_id") or _field(body.get("channel"), "id") or "-"
    return f"kind={kind} user={user} channel={channel}"


def log_failure(error: BaseException, body: dict[str, Any]) -> str:
    """Log the failure with its stack trace; return the reference the user will see."""
    reference = new_reference()
    log.error(
        "unhandled error ref=%s %s: %s",
        reference,
        who(body),
        error.__class__.__name__,
        exc_info=error,
    )
    return reference


def log_undelivered(error: DeliveryError, body: dict[str, Any]) -> str:
    """One line, no stack trace (the reason is the whole story): which answer did not arrive
    and why; return the reference an apology would carry."""
    reference = new_reference()
    log.error(
        "answer not delivered ref=%s %s: %s%s",
        reference,
        who(body),
        error,
        "" if error.may_apologise else "; not apologising",
    )
    return reference


def apology(reference: str) -> dict[str, Any]:
    return {**apology_message(reference), "response_type": EPHEMERAL}


def apologise_later(responder: Responder, error: BaseException, body: dict[str, Any]) -> None:
    """After the acknowledgement: log, then apologise through response_url if there is one and
    an apology may follow (never after an answer that may have arrived, nor to a refused URL).

    Never raises: whatever goes wrong while apologising is logged with the reference too.
    """
    if isinstance(error, DeliveryError):
        reference = log_undelivered(error, body)
        if not error.may_apologise:
            return
    else:
        reference = log_failure(error, body)
    response_url = body.get("response_url")
    if not response_url:
        return
    try:
        responder.send(str(response_url), apology(reference))
    except DeliveryError as exc:
        log.error("could not deliver the apology ref=%s %s: %s", reference, who(body), exc)
    except Exception as exc:
        log.error(
            "could not deliver the apology ref=%s %s: %s",
            reference,
            who(body),
            exc.__class__.__name__,
            exc_info=exc,
        )


def log_if_failed(body: dict[str, Any]) -> Callable[[Future[Any]], None]:
    """A done-callback for work nobody waits for: its exception reaches the log, with a
    reference, instead of staying in the Future."""

    def check(done: Future[Any]) -> None:
        if done.cancelled():
            log.warning("background work cancelled %s", who(body))
            return
        error = done.exception()
        if error is not None:
            log_failure(error, body)

    return check
