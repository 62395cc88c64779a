"""Self-tests for FakeSlack, driven by the real slack_sdk clients and requests."""

from __future__ import annotations

import json
import threading
import urllib.error

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.support.fake_slack import FakeSlack

AUTH = {"Authorization": "Bearer xoxb-h"}


def client_for(fake: FakeSlack, **kwargs: object) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.url, **kwargs)  # type: ignore[arg-type]


def test_url_is_a_local_base_url(fake_slack: FakeSlack) -> None:
    assert fake_slack.url.startswith("http://127.0.0.1:")
    assert fake_slack.url.endswith("/")
    assert fake_slack.response_url("abc") == f"{fake_slack.url}response/abc"


def test_context_manager_stops_the_server() -> None:
    with FakeSlack() as fake:
        url = fake.url
        assert requests.post(f"{url}auth.test", data={"token": "x"}, timeout=5).json()["ok"]
    with pytest.raises(requests.ConnectionError):
        requests.post(f"{url}auth.test", timeout=5)


def test_auth_test_and_post_message_via_webclient(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    auth = client.auth_test()
    assert auth["user_id"] == "UBOT"
    assert auth["team_id"] == "T1"
    assert auth["bot_id"] == "B1"

    first = client.chat_postMessage(channel="C1", text="hello")
    second = client.chat_postMessage(channel="C1", text="again", thread_ts=first["ts"])
    assert first["channel"] == "C1"
    assert first["message"]["text"] == "hello"
    assert second["message"]["thread_ts"] == first["ts"]
    assert float(second["ts"]) > float(first["ts"])
    assert first["ts"].count(".") == 1 and len(first["ts"].split(".")[1]) == 6

    calls = fake_slack.calls_to("chat.postMessage")
    assert [c.params["text"] for c in calls] == ["hello", "again"]
    assert all(c.ok and c.status == 200 and c.token == "xoxb-test" for c in calls)
    assert [c.method for c in fake_slack.calls] == [
        "auth.test",
        "chat.postMessage",
        "chat.postMessage",
    ]


def test_blocks_are_decoded_whatever_the_encoding(fake_slack: FakeSlack) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*ROAS* 3.2"}}]
    client_for(fake_slack).chat_postMessage(channel="C1", text="ROAS", blocks=blocks)  # JSON
    response = requests.post(  # form-encoded, token as a form field
        f"{fake_slack.url}chat.postMessage",
        data={"token": "xoxb-form", "channel": "C2", "text": "ROAS", "blocks": json.dumps(blocks)},
        timeout=5,
    )
    assert response.json()["ok"] is True
    json_call, form_call = fake_slack.calls_to("chat.postMessage")
    assert json_call.params["blocks"] == form_call.params["blocks"] == blocks
    assert json_call.headers["content-type"].startswith("application/json")
    assert form_call.token == "xoxb-form"
    assert b"channel=C2" in form_call.body


def test_missing_token_is_not_authed(fake_slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as info:
        WebClient(base_url=fake_slack.url).auth_test()
    assert info.value.response["error"] == "not_authed"
    assert fake_slack.calls[0].error == "not_authed"
    assert not fake_slack.calls[0].ok


def test_rate_limited_then_success_with_retry_handler(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=1)
    client = client_for(fake_slack, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])

    response = client.chat_postMessage(channel="C1", text="digest")

    assert response["ok"] is True
    failed, succeeded = fake_slack.calls_to("chat.postMessage")
    assert (failed.status, failed.error, failed.scripted) == (429, "ratelimited", True)
    assert succeeded.ok and not succeeded.scripted
    assert fake_slack.calls_to("chat.postMessage", ok=True) == [succeeded]
    assert fake_slack.calls_to("chat.postMessage", ok=False) == [failed]
    assert succeeded.at - failed.at >= 1.0  # the client honoured Retry-After


def test_rate_limit_answer_carries_retry_after(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=429, retry_after=7)
    response = requests.post(
        f"{fake_slack.url}chat.postMessage", data={"token": "t", "channel": "C1"}, timeout=5
    )
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.json() == {"ok": False, "error": "ratelimited"}


def test_server_errors_for_n_attempts(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", status=500, times=2)
    client = client_for(fake_slack)
    for _ in range(2):
        with pytest.raises(SlackApiError) as info:
            client.chat_postMessage(channel="C1", text="x")
        assert info.value.response.status_code == 500
    assert client.chat_postMessage(channel="C1", text="x")["ok"]
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [500, 500, 200]


def test_error_answer_is_http_200_ok_false(fake_slack: FakeSlack) -> None:
    fake_slack.fail_next("chat.postMessage", error="channel_not_found")
    with pytest.raises(SlackApiError) as info:
        client_for(fake_slack).chat_postMessage(channel="C404", text="x")
    assert info.value.response.status_code == 200
    assert info.value.response["error"] == "channel_not_found"
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert (call.status, call.error, call.ok) == (200, "channel_not_found", False)


def test_invalid_blocks_are_rejected_like_slack(fake_slack: FakeSlack) -> None:
    blocks = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    with pytest.raises(SlackApiError) as info:
        client_for(fake_slack).chat_postMessage(channel="C1", text="x", blocks=blocks)
    assert info.value.response["error"] == "invalid_blocks"
    assert any("blocks[0].text.text" in e for e in info.value.response["errors"])


def test_message_without_content_is_no_text(fake_slack: FakeSlack) -> None:
    response = requests.post(
        f"{fake_slack.url}chat.postMessage", json={"channel": "C1"}, headers=AUTH, timeout=5
    )
    assert response.json() == {"ok": False, "error": "no_text"}


def test_get_with_query_string(fake_slack: FakeSlack) -> None:
    response = requests.get(
        f"{fake_slack.url}users.info", params={"user": "U7"}, headers=AUTH, timeout=5
    )
    assert response.json()["user"]["id"] == "U7"
    call = fake_slack.calls_to("users.info")[0]
    assert (call.http_method, call.params, call.token) == ("GET", {"user": "U7"}, "xoxb-h")


def test_other_chat_and_views_methods(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    posted = client.chat_postMessage(channel="C1", text="v1")
    updated = client.chat_update(channel="C1", ts=posted["ts"], text="v2")
    assert (updated["channel"], updated["ts"], updated["text"]) == ("C1", posted["ts"], "v2")
    assert client.chat_postEphemeral(channel="C1", user="U1", text="psst")["message_ts"]

    modal = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "KPI"},
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}],
    }
    opened = client.views_open(trigger_id="123.456", view=modal)
    assert opened["view"]["id"] == "V1"
    assert opened["view"]["title"]["text"] == "KPI"
    assert client.views_update(view_id="V1", view=modal)["view"]["id"] == "V1"
    assert client.views_push(trigger_id="1", view=modal)["ok"]
    home = {"type": "home", "blocks": [{"type": "divider"}]}
    first = client.views_publish(user_id="U1", view=home)["view"]["id"]
    assert client.views_publish(user_id="U1", view=home)["view"]["id"] == first

    with pytest.raises(SlackApiError) as info:
        client.views_open(trigger_id="1", view={**modal, "title": {"type": "mrkdwn", "text": "x"}})
    assert info.value.response["error"] == "invalid_arguments"


