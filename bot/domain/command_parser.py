"""Parsing the text after ``/ragft`` into a command. Pure; the Slack handler renders the result."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.adr_formats import parse_export
from bot.domain.errors import UserError
from bot.domain.review_schedule import Cadence, parse_cadence


class Subcommand(StrEnum):
    START = "start"
    HELP = "help"
    LIST = "list"
    STATUS = "status"
    EXPORT = "export"
    LOG = "log"
    CADENCE = "cadence"
    UNKNOWN = "unknown"


_ALIASES = {
    "start": Subcommand.START,
    "new": Subcommand.START,
    "help": Subcommand.HELP,
    "?": Subcommand.HELP,
    "list": Subcommand.LIST,
    "ls": Subcommand.LIST,
    "status": Subcommand.STATUS,
    "export": Subcommand.EXPORT,
    "log": Subcommand.LOG,
    "cadence": Subcommand.CADENCE,
}
_DECISION_REF = re.compile(r"^#?(\d{1,9})$")
_LOOKS_LIKE_SUBCOMMAND = re.compile(r"^[a-z][a-z-]{0,19}$")

MAX_TITLE_LENGTH = 200


class CommandError(UserError):
    """The user's command can't be understood; the message says how to fix it."""


@dataclass(frozen=True)
class Command:
    kind: Subcommand
    title: str | None = None
    decision_id: int | None = None
    text: str | None = None
    cadence: Cadence | None = None
    word: str | None = None
    export_format: str | None = None


def decision_ref(token: str) -> int | None:
    match = _DECISION_REF.match(token.strip())
    return int(match.group(1)) if match else None


def parse_command(text: str) -> Command:
    text = " ".join(text.split())
    if not text:
        return Command(Subcommand.HELP)
    head, _, rest = text.partition(" ")
    kind = _ALIASES.get(head.lower())
    if kind is None:
        if " " not in text and _LOOKS_LIKE_SUBCOMMAND.match(text):
            return Command(Subcommand.UNKNOWN, word=text)
        return _start(text)
    if kind is Subcommand.START:
        return _start(rest)
    if kind in (Subcommand.HELP, Subcommand.LIST):
        return Command(kind)
    if kind is Subcommand.EXPORT:
        decision_id, export_format = parse_export(rest, decision_ref)
        return Command(kind, decision_id=decision_id, export_format=export_format)
    if kind is Subcommand.STATUS:
        return Command(kind, decision_id=_optional_ref(rest, kind))
    if kind is Subcommand.LOG:
        return _log(rest)
    return _cadence(rest)


def _start(title: str) -> Command:
    if not title:
        raise CommandError("Give the decision a title: `/ragft Support assistant for billing`.")
    if len(title) > MAX_TITLE_LENGTH:
        raise CommandError(
            f"That title is {len(title)} characters; keep it under {MAX_TITLE_LENGTH}."
        )
    return Command(Subcommand.START, title=title)


def _optional_ref(rest: str, kind: Subcommand) -> int | None:
    if not rest:
        return None
    ref = decision_ref(rest)
    if ref is None:
        raise CommandError(
            f"`{rest}` isn't a decision number. Try `/ragft {kind} 12`, or `/ragft list` "
            "to see this channel's decisions."
        )
    return ref


def _log(rest: str) -> Command:
    if decision_ref(rest) is not None:
        rest = ""  # only a decision number: the reason is missing
    first, _, remainder = rest.partition(" ")
    ref = decision_ref(first) if remainder else None
    why = remainder if ref is not None else rest
    if not why:
        raise CommandError(
            "Say why the output failed: `/ragft log [decision] <why it failed>`, "
            "e.g. `/ragft log quoted last year's prices`."
        )
    return Command(Subcommand.LOG, decision_id=ref, text=why)


def _cadence(rest: str) -> Command:
    tokens = rest.split()
    ref = decision_ref(tokens[0]) if tokens else None
    if ref is not None:
        tokens = tokens[1:]
    if not tokens:
        return Command(Subcommand.CADENCE, decision_id=ref)
    cadence = parse_cadence(" ".join(tokens))
    if cadence is None:
        raise CommandError(
            f"`{' '.join(tokens)}` isn't a review cadence. Use monthly, quarterly or half-yearly: "
            "`/ragft cadence [decision] quarterly`."
        )
    return Command(Subcommand.CADENCE, decision_id=ref, cadence=cadence)
