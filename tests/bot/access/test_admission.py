"""Who may ask: AccessService.admit and require_admin as wired by the composition root, asking
the fake Slack's users.info and auth.test over real HTTP."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from bot.access.people import PeopleCache
from bot.access.service import AccessService, Reason, Refused, Viewer
from bot.composition import Components, build
from bot.config import Settings
from bot.slack.poster import SlackPeople, lookup_client
from tests.support.fake_slack import AUTH_TEST, FakeSlack

MEMBER = Viewer("UMEMBER1", "CSALES1")
START = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
Wire = Callable[..., AccessService]


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def wire(tmp_path: Path, slack: FakeSlack) -> Iterator[Wire]:
    built: list[Components] = []

    def wired(**env: str) -> AccessService:
        settings = Settings.from_mapping(
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / f'kpibot{len(built)}.db'}",
                "SLACK_BOT_TOKEN": "xoxb-access-test",
                "SLACK_API_URL": slack.url,
                **env,
            }
        )
        built.append(build(settings))
        return built[-1].access

    yield wired
    for components in built:
        components.dispose()


def refusal(access: AccessService, viewer: Viewer) -> Reason | None:
    try:
        access.admit(viewer)
    except Refused as refused:
        return refused.reason
    return None


def looked_up(slack: FakeSlack) -> list[str]:
    return [str(call.params["user"]) for call in slack.calls_to("users.info")]


def test_a_full_member_is_admitted(wire: Wire, slack: FakeSlack) -> None:
    access = wire()
    assert refusal(access, MEMBER) is None
    assert looked_up(slack) == [MEMBER.user]
    assert len(slack.calls_to("auth.test")) == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"is_restricted": True}, Reason.GUEST),
        ({"is_ultra_restricted": True}, Reason.GUEST),
        ({"is_restricted": True, "is_ultra_restricted": True}, Reason.GUEST),
        ({"team_id": "T2"}, Reason.EXTERNAL),
        ({"team_id": "T2", "enterprise_user": {"enterprise_id": "E9"}}, Reason.EXTERNAL),
        ({"team_id": "T1", "is_admin": True}, None),
    ],
)
def test_guests_and_other_organisations_are_refused_by_default(
    wire: Wire, slack: FakeSlack, fields: dict[str, object], reason: Reason | None
) -> None:
    slack.set_user("UWHO1", **fields)
    assert refusal(wire(), Viewer("UWHO1", "CSALES1")) == reason


def test_the_refusal_says_why_and_who_can_change_it(wire: Wire, slack: FakeSlack) -> None:
    access = wire()
    slack.set_user("UGUEST1", is_restricted=True)
    slack.set_user("UOUT1", team_id="T2")
    with pytest.raises(Refused) as guest:
        access.admit(Viewer("UGUEST1", "CSALES1"))
    with pytest.raises(Refused) as outsider:
        access.admit(Viewer("UOUT1", "CSALES1"))
    assert "for members of this workspace" in str(guest.value)
    assert "KPIBOT_ALLOW_GUESTS" in str(guest.value)
    assert "Slack Connect" in str(outsider.value)
    assert "KPIBOT_ALLOW_EXTERNAL" in str(outsider.value)


@pytest.mark.parametrize(
    ("env", "guest", "outsider"),
    [
        ({"KPIBOT_ALLOW_GUESTS": "1"}, None, Reason.EXTERNAL),
        ({"KPIBOT_ALLOW_EXTERNAL": "true"}, Reason.GUEST, None),
        ({"KPIBOT_ALLOW_GUESTS": "yes", "KPIBOT_ALLOW_EXTERNAL": "1"}, None, None),
    ],
)
def test_the_allow_settings_let_each_group_in(
    wire: Wire, slack: FakeSlack, env: dict[str, str], guest: Reason | None, outsider: Reason | None
) -> None:
    slack.set_user("UGUEST2", is_ultra_restricted=True)
    slack.set_user("UOUT2", team_id="T2")
    access = wire(**env)
    assert refusal(access, Viewer("UGUEST2", "C1")) == guest
    assert refusal(access, Viewer("UOUT2", "C1")) == outsider


def test_with_both_allowed_nobody_is_looked_up_even_when_slack_is_down(
    wire: Wire, slack: FakeSlack
) -> None:
    access = wire(KPIBOT_ALLOW_GUESTS="1", KPIBOT_ALLOW_EXTERNAL="1")
    slack.down()
    assert refusal(access, MEMBER) is None
    slack.up()
    assert slack.calls == []


def test_enterprise_grid_colleagues_from_a_sibling_workspace_are_not_outsiders(
    wire: Wire, slack: FakeSlack
) -> None:
    slack.set_response("auth.test", {**AUTH_TEST, "enterprise_id": "E1"})
    slack.set_user("USIBLING", team_id="T7", enterprise_user={"enterprise_id": "E1"})
    slack.set_user("UOTHERORG", team_id="T8", enterprise_user={"enterprise_id": "E2"})
    slack.set_user("UNOGRID", team_id="T9")
    access = wire()
    assert refusal(access, Viewer("USIBLING", "C1")) is None
    assert refusal(access, Viewer("UOTHERORG", "C1")) == Reason.EXTERNAL
    assert refusal(access, Viewer("UNOGRID", "C1")) == Reason.EXTERNAL
    assert refusal(access, MEMBER) is None  # the installing team itself
    assert len(slack.calls_to("auth.test")) == 1  # asked once per process


def test_users_info_is_asked_once_within_the_cache_time_and_again_after(
    wire: Wire, slack: FakeSlack
) -> None:
    with time_machine.travel(START, tick=False) as traveller:
        access = wire(KPIBOT_USER_CACHE="600")
        for _ in range(3):
            assert refusal(access, MEMBER) is None
        assert looked_up(slack) == [MEMBER.user]
        traveller.shift(timedelta(seconds=599))
        assert refusal(access, MEMBER) is None
        assert looked_up(slack) == [MEMBER.user]
        # A guest after the cache time is seen as a guest: nobody keeps access for longer.
        slack.set_user(MEMBER.user, is_restricted=True)
        traveller.shift(timedelta(seconds=2))
        assert refusal(access, MEMBER) == Reason.GUEST
        assert looked_up(slack) == [MEMBER.user] * 2


def test_a_cache_time_of_zero_asks_every_time(wire: Wire, slack: FakeSlack) -> None:
    access = wire(KPIBOT_USER_CACHE="0")
    for _ in range(3):
        assert refusal(access, MEMBER) is None
    assert looked_up(slack) == [MEMBER.user] * 3


@pytest.mark.parametrize("mode", ["refuse", "drop"])
def test_slack_unreachable_fails_closed_and_is_not_remembered(
    wire: Wire, slack: FakeSlack, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    access = wire()
    slack.down(mode)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="kpibot.access"), pytest.raises(Refused) as refused:
        access.admit(MEMBER)
    assert refused.value.reason is Reason.IDENTITY_UNKNOWN
    assert f"refused user={MEMBER.user} channel={MEMBER.channel} reason=identity_unknown" in (
        caplog.text
    )
    assert "could not check who you are" in str(refused.value)
    assert "try again" in str(refused.value)
    assert "Sorry, something went wrong" not in str(refused.value)  # not an apology
    slack.up()
    assert refusal(access, MEMBER) is None


@pytest.mark.parametrize(
    ("method", "failure"),
    [
        ("users.info", {"status": 429, "retry_after": 30}),
        ("users.info", {"error": "user_not_found"}),
        ("users.info", {"status": 503}),
        ("auth.test", {"error": "invalid_auth"}),
    ],
)
def test_any_failed_lookup_refuses(
    wire: Wire, slack: FakeSlack, method: str, failure: dict[str, object]
) -> None:
    access = wire()
    slack.fail_next(method, **failure)  # type: ignore[arg-type]
    assert refusal(access, MEMBER) == Reason.IDENTITY_UNKNOWN
    # One try: a rate limit or an outage costs the user a "try again", not a sleeping thread.
    assert len(slack.calls_to(method)) == 1
    assert refusal(access, MEMBER) is None


def test_a_hung_slack_is_given_up_on_in_bounded_time(wire: Wire, slack: FakeSlack) -> None:
    access = wire()
    slack.down("hang")
    started = time.monotonic()
    try:
        assert refusal(access, MEMBER) == Reason.IDENTITY_UNKNOWN
    finally:
        slack.up()
    assert time.monotonic() - started < 8


def test_every_refusal_is_logged_once_with_ids_and_the_reason_only(
    wire: Wire, slack: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    access = wire()
    slack.set_user("UGUEST3", is_restricted=True, real_name="Secret Name")
    slack.set_user("UOUT3", team_id="T2")
    slack.set_user("UPLAIN3")
    with caplog.at_level(logging.INFO, logger="kpibot.access"):
        for viewer in (Viewer("UGUEST3", "CG1"), Viewer("UOUT3", "CO1")):
            with pytest.raises(Refused):
                access.admit(viewer)
        with pytest.raises(Refused):
            access.require_admin(Viewer("UPLAIN3", "CA1"))
        assert refusal(access, MEMBER) is None
    lines = [r.getMessage() for r in caplog.records if r.name == "kpibot.access"]
    assert lines == [
        "refused user=UGUEST3 channel=CG1 reason=guest",
        "refused user=UOUT3 channel=CO1 reason=external",
        "refused user=UPLAIN3 channel=CA1 reason=not_admin",
    ]
    assert "Secret Name" not in caplog.text
    assert "xoxb-access-test" not in caplog.text


@pytest.mark.parametrize("flag", ["is_admin", "is_owner", "is_primary_owner"])
def test_admins_and_owners_pass_the_admin_check(wire: Wire, slack: FakeSlack, flag: str) -> None:
    slack.set_user("UBOSS", **{flag: True})
    wire().require_admin(Viewer("UBOSS", "C1"))


def test_the_admin_check_uses_the_same_cache(wire: Wire, slack: FakeSlack) -> None:
    access = wire()
    slack.set_user("UBOSS2", is_admin=True)
    access.admit(Viewer("UBOSS2", "C1"))
    access.require_admin(Viewer("UBOSS2", "C1"))
    with pytest.raises(Refused) as refused:
        access.require_admin(MEMBER)
    assert refused.value.reason is Reason.NOT_ADMIN
    assert looked_up(slack) == ["UBOSS2", MEMBER.user]


def test_the_cache_is_bounded_and_forgets_the_least_recently_asked(slack: FakeSlack) -> None:
    settings = Settings.from_mapping({"SLACK_BOT_TOKEN": "xoxb-t", "SLACK_API_URL": slack.url})
    people = PeopleCache(SlackPeople(lookup_client(settings)), timedelta(minutes=10), size=2)
    for user in ("UA", "UB", "UA", "UC", "UA", "UB"):
        assert people.person(user).user == user
    # UB was forgotten when UC came (UA had been asked more recently), then asked again.
    assert looked_up(slack) == ["UA", "UB", "UC", "UB"]


def test_answering_threads_share_the_cache_safely(wire: Wire, slack: FakeSlack) -> None:
    access = wire()
    for n in range(5):
        slack.set_user(f"UG{n}", is_restricted=True)
    results: list[tuple[str, Reason | None]] = []
    lock = threading.Lock()

    def ask(user: str) -> None:
        for _ in range(20):
            found = refusal(access, Viewer(user, "C1"))
            with lock:
                results.append((user, found))

    users = [f"UG{n}" for n in range(5)] + [f"UM{n}" for n in range(5)]
    threads = [threading.Thread(target=ask, args=(user,)) for user in users for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 400
    assert all((found is Reason.GUEST) == user.startswith("UG") for user, found in results)
    assert len(looked_up(slack)) <= 2 * len(users)  # at most one lookup per thread racing
