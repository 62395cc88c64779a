"""The real Poster: digests and DMs through the Slack Web API, every failure a PostFailure.

The client never sleeps on a 429: a rate-limited post surfaces at once as RATE_LIMITED with its
Retry-After, and the delivery ledger decides when to try again, so one busy channel never holds
up the other deliveries. Only a quick blip (5xx, a dropped connection) is retried in place.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.error import HTTPError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import RetryHandler
from slack_sdk.web import SlackResponse

from bot.access.identity import IdentityUnavailable, Installation, Person
from bot.config import Settings
from bot.delivery.posting import Outcome, PostFailure, classify
from bot.slack.clients import HTTP_TIMEOUT_SECONDS
from bot.slack.retries import RetryPolicy, SleepSlots

IN_PLACE_RETRIES = 2
"""5xx / connection retries inside one post (about 1.5 s); longer waits belong to the ledger."""

NOT_A_MEMBER = "I am not in {name}: invite me with `/invite @kpibot` there, then try again."
NO_SUCH_CHANNEL = (
    "I cannot see channel {channel}: it does not exist, or it is private and I have not been "
    "invited. In a private channel, type `/invite @kpibot` first."
)
ARCHIVED = "{name} is archived: digests cannot be posted there."


def posting_handlers() -> list[RetryHandler]:
    """5xx and failures to connect, briefly, each logged; never a 429 (no sleep slot: the
    ledger waits instead), and never a request that may have reached Slack (a reset or a
    disconnect after sending: repeating a chat.postMessage could post it twice)."""
    policy = RetryPolicy(retry_after_cap=0.0, slots=SleepSlots(0), attempts=IN_PLACE_RETRIES)
    return policy.handlers("scheduled post", after_sent=False)


def posting_client(settings: Settings) -> WebClient:
    """The Web API client for scheduled posts: SLACK_API_URL, timeout, no sleeping on 429."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=HTTP_TIMEOUT_SECONDS,
        retry_handlers=posting_handlers(),
    )


class SlackPoster:
    """bot.delivery.posting.Poster over a WebClient, plus the checks digests make first."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def post(
        self, channel: str, message: dict[str, Any], *, thread_ts: str | None = None
    ) -> tuple[str, str]:
        """chat.postMessage; (channel id, ts)."""
        arguments: dict[str, Any] = dict(message)
        if thread_ts is not None:
            arguments["thread_ts"] = thread_ts
        response = _call(lambda: self._client.chat_postMessage(channel=channel, **arguments))
        return str(response.get("channel") or channel), str(response["ts"])

    def update(self, channel: str, ts: str, message: dict[str, Any]) -> None:
        """chat.update of one of the bot's own messages."""
        _call(lambda: self._client.chat_update(channel=channel, ts=ts, **message))

    def upload_png(self, channel: str, png: bytes, *, title: str, filename: str) -> None:
        """files_upload_v2 into the channel (getUploadURLExternal, upload, complete)."""
        _call(
            lambda: self._client.files_upload_v2(
                channel=channel, content=png, filename=filename, title=title
            )
        )

    def direct_message(self, user: str, message: dict[str, Any]) -> None:
        """conversations.open with the user, then chat.postMessage there."""
        opened = _call(lambda: self._client.conversations_open(users=user))
        dm = opened.get("channel")
        if not isinstance(dm, dict) or not dm.get("id"):
            raise PostFailure(Outcome.TRANSIENT, "conversations.open returned no channel")
        self.post(str(dm["id"]), message)

    def channel_problem(self, channel: str) -> str | None:
        """None when the bot can post in `channel`, else a sentence saying what to do.

        Raises PostFailure when Slack cannot be asked (rate limit, outage, bad token).
        """
        try:
            response = _call(lambda: self._client.conversations_info(channel=channel))
        except PostFailure as failure:
            if failure.error == "channel_not_found":
                return NO_SUCH_CHANNEL.format(channel=channel)
            raise
        info = response.get("channel")
        if not isinstance(info, dict):
            return NO_SUCH_CHANNEL.format(channel=channel)
        name = f"#{info['name']}" if info.get("name") else channel
        if info.get("is_archived"):
            return ARCHIVED.format(name=name)
        if info.get("is_member") or info.get("is_im"):
            return None
        # kpibot asks for chat:write only (not chat:write.public): it posts where it is a member.
        return NOT_A_MEMBER.format(name=name)

    def is_admin(self, user: str) -> bool:
        """users.info: a workspace admin or owner."""
        response = _call(lambda: self._client.users_info(user=user))
        info = response.get("user")
        if not isinstance(info, dict):
            return False
        return _is_admin(info)


