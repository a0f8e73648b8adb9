"""Every value Slack sends, parsed once and typed, before a listener uses it.

Payloads are untrusted: a value that doesn't parse raises ``StaleButton`` (for a click: the user
is told ephemerally that it's out of date) or ``StaleForm`` (for a modal). Nothing is written.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from bot.domain.errors import UserError
from bot.services import guards
from handlers.ui.ids import SEPARATOR

SlackId = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,31}$")]
"""Team, channel and user ids: what Slack sends fits the 32 characters ragft stores."""
Ts = Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,9})?$")]
DecisionId = Annotated[int, Field(ge=1, le=2**31 - 1)]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(text: str) -> str:
    """Text as people typed it, without NUL and other control characters (newline and tab
    stay): PostgreSQL refuses NUL, and none of them shows in Slack."""
    return _CONTROL.sub("", text)


Text = Annotated[str, AfterValidator(clean)]
_INT = re.compile(r"^[0-9]{1,10}$")
_SIGNED = re.compile(r"^-?[0-9]{1,10}$")


class StaleButton(UserError):
    def __init__(self) -> None:
        super().__init__(
            "That button is out of date, so nothing changed. `/ragft status` shows where the "
            "decision stands now."
        )


class StaleForm(UserError):
    def __init__(self) -> None:
        super().__init__(
            "This form is out of date, so nothing was saved. Open it again from the "
            "decision's thread."
        )


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def acked_empty(body: Any) -> bool:
    """A button click or a slash command: requests whose ack never carries anything."""
    body = as_dict(body)
    return as_text(body.get("type")) == "block_actions" or as_text(body.get("command")) is not None


def team_of(body: dict[str, Any]) -> str | None:
    return as_text(as_dict(body.get("team")).get("id")) or as_text(
        as_dict(body.get("user")).get("team_id")
    )


class Where(Payload):
    """Where to tell the user something: lenient, for the error handler."""

    channel: str | None = None
    user: str | None = None
    thread: str | None = None


def where(body: Any) -> Where:
    body = as_dict(body)
    event, container = as_dict(body.get("event")), as_dict(body.get("container"))
    channel = (
        as_text(body.get("channel_id"))
        or as_text(as_dict(body.get("channel")).get("id"))
        or as_text(container.get("channel_id"))
        or as_text(event.get("channel"))
    )
    user = as_text(body.get("user_id")) or as_text(as_dict(body.get("user")).get("id"))
    user = user or as_text(event.get("user"))
    thread = as_text(container.get("thread_ts")) or as_text(event.get("thread_ts"))
    try:
        return Where(channel=channel, user=user, thread=thread)
    except ValidationError:
        return Where()


# Slash command ------------------------------------------------------------------------------


class SlashCommand(Payload):
    team_id: SlackId
    channel_id: SlackId
    user_id: SlackId
    text: Text = ""
    """As typed; the parser and the domain cut what they keep (a title, a failure) to size."""
    trigger_id: str | None = None
    response_url: Annotated[str, StringConstraints(pattern=r"^https?://")]
    """Where the ephemeral replies go; Slack sends one with every command."""

    def at(self, decision_id: int | None) -> dict[str, Any]:
        return {"team_id": self.team_id, "channel_id": self.channel_id, "decision_id": decision_id}


def command_of(body: dict[str, Any]) -> SlashCommand:
    try:
        return SlashCommand.model_validate(body)
    except ValidationError:
        raise UserError("I couldn't read that command. Try `/ragft help`.") from None


# Block actions ------------------------------------------------------------------------------


class Click(Payload):
    team_id: SlackId
    user_id: SlackId
    channel_id: SlackId | None = None
    """The conversation of the clicked message; None for a click inside a modal."""
    trigger_id: str | None = None
    block_id: str = ""
    value: Text = ""
    """The button's value, or the selected option's value."""
    selected_user: SlackId | None = None

    def at(self, decision_id: int) -> dict[str, Any]:
        """The service arguments naming a decision of the clicked message's conversation."""
        if self.channel_id is None:
            raise StaleButton()
        return {"team_id": self.team_id, "channel_id": self.channel_id, "decision_id": decision_id}