def test_users_info_locale_only_when_asked(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    user = client.users_info(user="U1")["user"]
    assert user["id"] == "U1"
    assert user["tz"] == "America/New_York"
    assert "locale" not in user
    assert client.users_info(user="U1", include_locale=True)["user"]["locale"] == "en-US"

    fake_slack.set_user("U2", tz="Europe/Copenhagen", locale="da-DK")
    user = client.users_info(user="U2", include_locale=True)["user"]
    assert (user["tz"], user["locale"]) == ("Europe/Copenhagen", "da-DK")


def test_files_upload_v2_round_trip(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    result = client.files_upload_v2(channel="C1", content="day,roas\n1,3.2\n", filename="kpi.csv")
    assert result["ok"] is True
    file_id = result["file"]["id"]
    assert file_id.startswith("F")
    assert fake_slack.uploads()[file_id].content == b"day,roas\n1,3.2\n"
    assert fake_slack.uploads()[file_id].filename == "kpi.csv"
    assert [c.method for c in fake_slack.calls] == [
        "files.getUploadURLExternal",
        f"upload/{file_id}",
        "files.completeUploadExternal",
    ]
    complete = fake_slack.calls_to("files.completeUploadExternal")[0]
    assert complete.params["files"][0]["id"] == file_id
    assert complete.params["channel_id"] == "C1"


def test_unknown_method_and_set_response(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    with pytest.raises(SlackApiError) as info:
        client.pins_list(channel="C1")
    assert info.value.response["error"] == "unknown_method"

    fake_slack.set_response(
        "pins.list",
        lambda params: {"ok": True, "items": [{"channel": params["channel"]}]},
    )
    assert client.pins_list(channel="C9")["items"] == [{"channel": "C9"}]


def test_set_response_overrides_a_known_method(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    fake_slack.set_response(
        "conversations.info",
        lambda params: {"ok": True, "channel": {"id": params["channel"], "name": "marketing"}},
    )
    assert client.conversations_info(channel="C9")["channel"] == {"id": "C9", "name": "marketing"}


def test_channels_exist_and_take_posts_unless_set_otherwise(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    assert client.conversations_info(channel="C1")["channel"]["is_member"] is True
    fake_slack.set_channel("C2", exists=False)
    fake_slack.set_channel("C3", is_archived=True)
    fake_slack.set_channel("G4", is_private=True, is_member=False)
    fake_slack.set_channel("C5", is_member=False)
    for channel, error in (
        ("C2", "channel_not_found"),
        ("C3", "is_archived"),
        ("G4", "not_in_channel"),
        ("C5", "not_in_channel"),  # public, not joined: no chat:write.public
    ):
        with pytest.raises(SlackApiError) as info:
            client.chat_postMessage(channel=channel, text="hi")
        assert info.value.response["error"] == error
    with pytest.raises(SlackApiError):
        client.conversations_info(channel="C2")


def test_conversations_open_gives_a_dm_channel(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    opened = client.conversations_open(users="U42")
    assert opened["channel"]["id"] == fake_slack.dm_channel("U42") == "D42"
    assert client.chat_postMessage(channel="D42", text="hello")["channel"] == "D42"


def test_response_url_accepts_json_and_records_it(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("r1")
    payload = {"response_type": "ephemeral", "text": "ROAS 3.2"}
    response = requests.post(url, json=payload, timeout=5)
    assert (response.status_code, response.text) == (200, "ok")
    call = fake_slack.calls_to("response/r1")[0]
    assert call.params == payload
    assert call.json() == payload

    webhook = WebhookClient(fake_slack.response_url("r2"))
    assert webhook.send(text="via WebhookClient", replace_original=True).body == "ok"
    assert fake_slack.calls_to("response/r2")[0].params["replace_original"] is True


def test_response_url_failures(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("r1")
    fake_slack.fail_next_response("r1", error="expired_url")
    fake_slack.fail_next_response("r1", status=500)
    fake_slack.fail_next("response/r1", status=429, retry_after=2)

    expired = requests.post(url, json={"text": "a"}, timeout=5)
    assert (expired.status_code, expired.text) == (404, "expired_url")
    assert requests.post(url, json={"text": "a"}, timeout=5).status_code == 500
    limited = requests.post(url, json={"text": "a"}, timeout=5)
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "2")
    assert requests.post(url, json={"text": "a"}, timeout=5).status_code == 200
    assert [c.status for c in fake_slack.calls_to("response/r1")] == [404, 500, 429, 200]

    assert requests.post(url, data="not json", timeout=5).status_code == 400
    assert requests.post(url, json={"replace_original": True}, timeout=5).text == "no_text"


def test_wait_for_async_response(fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url("late")

    def answer_later() -> None:
        requests.post(url, json={"text": "one"}, timeout=5)
        requests.post(url, json={"text": "two"}, timeout=5)

    timer = threading.Timer(0.2, answer_later)
    timer.start()
    try:
        calls = fake_slack.wait_for("response/late", count=2, timeout=5)
    finally:
        timer.join()
    assert [c.params["text"] for c in calls] == ["one", "two"]


def test_wait_for_times_out_with_a_useful_message(fake_slack: FakeSlack) -> None:
    requests.post(f"{fake_slack.url}auth.test", data={"token": "t"}, timeout=5)
    with pytest.raises(AssertionError, match=r"response/r1.*got 0.*auth\.test\[200\]"):
        fake_slack.wait_for("response/r1", timeout=0.2)


def test_down_refuse_then_up_on_the_same_port(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    url = fake_slack.url
    fake_slack.down()
    assert not fake_slack.is_up
    with pytest.raises(urllib.error.URLError):
        client.auth_test()
    with pytest.raises(requests.ConnectionError):
        requests.post(fake_slack.response_url(), json={"text": "x"}, timeout=5)
    assert fake_slack.calls == []

    fake_slack.up()
    assert fake_slack.url == url
    assert client.auth_test()["ok"]


def test_down_drop_closes_connections_without_answer(fake_slack: FakeSlack) -> None:
    fake_slack.down("drop")
    with pytest.raises(requests.ConnectionError):
        requests.post(fake_slack.response_url(), json={"text": "x"}, timeout=5)
    call = fake_slack.calls_to("response/r1")[0]
    assert (call.status, call.error, call.ok) == (0, "connection_dropped", False)
    fake_slack.up()
    assert requests.post(fake_slack.response_url(), json={"text": "x"}, timeout=5).ok


def test_down_hang_makes_clients_time_out(fake_slack: FakeSlack) -> None:
    fake_slack.down("hang")
    with pytest.raises(requests.Timeout):
        requests.post(fake_slack.response_url(), json={"text": "x"}, timeout=0.3)
    assert fake_slack.calls_to("response/r1")[0].error == "hung"
    fake_slack.up()
    assert requests.post(fake_slack.response_url(), json={"text": "x"}, timeout=5).ok


def test_reset_forgets_calls_and_failures(fake_slack: FakeSlack) -> None:
    client = client_for(fake_slack)
    client.auth_test()
    fake_slack.fail_next("auth.test", status=500)
    fake_slack.reset()
    assert fake_slack.calls == []
    assert client.auth_test()["ok"]


def test_bolt_app_initialises_against_the_fake(fake_slack: FakeSlack) -> None:
    from slack_bolt import App

    app = App(signing_secret="secret", client=client_for(fake_slack))
    assert app.client.base_url == fake_slack.url
    assert fake_slack.calls_to("auth.test")
