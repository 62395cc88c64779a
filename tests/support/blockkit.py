"""Offline checks for Block Kit payloads, so tests catch what Slack would reject.

``validate_message(payload, surface=...)`` returns a list of problems (empty means valid); each
problem starts with the JSON path of the offending value, e.g.
``"blocks[3].fields[10]: more than 10 fields (got 11)"``. ``assert_valid_message`` raises
``AssertionError`` listing them.

The limits are Slack's documented Block Kit limits (block, element, composition object and view
reference pages). Lengths are counted in Python characters (code points). Block types and
elements this module knows but does not model in detail (``rich_text``, ``markdown``, ``file``,
``video``, ``table``, ``context_actions``, most input elements) only get the generic checks
(``block_id``/``action_id``, placeholders, options); unknown block types are reported.

``find_unescaped_mrkdwn(payload)`` / ``assert_no_mentions(payload)`` look for text that Slack
would interpret as a mention, broadcast or link: any ``<`` in mrkdwn text that does not start one
of ``allowed_prefixes`` (by default only ``"<http"``, i.e. the app's own links). Data that came
from users or spreadsheets must reach Slack escaped as ``&lt;``/``&gt;``/``&amp;``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

__all__ = [
    "MAX_BLOCKS",
    "assert_no_mentions",
    "assert_valid_message",
    "find_unescaped_mrkdwn",
    "validate_message",
]

MAX_BLOCKS: dict[str, int] = {"message": 50, "modal": 100, "home": 100}
MAX_MESSAGE_TEXT = 40_000
MAX_ID = 255

TEXT_TYPES = ("plain_text", "mrkdwn")
TEXT_KEYS = {"plain_text": {"type", "text", "emoji"}, "mrkdwn": {"type", "text", "verbatim"}}

SELECT_TYPES = {
    "static_select",
    "external_select",
    "users_select",
    "conversations_select",
    "channels_select",
    "multi_static_select",
    "multi_external_select",
    "multi_users_select",
    "multi_conversations_select",
    "multi_channels_select",
}
PICKER_TYPES = {"datepicker", "timepicker", "datetimepicker"}
CHOICE_TYPES = {"checkboxes", "radio_buttons"}
INPUT_ONLY_TYPES = {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "rich_text_input",
    "file_input",
}
ACTIONS_ELEMENT_TYPES = (
    {"button", "overflow", "workflow_button", "rich_text_input"}
    | SELECT_TYPES
    | PICKER_TYPES
    | CHOICE_TYPES
)
ACCESSORY_TYPES = {"button", "image", "overflow", "workflow_button"} | (
    SELECT_TYPES | PICKER_TYPES | CHOICE_TYPES
)
INPUT_ELEMENT_TYPES = INPUT_ONLY_TYPES | SELECT_TYPES | PICKER_TYPES | CHOICE_TYPES

# Keys Slack accepts per block type; anything else is rejected by Slack as invalid_blocks.
BLOCK_KEYS: dict[str, set[str]] = {
    "section": {"type", "block_id", "text", "fields", "accessory", "expand"},
    "header": {"type", "block_id", "text"},
    "context": {"type", "block_id", "elements"},
    "actions": {"type", "block_id", "elements"},
    "divider": {"type", "block_id"},
    "image": {"type", "block_id", "image_url", "slack_file", "alt_text", "title"},
    "input": {"type", "block_id", "label", "element", "dispatch_action", "hint", "optional"},
}
# Known block types only given the generic checks (type, block_id).
LIGHT_BLOCK_TYPES = {"rich_text", "markdown", "file", "video", "table", "context_actions"}
MENTION_ELEMENT_TYPES = {"user", "usergroup", "broadcast", "channel"}


def validate_message(
    message: Mapping[str, Any],
    *,
    surface: str = "message",
    action_id_scope: Literal["message", "block"] = "message",
    require_fallback_text: bool = False,
) -> list[str]:
    """Problems Slack would reject ``message`` for; ``[]`` when it looks valid.

    ``surface`` is ``"message"`` (chat.postMessage/update/postEphemeral or a response_url
    payload), ``"modal"`` or ``"home"`` (a view object). Slack itself only requires action_ids
    to be unique within their block; ``action_id_scope="message"`` (the default) is stricter,
    because kpibot routes actions by action_id. ``require_fallback_text`` reports messages with
    blocks but no top-level ``text`` (used for notifications and screen readers).
    """
    if surface not in MAX_BLOCKS:
        raise ValueError(f"surface must be one of {sorted(MAX_BLOCKS)}, not {surface!r}")
    checker = _Checker(action_id_scope)
    if not isinstance(message, Mapping):
        return [f"<root>: expected an object, got {type(message).__name__}"]
    if surface == "message":
        checker.message_top(message, require_fallback_text=require_fallback_text)
    else:
        checker.view_top(message, surface)
    blocks = message.get("blocks")
    if blocks is not None:
        checker.blocks("blocks", blocks, MAX_BLOCKS[surface])
    attachments = message.get("attachments")
    if attachments is not None:
        if not isinstance(attachments, list):
            checker.add("attachments", "must be a list")
        else:
            for i, attachment in enumerate(attachments):
                if isinstance(attachment, Mapping) and attachment.get("blocks") is not None:
                    path = f"attachments[{i}].blocks"
                    checker.blocks(path, attachment["blocks"], MAX_BLOCKS[surface])
    return checker.problems


def assert_valid_message(
    message: Mapping[str, Any],
    *,
    surface: str = "message",
    action_id_scope: Literal["message", "block"] = "message",
    require_fallback_text: bool = False,
) -> None:
    """Raise ``AssertionError`` listing every problem ``validate_message`` finds."""
    problems = validate_message(
        message,
        surface=surface,
        action_id_scope=action_id_scope,
        require_fallback_text=require_fallback_text,
    )
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"invalid Block Kit {surface} ({len(problems)} problems):\n{listing}")


def find_unescaped_mrkdwn(
    message: Mapping[str, Any], *, allowed_prefixes: Sequence[str] = ("<http",)
) -> list[str]:
    """Places where mrkdwn text contains a ``<`` Slack would parse as a control sequence.

    Checks the top-level ``text``, every ``{"type": "mrkdwn"}`` text object in ``blocks``,
    ``markdown`` blocks, legacy attachment ``text``/``pretext``/``footer``/``fields[].value``, and
    reports rich_text ``user``/``usergroup``/``broadcast``/``channel`` elements. A ``<`` is fine
    only where it starts one of ``allowed_prefixes`` (the app's own link forms). plain_text
    objects are not mrkdwn-interpreted and are not checked.
    """
    problems: list[str] = []
    prefixes = tuple(allowed_prefixes)
    text = message.get("text")
    if isinstance(text, str):
        _check_mrkdwn("text", text, prefixes, problems)
    _walk("blocks", message.get("blocks"), prefixes, problems)
    attachments = message.get("attachments")
    if isinstance(attachments, list):
        for i, attachment in enumerate(attachments):
            if isinstance(attachment, Mapping):
                _check_attachment(f"attachments[{i}]", attachment, prefixes, problems)
    return problems


def assert_no_mentions(
    message: Mapping[str, Any], *, allowed_prefixes: Sequence[str] = ("<http",)
) -> None:
    """Fail if any mrkdwn text could mention, broadcast or link (see find_unescaped_mrkdwn)."""
    problems = find_unescaped_mrkdwn(message, allowed_prefixes=allowed_prefixes)
    if problems:
        listing = "\n".join(f"  - {p}" for p in problems)
        raise AssertionError(f"unescaped mrkdwn control sequences:\n{listing}")


# --------------------------------------------------------------------------- validation


def _describe(value: object) -> str:
    return type(value).__name__


class _Checker:
    def __init__(self, action_id_scope: Literal["message", "block"]) -> None:
        self.problems: list[str] = []
        self.block_ids: dict[str, str] = {}
        self.action_ids: dict[str, str] = {}
        self.action_id_scope = action_id_scope

    def add(self, path: str, problem: str) -> None:
        self.problems.append(f"{path}: {problem}")

    # ---- primitives

    def string(
        self, path: str, value: object, max_len: int, *, required: bool = False, min_len: int = 0
    ) -> None:
        if value is None:
            if required:
                self.add(path, "missing")
            return
        if not isinstance(value, str):
            self.add(path, f"must be a string, got {_describe(value)}")
            return
        if len(value) < min_len:
            self.add(path, f"shorter than {min_len} characters (got {len(value)})")
        if len(value) > max_len:
            self.add(path, f"longer than {max_len} characters (got {len(value)})")

    def keys(self, path: str, obj: Mapping[str, Any], allowed: Iterable[str], what: str) -> None:
        for key in obj:
            if key not in allowed:
                self.add(path, f"unexpected key {key!r} in {what}")

    def text_object(
        self,
        path: str,
        obj: object,
        max_len: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.add(path, "missing text object")
            return
        if not isinstance(obj, Mapping):
            self.add(path, f"expected a text object, got {_describe(obj)}")
            return
        kind = obj.get("type")
        if kind not in TEXT_TYPES:
            self.add(f"{path}.type", f"must be 'plain_text' or 'mrkdwn' (got {kind!r})")
            return
        if plain_only and kind != "plain_text":
            self.add(path, f"must be plain_text (got {kind})")
        self.keys(path, obj, TEXT_KEYS[kind], f"{kind} text object")
        text = obj.get("text")
        if not isinstance(text, str):
            self.add(f"{path}.text", f"missing or not a string (got {_describe(text)})")
        elif not text:
            self.add(f"{path}.text", "empty text")
        elif len(text) > max_len:
            self.add(f"{path}.text", f"longer than {max_len} characters (got {len(text)})")

    def block_id(self, path: str, block: Mapping[str, Any]) -> None:
        if "block_id" not in block:
            return
        value = block["block_id"]
        self.string(f"{path}.block_id", value, MAX_ID, min_len=1)
        if isinstance(value, str):
            if value in self.block_ids:
                self.add(
                    f"{path}.block_id",
                    f"duplicate block_id {value!r} (also at {self.block_ids[value]})",
                )
            else:
                self.block_ids[value] = path

    def action_id(
        self, path: str, element: Mapping[str, Any], seen_in_block: dict[str, str]
    ) -> None:
        if "action_id" not in element:
            return
        value = element["action_id"]
        self.string(f"{path}.action_id", value, MAX_ID, min_len=1)
        if not isinstance(value, str):
            return
        seen = self.action_ids if self.action_id_scope == "message" else seen_in_block
        if value in seen:
            self.add(f"{path}.action_id", f"duplicate action_id {value!r} (also at {seen[value]})")
        else:
            seen[value] = path

    def count(self, path: str, items: object, what: str, lo: int, hi: int) -> list[Any]:
        """Check a list's length; returns the list (or [] when it is not a list)."""
        if not isinstance(items, list):
            self.add(path, f"{what} must be a list, got {_describe(items)}")
            return []
        if len(items) < lo:
            self.add(path, f"needs at least {lo} {what} (got {len(items)})")
        if len(items) > hi:
            self.add(f"{path}[{hi}]", f"more than {hi} {what} (got {len(items)})")
        return items

    # ---- top level

    def message_top(self, message: Mapping[str, Any], *, require_fallback_text: bool) -> None:
        text = message.get("text")
        self.string("text", text, MAX_MESSAGE_TEXT)
        if "response_type" in message and message["response_type"] not in (
            "ephemeral",
            "in_channel",
        ):
            self.add(
                "response_type",
                f"must be 'ephemeral' or 'in_channel' (got {message['response_type']!r})",
            )
        has_content = bool(text) or bool(message.get("blocks")) or bool(message.get("attachments"))
        if not has_content and not message.get("delete_original"):
            self.add("<root>", "message has no text, blocks or attachments")
        if require_fallback_text and message.get("blocks") and not text:
            self.add("text", "missing fallback text for a message with blocks")

    def view_top(self, view: Mapping[str, Any], surface: str) -> None:
        if view.get("type") != surface:
            self.add("type", f"must be {surface!r} (got {view.get('type')!r})")
        if "blocks" not in view:
            self.add("blocks", "missing")
        self.string("private_metadata", view.get("private_metadata"), 3000)
        self.string("callback_id", view.get("callback_id"), MAX_ID)
        if surface != "modal":
            return
        self.text_object("title", view.get("title"), 24, plain_only=True)
        self.text_object("close", view.get("close"), 24, plain_only=True, required=False)
        self.text_object("submit", view.get("submit"), 24, plain_only=True, required=False)
        blocks = view.get("blocks")
        has_input = isinstance(blocks, list) and any(
            isinstance(b, Mapping) and b.get("type") == "input" for b in blocks
        )
        if has_input and view.get("submit") is None:
            self.add("submit", "required when the modal has input blocks")

    # ---- blocks

    def blocks(self, path: str, blocks: object, max_blocks: int) -> None:
        for i, block in enumerate(self.count(path, blocks, "blocks", 0, max_blocks)):
            self.block(f"{path}[{i}]", block)

    def block(self, path: str, block: object) -> None:
        if not isinstance(block, Mapping):
            self.add(path, f"block must be an object, got {_describe(block)}")
            return
        kind = block.get("type")
        self.block_id(path, block)
        if kind in LIGHT_BLOCK_TYPES:
            if kind == "markdown":
                self.string(f"{path}.text", block.get("text"), 12_000, required=True, min_len=1)
            return
        if kind not in BLOCK_KEYS:
            self.add(f"{path}.type", f"unknown block type {kind!r}")
            return
        self.keys(path, block, BLOCK_KEYS[kind], f"{kind} block")
        seen_in_block: dict[str, str] = {}
        if kind == "section":
            self.section(path, block, seen_in_block)
        elif kind == "header":
            self.text_object(f"{path}.text", block.get("text"), 150, plain_only=True)
        elif kind == "context":
            self.context(path, block)
        elif kind == "actions":
            elements = self.count(f"{path}.elements", block.get("elements"), "elements", 1, 25)
            for i, element in enumerate(elements):
                self.element(f"{path}.elements[{i}]", element, ACTIONS_ELEMENT_TYPES, seen_in_block)
        elif kind == "image":
            self.image(path, block, title=True)
        elif kind == "input":
            self.text_object(f"{path}.label", block.get("label"), 2000, plain_only=True)
            self.text_object(
                f"{path}.hint", block.get("hint"), 2000, plain_only=True, required=False
            )
            if block.get("element") is None:
                self.add(f"{path}.element", "missing")
            else:
                self.element(
                    f"{path}.element", block["element"], INPUT_ELEMENT_TYPES, seen_in_block
                )

    def section(self, path: str, block: Mapping[str, Any], seen_in_block: dict[str, str]) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.add(path, "section needs text or fields")
        if block.get("text") is not None:
            self.text_object(f"{path}.text", block["text"], 3000)
        if block.get("fields") is not None:
            fields = self.count(f"{path}.fields", block["fields"], "fields", 1, 10)
            for i, field in enumerate(fields):
                self.text_object(f"{path}.fields[{i}]", field, 2000)
        if block.get("accessory") is not None:
            self.element(f"{path}.accessory", block["accessory"], ACCESSORY_TYPES, seen_in_block)

    def context(self, path: str, block: Mapping[str, Any]) -> None:
        elements = self.count(f"{path}.elements", block.get("elements"), "elements", 1, 10)
        for i, element in enumerate(elements):
            epath = f"{path}.elements[{i}]"
            if isinstance(element, Mapping) and element.get("type") == "image":
                self.image(epath, element, title=False)
            elif isinstance(element, Mapping) and element.get("type") not in TEXT_TYPES:
                self.add(
                    f"{epath}.type",
                    f"context elements must be text or image (got {element.get('type')!r})",
                )
            else:
                self.text_object(epath, element, 2000)

    def image(self, path: str, obj: Mapping[str, Any], *, title: bool) -> None:
        if not title:
            self.keys(path, obj, {"type", "image_url", "slack_file", "alt_text"}, "image element")
        if obj.get("image_url") is None and obj.get("slack_file") is None:
            self.add(path, "image needs image_url or slack_file")
        self.string(f"{path}.image_url", obj.get("image_url"), 3000, min_len=1)
        self.string(f"{path}.alt_text", obj.get("alt_text"), 2000, required=True, min_len=1)
        if title:
            self.text_object(
                f"{path}.title", obj.get("title"), 2000, plain_only=True, required=False
            )

    # ---- elements

    def element(
        self, path: str, element: object, allowed: set[str], seen_in_block: dict[str, str]
    ) -> None:
        if not isinstance(element, Mapping):
            self.add(path, f"element must be an object, got {_describe(element)}")
            return
        kind = element.get("type")
        if kind not in allowed:
            self.add(f"{path}.type", f"element type {kind!r} not allowed here")
            return
        if kind == "image":
            self.image(path, element, title=False)
            return
        self.action_id(path, element, seen_in_block)
        if element.get("confirm") is not None:
            self.confirm(f"{path}.confirm", element["confirm"])
        if element.get("placeholder") is not None:
            self.text_object(f"{path}.placeholder", element["placeholder"], 150, plain_only=True)
        if kind == "button":
            self.button(path, element)
        elif kind == "overflow":
            options = self.count(f"{path}.options", element.get("options"), "options", 2, 5)
            for i, option in enumerate(options):
                self.option(f"{path}.options[{i}]", option, url_allowed=True)
        elif kind in CHOICE_TYPES:
            options = self.count(f"{path}.options", element.get("options"), "options", 1, 10)
            for i, option in enumerate(options):
                self.option(f"{path}.options[{i}]", option, mrkdwn_allowed=True)
        elif kind in ("static_select", "multi_static_select"):
            self.static_select(path, element)

    def button(self, path: str, element: Mapping[str, Any]) -> None:
        self.keys(
            path,
            element,
            {
                "type",
                "text",
                "action_id",
                "url",
                "value",
                "style",
                "confirm",
                "accessibility_label",
            },
            "button",
        )
        self.text_object(f"{path}.text", element.get("text"), 75, plain_only=True)
        self.string(f"{path}.value", element.get("value"), 2000)
        self.string(f"{path}.url", element.get("url"), 3000, min_len=1)
        self.string(f"{path}.accessibility_label", element.get("accessibility_label"), 75)
        if "style" in element and element["style"] not in ("primary", "danger"):
            self.add(f"{path}.style", f"must be 'primary' or 'danger' (got {element['style']!r})")

    def static_select(self, path: str, element: Mapping[str, Any]) -> None:
        options, groups = element.get("options"), element.get("option_groups")
        if (options is None) == (groups is None):
            self.add(path, "needs exactly one of options or option_groups")
        if options is not None:
            for i, option in enumerate(self.count(f"{path}.options", options, "options", 1, 100)):
                self.option(f"{path}.options[{i}]", option)
        if groups is not None:
            groups_list = self.count(f"{path}.option_groups", groups, "option groups", 1, 100)
            for i, group in enumerate(groups_list):
                gpath = f"{path}.option_groups[{i}]"
                if not isinstance(group, Mapping):
                    self.add(gpath, f"option group must be an object, got {_describe(group)}")
                    continue
                self.text_object(f"{gpath}.label", group.get("label"), 75, plain_only=True)
                group_options = self.count(
                    f"{gpath}.options", group.get("options"), "options", 1, 100
                )
                for j, option in enumerate(group_options):
                    self.option(f"{gpath}.options[{j}]", option)

    def option(
        self, path: str, option: object, *, url_allowed: bool = False, mrkdwn_allowed: bool = False
    ) -> None:
        if not isinstance(option, Mapping):
            self.add(path, f"option must be an object, got {_describe(option)}")
            return
        allowed = {"text", "value", "description"} | ({"url"} if url_allowed else set())
        self.keys(path, option, allowed, "option")
        plain_only = not mrkdwn_allowed
        self.text_object(f"{path}.text", option.get("text"), 75, plain_only=plain_only)
        self.string(f"{path}.value", option.get("value"), 150, required=True, min_len=1)
        self.text_object(
            f"{path}.description",
            option.get("description"),
            75,
            plain_only=plain_only,
            required=False,
        )
        self.string(f"{path}.url", option.get("url"), 3000, min_len=1)

    def confirm(self, path: str, confirm: object) -> None:
        if not isinstance(confirm, Mapping):
            self.add(path, f"confirm must be an object, got {_describe(confirm)}")
            return
        self.keys(path, confirm, {"title", "text", "confirm", "deny", "style"}, "confirm dialog")
        self.text_object(f"{path}.title", confirm.get("title"), 100, plain_only=True)
        self.text_object(f"{path}.text", confirm.get("text"), 300)
        self.text_object(f"{path}.confirm", confirm.get("confirm"), 30, plain_only=True)
        self.text_object(f"{path}.deny", confirm.get("deny"), 30, plain_only=True)
        if "style" in confirm and confirm["style"] not in ("primary", "danger"):
            self.add(f"{path}.style", f"must be 'primary' or 'danger' (got {confirm['style']!r})")


# --------------------------------------------------------------------------- mrkdwn safety

_MENTION_STARTS = {"<!": "broadcast/special mention", "<@": "user mention", "<#": "channel link"}


def _check_mrkdwn(path: str, text: str, prefixes: tuple[str, ...], problems: list[str]) -> None:
    start = 0
    while (i := text.find("<", start)) != -1:
        start = i + 1
        if text.startswith(prefixes, i):
            continue
        kind = next((k for p, k in _MENTION_STARTS.items() if text.startswith(p, i)), None)
        snippet = text[i : i + 30]
        what = f"{kind} " if kind else "unescaped '<' "
        problems.append(f"{path}: {what}at offset {i}: {snippet!r}")


def _check_attachment(
    path: str, attachment: Mapping[str, Any], prefixes: tuple[str, ...], problems: list[str]
) -> None:
    # Legacy attachment strings are mrkdwn-interpreted (mrkdwn_in), so check them all.
    for key in ("text", "pretext", "footer"):
        if isinstance(attachment.get(key), str):
            _check_mrkdwn(f"{path}.{key}", attachment[key], prefixes, problems)
    fields = attachment.get("fields")
    if isinstance(fields, list):
        for i, field in enumerate(fields):
            if isinstance(field, Mapping) and isinstance(field.get("value"), str):
                _check_mrkdwn(f"{path}.fields[{i}].value", field["value"], prefixes, problems)
    _walk(f"{path}.blocks", attachment.get("blocks"), prefixes, problems)


def _walk(path: str, node: object, prefixes: tuple[str, ...], problems: list[str]) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _walk(f"{path}[{i}]", item, prefixes, problems)
        return
    if not isinstance(node, Mapping):
        return
    kind = node.get("type")
    text = node.get("text")
    if kind in ("mrkdwn", "markdown") and isinstance(text, str):
        _check_mrkdwn(f"{path}.text", text, prefixes, problems)
    elif kind in MENTION_ELEMENT_TYPES:
        problems.append(f"{path}: rich_text {kind} element mentions or links")
    for key, value in node.items():
        if isinstance(value, list | Mapping):
            _walk(f"{path}.{key}", value, prefixes, problems)
