"""The retry handler against the fake Slack over real HTTP: the Retry-After cap, the sleep
slots, counted attempts, and what is never repeated."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from slack_sdk.errors import SlackApiError

from bot.config import Settings
from bot.slack.clients import (
    AmbiguousDelivery,
    DeliveryError,
    RateLimited,
    Responder,
    SlackUrls,
    origin_of,
    web_client,
)
from bot.slack.retries import RetryPolicy, SleepSlots
from tests.support.fake_slack import FakeSlack

MESSAGE = {"text": "the answer", "response_type": "ephemeral"}


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


def responder(
    slack: FakeSlack, policy: RetryPolicy | None = None, *, timeout: float = 5.0
) -> Responder:
    origin = origin_of(slack.url)
    assert origin is not None
    return Responder(SlackUrls(frozenset({origin})), policy or RetryPolicy(), timeout=timeout)


def retry_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kpibot.slack.retries"]


def test_a_429_within_the_cap_waits_retry_after_then_posts_once(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail_next_response("r1", status=429, retry_after=1)
    with caplog.at_level(logging.WARNING):
        responder(slack, RetryPolicy(retry_after_cap=5)).send(slack.response_url("r1"), MESSAGE)
    first, second = slack.calls_to("response/r1")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.95
    assert retry_lines(caplog) == [
        "slack retry: response_url attempt 1/3 after HTTP 429, waiting 1.0 s"
    ]


def test_a_429_over_the_cap_gives_up_at_once_without_sleeping(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.fail_next_response("r1", status=429, retry_after=3600)
    policy = RetryPolicy(retry_after_cap=30)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), pytest.raises(RateLimited) as raised:
        responder(slack, policy).send(slack.response_url("r1"), MESSAGE)
    assert time.monotonic() - started < 2
    assert not raised.value.may_apologise
    assert [c.status for c in slack.calls_to("response/r1")] == [429]
    assert retry_lines(caplog) == [
        "slack gave up: response_url HTTP 429 Retry-After 3600 s is over the 30 s cap"
    ]
    assert policy.slots.taken == 0


def test_a_429_gives_up_at_once_when_every_sleep_slot_is_taken(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    policy = RetryPolicy(retry_after_cap=30, slots=SleepSlots(1))
    assert policy.slots.try_take()  # another answer thread is asleep on its own 429
    slack.fail_next_response("r1", status=429, retry_after=2)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING), pytest.raises(RateLimited):
        responder(slack, policy).send(slack.response_url("r1"), MESSAGE)
    assert time.monotonic() - started < 1.5
    assert retry_lines(caplog) == [
        "slack gave up: response_url HTTP 429 Retry-After 2 s: all 1 sleep slots are taken"
    ]
    policy.slots.give_back()
    slack.fail_next_response("r2", status=429, retry_after=1)
    responder(slack, policy).send(slack.response_url("r2"), MESSAGE)
    assert [c.status for c in slack.calls_to("response/r2")] == [429, 200]
    assert policy.slots.taken == 0


def test_concurrent_429s_sleep_only_as_many_threads_as_there_are_slots(slack: FakeSlack) -> None:
    threads, slots = 8, SleepSlots.for_pool(8)
    assert slots.count == 2
    policy = RetryPolicy(retry_after_cap=30, slots=slots)
    for i in range(threads):
        slack.fail_next_response(f"u{i}", status=429, retry_after=2)
    start = threading.Barrier(threads)
    outcomes: dict[int, str] = {}

    def answer(i: int) -> None:
        start.wait()
        try:
            responder(slack, policy).send(slack.response_url(f"u{i}"), MESSAGE)
            outcomes[i] = "posted"
        except RateLimited:
            outcomes[i] = "gave up"

    workers = [threading.Thread(target=answer, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=10)
    assert sorted(outcomes.values()) == ["gave up"] * 6 + ["posted"] * 2
    assert slots.taken == 0


def test_server_errors_are_retried_with_counted_attempts_then_given_up(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    policy = RetryPolicy(attempts=2)
    slack.fail_next_response("r1", status=503, times=1)
    with caplog.at_level(logging.WARNING):
        responder(slack, policy).send(slack.response_url("r1"), MESSAGE)
    assert [c.status for c in slack.calls_to("response/r1")] == [503, 200]
    slack.fail_next_response("r2", status=500, times=3)
    with caplog.at_level(logging.WARNING), pytest.raises(DeliveryError) as raised:
        responder(slack, policy).send(slack.response_url("r2"), MESSAGE)
    assert raised.value.may_apologise
    assert [c.status for c in slack.calls_to("response/r2")] == [500, 500, 500]
    lines = retry_lines(caplog)
    assert [line.split(", waiting")[0] for line in lines[:3]] == [
        "slack retry: response_url attempt 1/2 after HTTP 503",
        "slack retry: response_url attempt 1/2 after HTTP 500",
        "slack retry: response_url attempt 2/2 after HTTP 500",
    ]
    assert lines[3] == "slack gave up: response_url HTTP 500 after 2 retries"


def test_a_refused_connection_never_arrived_so_it_is_retried_and_may_be_apologised_for(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    url = slack.response_url("r1")
    slack.down("refuse")
    with caplog.at_level(logging.WARNING), pytest.raises(DeliveryError) as raised:
        responder(slack, RetryPolicy(attempts=1)).send(url, MESSAGE)
    assert type(raised.value) is DeliveryError
    assert "ConnectionRefusedError" in str(raised.value)
    assert retry_lines(caplog)[0].startswith(
        "slack retry: response_url attempt 1/1 after URLError(ConnectionRefusedError)"
    )


def test_a_timed_out_response_url_is_not_retried_and_is_ambiguous(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.delay_next("response/r1", 3)
    with caplog.at_level(logging.WARNING), pytest.raises(AmbiguousDelivery) as raised:
        responder(slack, timeout=0.5).send(slack.response_url("r1"), MESSAGE)
    assert not raised.value.may_apologise
    assert "it may have arrived" in str(raised.value)
    assert len(slack.calls_to("response/r1")) == 1
    assert retry_lines(caplog) == [
        "slack not retried: response_url TimeoutError; the request may have arrived"
    ]


def test_a_dropped_response_url_is_not_repeated(slack: FakeSlack) -> None:
    slack.down("drop")
    with pytest.raises(AmbiguousDelivery):
        responder(slack).send(slack.response_url("r1"), MESSAGE)
    assert len(slack.calls_to("response/r1")) == 1


def test_the_web_api_client_shares_the_cap(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings.from_mapping({"SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": "xoxb-t"})
    client = web_client(settings, policy=RetryPolicy(retry_after_cap=30))
    slack.fail_next("users.info", status=429, retry_after=3600)
    with caplog.at_level(logging.WARNING), pytest.raises(SlackApiError):
        client.users_info(user="U1")
    assert len(slack.calls_to("users.info")) == 1
    assert "slack gave up: web api users.info HTTP 429 Retry-After 3600 s" in retry_lines(caplog)[0]
    slack.fail_next("users.info", status=429, retry_after=1)
    assert client.users_info(user="U1")["ok"]
    assert [c.status for c in slack.calls_to("users.info")] == [429, 429, 200]


def test_the_web_api_client_repeats_a_dropped_read_a_response_url_would_not(
    slack: FakeSlack,
) -> None:
    settings = Settings.from_mapping({"SLACK_API_URL": slack.url, "SLACK_BOT_TOKEN": "xoxb-t"})
    client = web_client(settings, policy=RetryPolicy(attempts=1))
    slack.down("drop")
    with pytest.raises(ConnectionError):
        client.users_info(user="U1")
    assert len(slack.calls_to("users.info")) == 2


def test_no_retry_line_names_the_url(slack: FakeSlack, caplog: pytest.LogCaptureFixture) -> None:
    slack.fail_next_response("secret-path", status=429, retry_after=3600)
    slack.fail_next_response("secret-path2", status=503)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(RateLimited):
            responder(slack).send(slack.response_url("secret-path"), MESSAGE)
        responder(slack, RetryPolicy(attempts=1)).send(slack.response_url("secret-path2"), MESSAGE)
    logged = caplog.text
    assert "secret-path" not in logged
    assert str(slack.port) not in logged
