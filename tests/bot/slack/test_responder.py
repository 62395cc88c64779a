"""The Responder answers only on Slack's origins, and after a failed answer an apology follows
only when the user cannot already have the answer; nothing ends silently in a Future."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import Settings
from bot.slack.clients import (
    SLACK_HOOKS,
    AmbiguousDelivery,
    RefusedUrl,
    Responder,
    SlackUrls,
    loggable_origin,
    origin_of,
)
from bot.slack.failures import apologise_later, log_if_failed
from bot.slack.replies import SlackDeps
from bot.slack.retries import RetryPolicy
from tests.support.fake_slack import FakeSlack

MESSAGE = {"text": "the answer", "response_type": "ephemeral"}
HOOKS_ONLY = SlackUrls(frozenset({SLACK_HOOKS}))


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def listener() -> Iterator[FakeSlack]:
    """A server inside the network that must never be reached."""
    with FakeSlack() as fake:
        yield fake


def slack_urls(slack: FakeSlack) -> SlackUrls:
    return SlackUrls.from_settings(Settings.from_mapping({"SLACK_API_URL": slack.url}))


# ------------------------------------------------------------------------- the allowlist

SCHEMES = ["https", "http", "HTTPS", "ftp", "file", "gopher", ""]
HOSTS = [
    "hooks.slack.com",
    "HOOKS.slack.com",
    "hooks.slack.com.evil.com",
    "evilhooks.slack.com",
    "hooks.slack.co",
    "hooks.slack.com.",
    "127.0.0.1",
    "[::1]",
    "169.254.169.254",
    "hooks%2eslack.com",
    "",
]
USERINFO = ["", "user@", "user:pw@", "hooks.slack.com@", "a@hooks.slack.com@"]
PORTS = ["", ":443", ":80", ":8443", ":0443", ":", ":x", ":99999"]
PATHS = ["/commands/T1/1/abc", "/", "", "?x=1", "#f", "\\@evil.com/", " /x", "/x\n"]


def expected_origin_port(port: str) -> int | None:
    """The port a URL names, read by hand: empty means the scheme's default."""
    digits = port[1:]
    if not digits:
        return 443
    return int(digits) if digits.isdigit() and int(digits) <= 65535 else None


def test_only_exactly_hooks_slack_com_over_https_passes() -> None:
    """Every combination of near misses (about 25,000 URLs), against a hand-written oracle."""
    for scheme, userinfo, host, port, path in itertools.product(
        SCHEMES, USERINFO, HOSTS, PORTS, PATHS
    ):
        netloc = f"{userinfo}{host}{port}"
        url = f"{scheme}://{netloc}{path}" if scheme else f"{netloc}{path}"
        exact = (
            scheme.lower() == "https"
            and not userinfo
            and host.lower() == "hooks.slack.com"
            and expected_origin_port(port) == 443
            and path.startswith("/")
            and not any(c.isspace() or c == "\\" for c in path)
        )
        assert HOOKS_ONLY.allows(url) is exact, url


@given(
    userinfo=st.text(max_size=12),
    host=st.text(alphabet=st.characters(codec="ascii"), max_size=25),
    path=st.text(max_size=12),
)
def test_a_generated_netloc_passes_only_when_it_is_exactly_slacks(
    userinfo: str, host: str, path: str
) -> None:
    for url in (f"https://{userinfo}@{host}/{path}", f"https://{host}/{path}"):
        if HOOKS_ONLY.allows(url):
            assert host.lower() in ("hooks.slack.com", "hooks.slack.com:443", "hooks.slack.com:"), (
                url
            )
            assert url.lower().startswith(("https://hooks.slack.com/", "https://hooks.slack.com:"))


@given(st.text(max_size=80))
def test_any_allowed_text_starts_with_slacks_origin(text: str) -> None:
    for url in (text, "https://hooks.slack.com" + text, "https://" + text):
        if HOOKS_ONLY.allows(url):
            head = url.lower()
            assert head.startswith(("https://hooks.slack.com/", "https://hooks.slack.com:")), url
            assert origin_of(url) == SLACK_HOOKS


def test_slack_api_url_adds_its_exact_origin_and_only_when_set(slack: FakeSlack) -> None:
    assert SlackUrls.from_settings(Settings.from_mapping({})).origins == {SLACK_HOOKS}
    urls = slack_urls(slack)
    assert urls.origins == {SLACK_HOOKS, ("http", "127.0.0.1", slack.port)}
    assert urls.allows(slack.response_url("r1"))
    assert urls.allows("https://hooks.slack.com/actions/T1/2/x")
    assert not urls.allows(f"http://127.0.0.1:{slack.port + 1}/response/r1")
    assert not urls.allows(f"https://127.0.0.1:{slack.port}/response/r1")
    assert not urls.allows(f"http://localhost:{slack.port}/response/r1")