def click_of(body: dict[str, Any]) -> Click:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise StaleButton()
    action = actions[0]
    option = action.get("selected_option")
    value = as_dict(option).get("value") if "selected_option" in action else action.get("value")
    where_ = where(body)
    try:
        return Click(
            team_id=team_of(body),
            user_id=where_.user,
            channel_id=where_.channel if "view" not in body else None,
            trigger_id=as_text(body.get("trigger_id")),
            block_id=action.get("block_id") if isinstance(action.get("block_id"), str) else "",
            value=value if isinstance(value, str) else "",
            selected_user=as_text(action.get("selected_user")),
        )
    except ValidationError:
        raise StaleButton() from None


def parts(value: str, count: int) -> list[str]:
    """A ``|``-separated value of exactly ``count`` parts."""
    found = value.split(SEPARATOR, count - 1)
    if len(found) != count:
        raise StaleButton()
    return found


def number(text: str) -> int:
    if not _INT.match(text) or not 1 <= int(text) <= 2**31 - 1:
        raise StaleButton()
    return int(text)


def integer(text: str) -> int:
    """Any whole number, sign included: the domain decides whether it is allowed."""
    if not _SIGNED.match(text):
        raise StaleButton()
    return int(text)


def decision_click(body: dict[str, Any]) -> tuple[Click, int]:
    """A button whose value is the decision id, in a conversation."""
    click = click_of(body)
    return in_channel(click), number(click.value)


def message_ts_of(body: dict[str, Any]) -> str | None:
    """The ts of the message a button was pressed on, when it looks like one."""
    ts = as_dict(body.get("container")).get("message_ts")
    return ts if isinstance(ts, str) and re.fullmatch(r"\d{1,12}\.\d{1,9}", ts) else None


def in_channel(click: Click) -> Click:
    if click.channel_id is None:
        raise StaleButton()
    return click


def picked_command_of(body: dict[str, Any]) -> tuple[SlashCommand, int]:
    """A decision picked for a command that named none: the command as first typed (its text
    rides in the button's value, after the decision id), and the decision."""
    click = in_channel(click_of(body))
    decision_id, text = parts(click.value, 2)
    try:
        command = SlashCommand(
            team_id=click.team_id,
            channel_id=click.channel_id,
            user_id=click.user_id,
            text=text,
            trigger_id=click.trigger_id,
            response_url=body.get("response_url"),
        )
    except ValidationError:
        raise StaleButton() from None
    return command, number(decision_id)


# Modals -------------------------------------------------------------------------------------


class ModalMeta(Payload):
    """What a modal carries from where it was opened (its ``private_metadata``)."""

    decision_id: DecisionId | None = None
    channel_id: SlackId | None = None
    """None only in a modal opened before ragft recorded it (see ``Submission.at``)."""
    permalink: Annotated[str, StringConstraints(max_length=2000)] | None = None


class Submission(Payload):
    team_id: SlackId
    user_id: SlackId
    meta: ModalMeta
    values: dict[str, dict[str, Any]]
    block_ids: frozenset[str] = frozenset()
    """The view's input blocks: an inline error may only name one of these."""

    def text(self, input_id: str) -> str:
        element = as_dict(as_dict(self.values.get(input_id)).get(input_id))
        value = element.get("value")
        return clean(value).strip() if isinstance(value, str) else ""

    def selected(self, input_id: str) -> str:
        element = as_dict(as_dict(self.values.get(input_id)).get(input_id))
        value = as_dict(element.get("selected_option")).get("value")
        return value if isinstance(value, str) else ""

    def value(self, input_id: str) -> str:
        """What was typed, or the value picked, in an input."""
        return self.text(input_id) or self.selected(input_id)

    def has_input(self, input_id: str) -> bool:
        return input_id in self.block_ids or input_id in self.values

    def errors(self, input_id: str, message: str) -> dict[str, Any]:
        """The ack that shows ``message`` under an input of this modal."""
        if not self.has_input(input_id):
            raise StaleForm()
        return {"response_action": "errors", "errors": {input_id: message}}

    @property
    def decision_id(self) -> int:
        if self.meta.decision_id is None:
            raise StaleForm()
        return self.meta.decision_id

    def at(self, decision_id: int | None = None) -> dict[str, Any]:
        """The service arguments naming the modal's decision (or ``decision_id``), checked
        against the channel the modal was opened from."""
        decision_id = self.decision_id if decision_id is None else decision_id
        return {
            "team_id": self.team_id,
            "channel_id": self.meta.channel_id or guards.OPENED_IN_ITS_OWN_CHANNEL,
            "decision_id": decision_id,
        }