ADMIN_FLAGS = ("is_admin", "is_owner", "is_primary_owner")
LOOKUP_TIMEOUT_SECONDS = 5


def _is_admin(info: dict[str, Any]) -> bool:
    return any(bool(info.get(flag)) for flag in ADMIN_FLAGS)


def lookup_client(settings: Settings) -> WebClient:
    """The Web API client for who-is-asking lookups: one try, a short timeout. Admission
    fails closed, so a slow Slack costs the user a "try again", never a hung answer thread."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        timeout=LOOKUP_TIMEOUT_SECONDS,
        retry_handlers=[],
    )


class SlackPeople:
    """bot.access.identity.Identities over the Web API: users.info and auth.test."""

    def __init__(self, client: WebClient) -> None:
        self._client = client

    def person(self, user: str) -> Person:
        info = _lookup("users.info", lambda: self._client.users_info(user=user)).get("user")
        if not isinstance(info, dict) or not info.get("id"):
            raise IdentityUnavailable("users.info returned no user")
        grid = info.get("enterprise_user")
        enterprise = grid.get("enterprise_id") if isinstance(grid, dict) else None
        return Person(
            user=str(info["id"]),
            team=str(info.get("team_id") or ""),
            enterprise=str(enterprise) if enterprise else None,
            restricted=bool(info.get("is_restricted")),
            ultra_restricted=bool(info.get("is_ultra_restricted")),
            admin=_is_admin(info),
        )

    def installation(self) -> Installation:
        response = _lookup("auth.test", self._client.auth_test)
        team = response.get("team_id")
        if not team:
            raise IdentityUnavailable("auth.test returned no team_id")
        enterprise = response.get("enterprise_id")
        return Installation(str(team), str(enterprise) if enterprise else None)


def _lookup(method: str, request: Callable[[], SlackResponse]) -> SlackResponse:
    try:
        return _call(request)
    except PostFailure as failure:  # its text is Slack's error code, never the token
        raise IdentityUnavailable(f"{method}: {failure.error}") from failure


def _call(request: Callable[[], SlackResponse]) -> SlackResponse:
    """Run one Web API request; any Slack or HTTP failure becomes a PostFailure.

    Built from Slack's error code, HTTP status and Retry-After only, never the request, so no
    token or URL reaches the message.
    """
    try:
        return request()
    except SlackApiError as exc:
        response = exc.response
        data = response.data if isinstance(response.data, dict) else {}
        error = str(data.get("error") or "")
        raise classify(error, response.status_code, _retry_after(response.headers)) from exc
    except HTTPError as exc:  # the upload step of files_upload_v2 talks to a plain URL
        raise classify("", exc.code, _retry_after(dict(exc.headers.items()))) from exc
    except SlackClientError as exc:  # e.g. the upload answered, but not with 200
        raise PostFailure(Outcome.TRANSIENT, f"slack client: {type(exc).__name__}") from exc
    except OSError as exc:  # connection refused, reset, timed out (after in-place retries)
        raise PostFailure(Outcome.TRANSIENT, f"connection: {type(exc).__name__}") from exc


def _retry_after(headers: Any) -> float | None:
    if not isinstance(headers, dict):
        return None
    for key, value in headers.items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) and value else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None
