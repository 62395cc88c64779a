"""SlackPoster against the fake Slack Web API over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from bot.config import Settings
from bot.delivery.posting import Outcome, PostFailure
from bot.slack.poster import SlackPoster, posting_client
from tests.support.fake_slack import FakeSlack

TOKEN = "xoxb-poster-secret-token"
MESSAGE = {"text": "Morning digest", "blocks": [{"type": "divider"}]}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def poster(slack: FakeSlack) -> SlackPoster:
    settings = Settings(slack_bot_token=TOKEN, slack_api_url=slack.url)
    return SlackPoster(posting_client(settings))


def failure(raised: pytest.ExceptionInfo[PostFailure]) -> tuple[Outcome, str]:
    return raised.value.outcome, raised.value.error


def test_post_returns_channel_and_ts_and_sends_the_message(
    poster: SlackPoster, slack: FakeSlack
) -> None:
    channel, ts = poster.post("C1", MESSAGE)
    (call,) = slack.calls_to("chat.postMessage")
    assert (channel, ts) == ("C1", "1700000000.000100")  # the fake's first ts
    assert call.params["text"] == "Morning digest"
    assert call.params["blocks"] == MESSAGE["blocks"]
    assert call.token == TOKEN


def test_post_in_a_thread_passes_thread_ts(poster: SlackPoster, slack: FakeSlack) -> None:
    poster.post("C1", {"text": "more"}, thread_ts="1700000000.000100")
    assert slack.calls_to("chat.postMessage")[0].params["thread_ts"] == "1700000000.000100"


def test_rate_limit_surfaces_at_once_with_retry_after(
    poster: SlackPoster, slack: FakeSlack
) -> None:
    slack.fail_next("chat.postMessage", status=429, retry_after=30)
    started = time.monotonic()
    with pytest.raises(PostFailure) as raised:
        poster.post("C1", MESSAGE)
    assert time.monotonic() - started < 2
    assert failure(raised) == (Outcome.RATE_LIMITED, "ratelimited")
    assert raised.value.retry_after == 30
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_single_server_error_is_retried_in_place(poster: SlackPoster, slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=500)
    poster.post("C1", MESSAGE)
    assert [c.status for c in slack.calls_to("chat.postMessage")] == [500, 200]


def test_server_errors_that_persist_are_transient(poster: SlackPoster, slack: FakeSlack) -> None:
    slack.fail_next("chat.postMessage", status=500, times=3)
    with pytest.raises(PostFailure) as raised:
        poster.post("C1", MESSAGE)
    assert failure(raised) == (Outcome.TRANSIENT, "internal_error")
    assert len(slack.calls_to("chat.postMessage")) == 3


def test_slack_unreachable_is_transient_and_names_no_url_or_token(
    poster: SlackPoster, slack: FakeSlack
) -> None:
    slack.down()
    with pytest.raises(PostFailure) as raised:
        poster.post("C1", MESSAGE)
    assert raised.value.outcome is Outcome.TRANSIENT
    assert raised.value.error.startswith("connection: ")
    assert TOKEN not in str(raised.value) and "127.0.0.1" not in str(raised.value)


@pytest.mark.parametrize(
    "error",
    ["channel_not_found", "not_in_channel", "is_archived", "invalid_blocks", "account_inactive"],
)
def test_each_permanent_error_is_permanent_and_not_retried(
    poster: SlackPoster, slack: FakeSlack, error: str
) -> None:
    slack.fail_next("chat.postMessage", error=error)
    with pytest.raises(PostFailure) as raised:
        poster.post("C1", MESSAGE)
    assert failure(raised) == (Outcome.PERMANENT, error)
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_a_private_channel_the_bot_is_not_in_refuses_the_post(
    poster: SlackPoster, slack: FakeSlack
) -> None:
    slack.set_channel("G1", is_private=True, is_member=False)
    with pytest.raises(PostFailure) as raised:
        poster.post("G1", MESSAGE)
    assert failure(raised) == (Outcome.PERMANENT, "not_in_channel")


def test_update_edits_the_message(poster: SlackPoster, slack: FakeSlack) -> None:
    poster.update("C1", "1700000000.000100", {"text": "edited"})
    (call,) = slack.calls_to("chat.update")
    assert (call.params["ts"], call.params["text"]) == ("1700000000.000100", "edited")


def test_update_failure_is_a_post_failure(poster: SlackPoster, slack: FakeSlack) -> None:
    slack.fail_next("chat.update", error="cant_update_message")
    with pytest.raises(PostFailure) as raised:
        poster.update("C1", "1.2", {"text": "edited"})
    assert failure(raised) == (Outcome.TRANSIENT, "cant_update_message")


def test_upload_png_goes_through_files_upload_v2(poster: SlackPoster, slack: FakeSlack) -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 100
    poster.upload_png("C1", png, title="Spend, 14 days", filename="trend.png")
    (upload,) = slack.uploads().values()
    assert (upload.filename, upload.content) == ("trend.png", png)
    (complete,) = slack.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"] == "C1"
    assert complete.params["files"][0]["title"] == "Spend, 14 days"


@pytest.mark.parametrize(
    ("method", "script", "expected"),
    [
        ("files.getUploadURLExternal", {"error": "invalid_auth"}, Outcome.PERMANENT),
        ("files.completeUploadExternal", {"error": "not_in_channel"}, Outcome.PERMANENT),
        ("upload", {"status": 500, "times": 3}, Outcome.TRANSIENT),
        ("files.getUploadURLExternal", {"status": 429, "retry_after": 7}, Outcome.RATE_LIMITED),
    ],
)
def test_upload_failures_are_post_failures(
    poster: SlackPoster,
    slack: FakeSlack,
    method: str,
    script: dict[str, object],
    expected: Outcome,
) -> None:
    slack.fail_next(method, **script)  # type: ignore[arg-type]
    with pytest.raises(PostFailure) as raised:
        poster.upload_png("C1", b"png", title="t", filename="t.png")
    assert raised.value.outcome is expected


def test_direct_message_opens_a_dm_then_posts(poster: SlackPoster, slack: FakeSlack) -> None:
    poster.direct_message("U77", {"text": "Your digest could not be posted"})
    (opened,) = slack.calls_to("conversations.open")
    assert opened.params["users"] == "U77"
    (posted,) = slack.calls_to("chat.postMessage")
    assert posted.params["channel"] == slack.dm_channel("U77")


def test_direct_message_to_a_deactivated_user_is_permanent(
    poster: SlackPoster, slack: FakeSlack
) -> None:
    slack.fail_next("conversations.open", error="user_not_found")
    with pytest.raises(PostFailure) as raised:
        poster.direct_message("U0", {"text": "x"})
    assert raised.value.outcome is Outcome.PERMANENT
    assert not slack.calls_to("chat.postMessage")


def test_channel_problem_is_none_where_the_bot_can_post(
    poster: SlackPoster, slack: FakeSlack
) -> None:
    slack.set_channel("C2", name="general", is_member=False)  # public, but not joined
    assert poster.channel_problem("C1") is None
    assert poster.channel_problem("C2") == (
        "I am not in #general: invite me with `/invite @kpibot` there, then try again."
    )


def test_channel_problem_names_what_to_do(poster: SlackPoster, slack: FakeSlack) -> None:
    slack.set_channel("G1", name="secret", is_private=True, is_member=False)
    slack.set_channel("C3", name="old", is_archived=True)
    slack.set_channel("C0", exists=False)
    assert poster.channel_problem("G1") == (
        "I am not in #secret: invite me with `/invite @kpibot` there, then try again."
    )
    assert poster.channel_problem("C3") == "#old is archived: digests cannot be posted there."
    problem = poster.channel_problem("C0")
    assert problem is not None and problem.startswith("I cannot see channel C0")


def test_channel_problem_raises_when_slack_cannot_answer(
    poster: SlackPoster, slack: FakeSlack
) -> None:
    slack.fail_next("conversations.info", status=429, retry_after=5)
    with pytest.raises(PostFailure) as raised:
        poster.channel_problem("C1")
    assert raised.value.outcome is Outcome.RATE_LIMITED


@pytest.mark.parametrize(
    ("fields", "admin"),
    [({}, False), ({"is_admin": True}, True), ({"is_owner": True}, True)],
)
def test_is_admin_reads_users_info(
    poster: SlackPoster, slack: FakeSlack, fields: dict[str, bool], admin: bool
) -> None:
    slack.set_user("U5", **fields)
    assert poster.is_admin("U5") is admin
