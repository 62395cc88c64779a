"""Self-tests for the Block Kit validator and the mrkdwn mention check."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.blockkit import (
    assert_no_mentions,
    assert_valid_message,
    find_unescaped_mrkdwn,
    validate_message,
)


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def button(action_id: str, label: str = "Open") -> dict[str, Any]:
    return {"type": "button", "text": plain(label), "action_id": action_id, "value": "v"}


def valid_message() -> dict[str, Any]:
    """blocks: 0 header, 1 section+accessory, 2 divider, 3 section fields, 4 context,
    5 actions, 6 image."""
    return {
        "response_type": "ephemeral",
        "text": "ROAS for spring_sale: 3.2",
        "blocks": [
            {"type": "header", "block_id": "head", "text": plain("Campaign KPIs")},
            {
                "type": "section",
                "text": mrkdwn("*spring_sale* — ROAS *3.2*"),
                "accessory": {
                    "type": "button",
                    "text": plain("Details"),
                    "action_id": "kpi_details",
                    "value": "spring_sale",
                    "url": "https://example.com/c/1",
                    "style": "primary",
                    "confirm": {
                        "title": plain("Sure?"),
                        "text": mrkdwn("Open the dashboard"),
                        "confirm": plain("Yes"),
                        "deny": plain("No"),
                    },
                },
            },
            {"type": "divider"},
            {"type": "section", "fields": [mrkdwn("*Spend*\n$1,200"), mrkdwn("*Revenue*\n$3,840")]},
            {
                "type": "context",
                "elements": [
                    mrkdwn("Data as of 09:00 UTC"),
                    {"type": "image", "image_url": "https://example.com/i.png", "alt_text": "i"},
                ],
            },
            {
                "type": "actions",
                "elements": [
                    button("kpi_prev"),
                    button("kpi_next"),
                    {
                        "type": "static_select",
                        "action_id": "kpi_period",
                        "placeholder": plain("Period"),
                        "options": [
                            {"text": plain("Last 7 days"), "value": "7d"},
                            {"text": plain("Last 30 days"), "value": "30d"},
                        ],
                    },
                    {
                        "type": "overflow",
                        "action_id": "kpi_more",
                        "options": [
                            {"text": plain("Export CSV"), "value": "csv"},
                            {"text": plain("Help"), "value": "help", "url": "https://x.test"},
                        ],
                    },
                ],
            },
            {
                "type": "image",
                "image_url": "https://example.com/chart.png",
                "alt_text": "ROAS chart",
                "title": plain("ROAS"),
            },
        ],
    }


def valid_modal() -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": "kpi_settings",
        "title": plain("KPI settings"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "private_metadata": "C1",
        "blocks": [
            {
                "type": "input",
                "block_id": "margin",
                "label": plain("Gross margin"),
                "element": {"type": "plain_text_input", "action_id": "margin_value"},
                "hint": plain("A fraction such as 0.4"),
            }
        ],
    }


def test_valid_message_passes() -> None:
    message = valid_message()
    assert validate_message(message) == []
    assert_valid_message(message)


def test_valid_modal_and_home_pass() -> None:
    assert validate_message(valid_modal(), surface="modal") == []
    home = {"type": "home", "blocks": [{"type": "divider"}] * 100}
    assert validate_message(home, surface="home") == []


def test_validate_does_not_modify_the_message() -> None:
    message = valid_message()
    before = copy.deepcopy(message)
    validate_message(message)
    assert message == before


Mutation = Callable[[dict[str, Any]], None]


def _set(path: list[Any], value: Any) -> Mutation:
    def mutate(message: dict[str, Any]) -> None:
        node: Any = message
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _append(path: list[Any], value: Any) -> Mutation:
    def mutate(message: dict[str, Any]) -> None:
        node: Any = message
        for key in path:
            node = node[key]
        node.append(value)

    return mutate


LONG = "x" * 3001


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(
            _set(["blocks"], [{"type": "divider"}] * 51),
            "blocks[50]: more than 50 blocks (got 51)",
            id="too-many-blocks",
        ),
        pytest.param(
            _set(["text"], "x" * 40_001),
            "text: longer than 40000 characters",
            id="message-text",
        ),
        pytest.param(
            _set(["response_type"], "public"),
            "response_type: must be 'ephemeral' or 'in_channel'",
            id="response-type",
        ),
        pytest.param(
            _set(["blocks", 0, "block_id"], "b" * 256),
            "blocks[0].block_id: longer than 255 characters",
            id="block-id-length",
        ),
        pytest.param(
            _set(["blocks", 2, "block_id"], "head"),
            "blocks[2].block_id: duplicate block_id 'head' (also at blocks[0])",
            id="block-id-duplicate",
        ),
        pytest.param(
            _set(["blocks", 1, "text", "text"], LONG),
            "blocks[1].text.text: longer than 3000 characters (got 3001)",
            id="section-text",
        ),
        pytest.param(
            _set(["blocks", 3, "fields"], [mrkdwn("f")] * 11),
            "blocks[3].fields[10]: more than 10 fields (got 11)",
            id="section-fields-count",
        ),
        pytest.param(
            _set(["blocks", 3, "fields", 1], mrkdwn("x" * 2001)),
            "blocks[3].fields[1].text: longer than 2000 characters",
            id="section-field-length",
        ),
        pytest.param(
            _set(["blocks", 3], {"type": "section"}),
            "blocks[3]: section needs text or fields",
            id="section-empty",
        ),
        pytest.param(
            _set(["blocks", 0, "text"], mrkdwn("*KPIs*")),
            "blocks[0].text: must be plain_text (got mrkdwn)",
            id="header-mrkdwn",
        ),
        pytest.param(
            _set(["blocks", 0, "text"], plain("h" * 151)),
            "blocks[0].text.text: longer than 150 characters",
            id="header-length",
        ),
        pytest.param(
            _set(["blocks", 4, "elements"], []),
            "blocks[4].elements: needs at least 1 elements",
            id="context-empty",
        ),
        pytest.param(
            _set(["blocks", 4, "elements"], [mrkdwn("c")] * 11),
            "blocks[4].elements[10]: more than 10 elements",
            id="context-count",
        ),
        pytest.param(
            _set(["blocks", 4, "elements", 0], mrkdwn("c" * 2001)),
            "blocks[4].elements[0].text: longer than 2000 characters",
            id="context-text-length",
        ),
        pytest.param(
            _set(["blocks", 4, "elements", 0], button("in_context")),
            "blocks[4].elements[0].type: context elements must be text or image",
            id="context-button",
        ),
        pytest.param(
            _set(["blocks", 5, "elements"], [button(f"b{i}") for i in range(26)]),
            "blocks[5].elements[25]: more than 25 elements (got 26)",
            id="actions-count",
        ),
        pytest.param(
            _set(["blocks", 5, "elements", 0, "text"], plain("l" * 76)),
            "blocks[5].elements[0].text.text: longer than 75 characters",
            id="button-text-length",
        ),
        pytest.param(
            _set(["blocks", 5, "elements", 0, "text"], mrkdwn("*Go*")),
            "blocks[5].elements[0].text: must be plain_text",
            id="button-text-mrkdwn",
        ),
        pytest.param(
            _set(["blocks", 5, "elements", 0, "action_id"], "a" * 256),
            "blocks[5].elements[0].action_id: longer than 255 characters",
            id="action-id-length",
        ),
        pytest.param(
            _set(["blocks", 5, "elements", 1, "action_id"], "kpi_details"),
            "blocks[5].elements[1].action_id: duplicate action_id 'kpi_details' "
            "(also at blocks[1].accessory)",
            id="action-id-duplicate",
        ),
        pytest.param(
            _set(["blocks", 5, "elements", 0, "value"], "v" * 2001),
            "blocks[5].elements[0].value: longer than 2000 characters",
            id="button-value",
        ),
        pytest.param(
            _set(["blocks", 1, "accessory", "url"], "https://x.test/" + "u" * 3000),
            "blocks[1].accessory.url: longer than 3000 characters",
            id="button-url",
        ),
        pytest.param(
            _set(["blocks", 5, "elements", 0, "style"], "secondary"),
            "blocks[5].elements[0].style: must be 'primary' or 'danger'",
            id="button-style",
        ),
        pytest.param(
            _set(["blocks", 1, "accessory", "confirm", "title"], plain("t" * 101)),
            "blocks[1].accessory.confirm.title.text: longer than 100 characters",
            id="confirm-title",
        ),
        pytest.param(
            _set(["blocks", 5, "elements", 2, "options", 0, "value"], "v" * 151),
            "blocks[5].elements[2].options[0].value: longer than 150 characters",
            id="option-value",
        ),
        pytest.param(
            _set(["blocks", 5, "elements", 3, "options"], [{"text": plain("a"), "value": "a"}]),
            "blocks[5].elements[3].options: needs at least 2 options",
            id="overflow-options",
        ),
        pytest.param(
            _set(["blocks", 2, "text"], mrkdwn("no")),
            "blocks[2]: unexpected key 'text' in divider block",
            id="divider-extra-key",
        ),
        pytest.param(
            _set(["blocks", 6, "image_url"], "https://x.test/" + "i" * 3000),
            "blocks[6].image_url: longer than 3000 characters",
            id="image-url",
        ),
        pytest.param(
            _set(["blocks", 6, "alt_text"], "a" * 2001),
            "blocks[6].alt_text: longer than 2000 characters",
            id="image-alt-text",
        ),
        pytest.param(
            lambda m: m["blocks"][6].pop("alt_text"),
            "blocks[6].alt_text: missing",
            id="image-alt-text-missing",
        ),
        pytest.param(
            _set(["blocks", 1, "text"], {"type": "markdown", "text": "x"}),
            "blocks[1].text.type: must be 'plain_text' or 'mrkdwn' (got 'markdown')",
            id="text-object-type",
        ),
        pytest.param(
            _set(["blocks", 1, "text"], mrkdwn("")),
            "blocks[1].text.text: empty text",
            id="text-object-empty",
        ),
        pytest.param(
            _set(["blocks", 1, "text"], {"type": "mrkdwn", "text": "x", "emoji": True}),
            "blocks[1].text: unexpected key 'emoji' in mrkdwn text object",
            id="text-object-key",
        ),
        pytest.param(
            _append(["blocks"], {"type": "carousel", "elements": []}),
            "blocks[7].type: unknown block type 'carousel'",
            id="unknown-block",
        ),
        pytest.param(
            _set(["blocks", 3, "fileds"], []),
            "blocks[3]: unexpected key 'fileds' in section block",
            id="typo-key",
        ),
    ],
)
def test_each_violation_is_reported_with_its_path(mutate: Mutation, expected: str) -> None:
    message = valid_message()
    mutate(message)
    problems = validate_message(message)
    assert any(p.startswith(expected) for p in problems), problems


def test_modal_limits() -> None:
    modal = valid_modal()
    modal["title"] = plain("t" * 25)
    del modal["submit"]
    modal["blocks"] = modal["blocks"] * 101
    problems = validate_message(modal, surface="modal")
    assert "title.text: longer than 24 characters (got 25)" in problems
    assert "submit: required when the modal has input blocks" in problems
    assert "blocks[100]: more than 100 blocks (got 101)" in problems
    assert any("duplicate block_id 'margin'" in p for p in problems)


def test_modal_surface_checks_view_type() -> None:
    assert "type: must be 'modal' (got 'home')" in validate_message(
        {**valid_modal(), "type": "home"}, surface="modal"
    )


def test_unknown_surface_is_an_error() -> None:
    with pytest.raises(ValueError, match="surface"):
        validate_message({"text": "x"}, surface="dialog")


def test_message_without_content_and_fallback_text() -> None:
    assert validate_message({}) == ["<root>: message has no text, blocks or attachments"]
    assert validate_message({"delete_original": True}) == []
    blocks_only = {"blocks": [{"type": "divider"}]}
    assert validate_message(blocks_only) == []
    assert validate_message(blocks_only, require_fallback_text=True) == [
        "text: missing fallback text for a message with blocks"
    ]


def test_action_id_scope_block_allows_reuse_across_blocks() -> None:
    message: dict[str, Any] = {
        "text": "t",
        "blocks": [
            {"type": "actions", "elements": [button("details")]},
            {"type": "actions", "elements": [button("details")]},
        ],
    }
    assert len(validate_message(message)) == 1
    assert validate_message(message, action_id_scope="block") == []
    message["blocks"][0]["elements"].append(button("details"))
    assert len(validate_message(message, action_id_scope="block")) == 1


def test_assert_valid_message_lists_problems() -> None:
    message = valid_message()
    message["blocks"][3]["fields"] = [mrkdwn("f")] * 11
    with pytest.raises(AssertionError, match=r"blocks\[3\]\.fields\[10\]: more than 10 fields"):
        assert_valid_message(message)


# --------------------------------------------------------------------------- mentions


def section(text: str) -> dict[str, Any]:
    return {"text": "fallback", "blocks": [{"type": "section", "text": mrkdwn(text)}]}


@pytest.mark.parametrize(
    "text",
    [
        "Campaign <!channel> summer",
        "<!here> ROAS",
        "<!everyone>",
        "owner <@U123ABC>",
        "see <#C0123|general>",
        "<!subteam^S123>",
        "a <b> c",
        "<https://example.com|Campaign <!here>>",
    ],
)
def test_mentions_and_raw_angle_brackets_are_flagged(text: str) -> None:
    problems = find_unescaped_mrkdwn(section(text))
    assert problems and all(p.startswith("blocks[0].text.text: ") for p in problems), problems
    with pytest.raises(AssertionError, match="unescaped mrkdwn"):
        assert_no_mentions(section(text))


@pytest.mark.parametrize(
    "text",
    [
        "Campaign &lt;!channel&gt; summer",
        "<https://example.com/c/1|spring_sale> ROAS 3.2",
        "ROAS 3 &gt; 2 &amp; CPA &lt; 10",
        "",
    ],
)
def test_escaped_text_and_own_links_pass(text: str) -> None:
    assert find_unescaped_mrkdwn(section(text)) == []
    assert_no_mentions(section(text))


def test_top_level_text_attachments_and_fields_are_checked() -> None:
    message = {
        "text": "<!here> alert",
        "blocks": [{"type": "section", "fields": [mrkdwn("ok"), mrkdwn("<@U1>")]}],
        "attachments": [{"text": "<!channel>", "fields": [{"title": "t", "value": "<#C1>"}]}],
    }
    problems = find_unescaped_mrkdwn(message)
    assert [p.split(":")[0] for p in problems] == [
        "text",
        "blocks[0].fields[1].text",
        "attachments[0].text",
        "attachments[0].fields[0].value",
    ]
    assert "broadcast/special mention" in problems[0]
    assert "user mention" in problems[1]


def test_plain_text_is_not_checked() -> None:
    message = {"blocks": [{"type": "header", "text": plain("<!channel> is literal here")}]}
    assert find_unescaped_mrkdwn(message) == []


def test_allowed_prefixes_can_permit_user_mentions() -> None:
    message = section("requested by <@U123>, see <https://x.test|dashboard>")
    assert find_unescaped_mrkdwn(message)
    assert find_unescaped_mrkdwn(message, allowed_prefixes=("<http", "<@")) == []


def test_rich_text_mention_elements_are_flagged() -> None:
    message = {
        "blocks": [
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "<!channel> stays literal"},
                            {"type": "broadcast", "range": "channel"},
                        ],
                    }
                ],
            }
        ]
    }
    assert find_unescaped_mrkdwn(message) == [
        "blocks[0].elements[0].elements[1]: rich_text broadcast element mentions or links"
    ]
