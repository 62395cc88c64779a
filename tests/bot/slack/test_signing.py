from __future__ import annotations

from slack_sdk.signature import Clock, SignatureVerifier

from bot.slack.signing import signed_headers, slack_signature

# Slack's documented example (BRIEF §4).
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TIMESTAMP = "1531420618"
BODY = (
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
    "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
    "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIG"
    "lgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
EXPECTED = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"


class _At(Clock):
    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def test_slacks_documented_vector_signs_as_documented() -> None:
    assert slack_signature(SECRET, TIMESTAMP, BODY) == EXPECTED


def test_slacks_documented_vector_verifies_with_the_verifier_bolt_uses() -> None:
    verifier = SignatureVerifier(SECRET, clock=_At(int(TIMESTAMP) + 10))
    assert verifier.is_valid(body=BODY, timestamp=TIMESTAMP, signature=EXPECTED)


def test_the_documented_vector_is_stale_six_minutes_later() -> None:
    verifier = SignatureVerifier(SECRET, clock=_At(int(TIMESTAMP) + 6 * 60))
    assert not verifier.is_valid(body=BODY, timestamp=TIMESTAMP, signature=EXPECTED)


def test_signed_headers_carry_timestamp_and_signature() -> None:
    headers = signed_headers(SECRET, BODY, timestamp=int(TIMESTAMP))
    assert headers["x-slack-request-timestamp"] == TIMESTAMP
    assert headers["x-slack-signature"] == EXPECTED