def test_the_logged_origin_never_has_the_path_or_userinfo() -> None:
    assert loggable_origin("http://127.0.0.1:9/internal/secret") == "scheme=http host=127.0.0.1"
    assert loggable_origin("https://user:pw@hooks.slack.com@evil.example/x") == (
        "scheme=https host=evil.example"
    )
    assert loggable_origin("file:///etc/passwd") == "scheme=file host=none"
    assert loggable_origin("hooks.slack.com/x") == "scheme=none host=none"
    assert len(loggable_origin("https://" + "a" * 500 + ".com/")) < 100


@pytest.mark.parametrize(
    "target",
    [
        "http://127.0.0.1:{port}/internal",
        "http://localhost:{port}/internal",
        "ftp://127.0.0.1:{port}/x",
        "file:///etc/passwd",
        "127.0.0.1:{port}/internal",
        "hooks.slack.com/x",
        "https://user@127.0.0.1:{port}/internal",
    ],
)
def test_a_url_that_is_not_slacks_is_refused_without_any_request(
    listener: FakeSlack, slack: FakeSlack, target: str
) -> None:
    url = target.format(port=listener.port)
    with pytest.raises(RefusedUrl) as raised:
        Responder(slack_urls(slack)).send(url, MESSAGE)
    assert not raised.value.may_apologise
    assert "/internal" not in str(raised.value) and "passwd" not in str(raised.value)
    time.sleep(0.2)
    assert listener.calls == []


# ------------------------------------------------------------------------- apologies


def deps(slack: FakeSlack, pool: ThreadPoolExecutor, *, timeout: float = 5.0) -> SlackDeps:
    responder = Responder(slack_urls(slack), RetryPolicy(attempts=1), timeout=timeout)
    return SlackDeps(kpis=None, responder=responder, executor=pool)  # type: ignore[arg-type]


def body_for(url: str) -> dict[str, Any]:
    return {"command": "/kpi", "user_id": "U7", "channel_id": "C7", "response_url": url}


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "kpibot.errors"]


def test_an_answer_that_timed_out_gets_no_apology(
    slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    slack.delay_next("response/r1", 2)
    body = body_for(slack.response_url("r1"))
    with ThreadPoolExecutor(2) as pool, caplog.at_level(logging.INFO):
        slack_deps = deps(slack, pool, timeout=0.5)
        slack_deps.reporting(body, lambda: slack_deps.responder.send(body["response_url"], MESSAGE))
    time.sleep(2)
    (only,) = slack.calls_to("response/r1")
    assert only.json()["text"] == "the answer"
    (line,) = errors(caplog)
    assert line.startswith("answer not delivered ref=")
    assert "user=U7 channel=C7" in line
    assert line.endswith("it may have arrived; not apologising")


def test_an_answer_slack_refused_is_apologised_for(slack: FakeSlack) -> None:
    slack.fail_next_response("r1", error="invalid_blocks")
    body = body_for(slack.response_url("r1"))
    with ThreadPoolExecutor(2) as pool:
        slack_deps = deps(slack, pool)
        slack_deps.reporting(body, lambda: slack_deps.responder.send(body["response_url"], MESSAGE))
    refused, apology = slack.calls_to("response/r1")
    assert refused.status == 400
    assert "Sorry" in apology.json()["text"]


def test_a_failure_with_a_refused_url_is_logged_and_nothing_is_fetched(
    slack: FakeSlack, listener: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    body = body_for(f"http://127.0.0.1:{listener.port}/internal")

    def broken() -> None:
        raise ValueError("a bug")

    with caplog.at_level(logging.INFO), ThreadPoolExecutor(2) as pool:
        deps(slack, pool).after_ack(body, broken)
    lines = errors(caplog)
    assert lines[0].startswith("unhandled error ref=") and "user=U7" in lines[0]
    assert "could not deliver the apology" in lines[1]
    assert "scheme=http host=127.0.0.1" in lines[1]
    assert "/internal" not in caplog.text
    assert listener.calls == []


def test_an_apology_to_a_refused_url_is_not_attempted_after_a_refusal(
    slack: FakeSlack, listener: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    body = body_for(f"ftp://127.0.0.1:{listener.port}/internal")
    refused = RefusedUrl("response_url refused, not Slack's (scheme=ftp host=127.0.0.1)")
    with caplog.at_level(logging.INFO), ThreadPoolExecutor(1) as pool:
        apologise_later(deps(slack, pool).responder, refused, body)
    (line,) = errors(caplog)
    assert line.endswith("not Slack's (scheme=ftp host=127.0.0.1); not apologising")
    assert listener.calls == []


def test_an_exception_in_work_nobody_waits_for_reaches_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fails() -> None:
        raise AmbiguousDelivery("escaped")

    with ThreadPoolExecutor(1) as pool, caplog.at_level(logging.INFO):
        pool.submit(fails).add_done_callback(log_if_failed(body_for("https://hooks.slack.com/x")))
    (record,) = [r for r in caplog.records if r.name == "kpibot.errors"]
    assert record.getMessage().startswith("unhandled error ref=")
    assert record.exc_info is not None