def modal_meta(decision_id: int | None, channel_id: str, **extra: Any) -> str:
    data = {"decision_id": decision_id, "channel_id": channel_id, **extra}
    return json.dumps({k: v for k, v in data.items() if v is not None})


def submission_of(body: dict[str, Any]) -> Submission:
    view = as_dict(body.get("view"))
    try:
        meta = json.loads(view.get("private_metadata") or "")
        state = as_dict(view.get("state"))
        values = state.get("values")
        return Submission(
            team_id=team_of(body),
            user_id=as_dict(body.get("user")).get("id"),
            meta=ModalMeta.model_validate(meta),
            values={k: v for k, v in values.items() if isinstance(v, dict)}
            if isinstance(values, dict)
            else {},
            block_ids=frozenset(
                block["block_id"]
                for block in (view.get("blocks") if isinstance(view.get("blocks"), list) else [])
                if isinstance(block, dict)
                and block.get("type") == "input"
                and isinstance(block.get("block_id"), str)
            ),
        )
    except (ValueError, TypeError, ValidationError):
        raise StaleForm() from None


# Message shortcut and mentions ------------------------------------------------------------


class Shortcut(Payload):
    team_id: SlackId
    user_id: SlackId
    channel_id: SlackId
    message_ts: Ts
    message_text: Text = ""
    trigger_id: str


def shortcut_of(body: dict[str, Any]) -> Shortcut:
    message = as_dict(body.get("message"))
    try:
        return Shortcut(
            team_id=team_of(body),
            user_id=as_dict(body.get("user")).get("id"),
            channel_id=as_dict(body.get("channel")).get("id"),
            message_ts=body.get("message_ts") or message.get("ts"),
            message_text=message.get("text") if isinstance(message.get("text"), str) else "",
            trigger_id=body.get("trigger_id"),
        )
    except ValidationError:
        raise UserError("I couldn't read that message. Try the shortcut again.") from None


class Mention(Payload):
    team_id: SlackId
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    channel: SlackId
    user: SlackId
    ts: Ts
    thread_ts: Ts | None = None
    text: Text = ""


def mention_of(body: dict[str, Any]) -> Mention | None:
    """A person's mention of the bot; None for a bot's message or anything unreadable."""
    event = as_dict(body.get("event"))
    if event.get("bot_id") or not isinstance(event.get("user"), str):
        return None
    try:
        return Mention(
            team_id=as_text(body.get("team_id")) or event.get("team"),
            event_id=body.get("event_id"),
            channel=event.get("channel"),
            user=event.get("user"),
            ts=event.get("ts"),
            thread_ts=event.get("thread_ts"),
            text=event.get("text") if isinstance(event.get("text"), str) else "",
        )
    except ValidationError:
        return None


def view_meta(body: dict[str, Any]) -> ModalMeta:
    """The metadata of the modal a click came from (e.g. a select in *Review & correct*)."""
    try:
        return ModalMeta.model_validate(
            json.loads(as_dict(body.get("view")).get("private_metadata"))
        )
    except (ValueError, TypeError, ValidationError):
        raise StaleButton() from None


def view_id_of(body: dict[str, Any]) -> str | None:
    """The id of the modal a click came from, to update it in place."""
    view_id = as_dict(body.get("view")).get("id")
    return view_id if isinstance(view_id, str) and re.match(r"^V[A-Z0-9]{1,31}$", view_id) else None
