"""Parsing the text after ``/ragft`` into a command. Pure; the Slack handler renders the result."""

from __future__ import annotations

import difflib
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
    TOKEN = "token"
    RENAME = "rename"
    WITHDRAW = "withdraw"
    DELETE = "delete"
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
    "token": Subcommand.TOKEN,
    "tokens": Subcommand.TOKEN,
    "rename": Subcommand.RENAME,
    "withdraw": Subcommand.WITHDRAW,
    "delete": Subcommand.DELETE,
}
"""Every word that names a subcommand: the one place to add one."""
_SYNONYMS = {
    "remove": "withdraw",
    "cancel": "withdraw",
    "close": "withdraw",
    "archive": "withdraw",
    "erase": "delete",
    "rm": "delete",
    "del": "delete",
    "retitle": "rename",
    "title": "rename",
    "show": "status",
}
"""Words people type for a subcommand (a withdraw keeps the record, so "remove" suggests it)."""
_CLOSE_ENOUGH = 0.75
"""difflib's ratio above which a first word reads as a mistyped subcommand ("statsu")."""
_SHORT_TITLE_WORDS = 2
"""A title of this many words or fewer is confirmed before anything is posted."""
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
    confirm: bool = False
    """START only: show the user an ephemeral preview first; nothing is posted yet."""
    suggestion: str | None = None
    """The command the user may have meant (``withdraw 1``), without ``/ragft``."""
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
    if kind is not None and rest and head[:1].isupper():
        # "Rename tool for invoices", "Log triage assistant": likely a title, so nothing acts
        return Command(
            Subcommand.START,
            title=_start(text).title,
            confirm=True,
            suggestion=f"{head.lower()} {rest}",
        )
    if kind is None:
        suggestion = suggest(head, rest)
        if " " not in text and _LOOKS_LIKE_SUBCOMMAND.match(text):
            return Command(Subcommand.UNKNOWN, word=text, suggestion=suggestion)
        return _guess_start(text, suggestion)
    if kind is Subcommand.START:
        return _start(rest)
    if kind in (Subcommand.HELP, Subcommand.LIST):
        return Command(kind)
    if kind is Subcommand.EXPORT:
        decision_id, export_format = parse_export(rest, decision_ref)
        return Command(kind, decision_id=decision_id, export_format=export_format)
    if kind in (Subcommand.STATUS, Subcommand.WITHDRAW, Subcommand.DELETE):
        return Command(kind, decision_id=_optional_ref(rest, kind))
    if kind is Subcommand.LOG:
        return _log(rest)
    if kind is Subcommand.TOKEN:
        return _token(rest)
    if kind is Subcommand.RENAME:
        return _rename(rest)
    return _cadence(rest)


def suggest(head: str, rest: str = "") -> str | None:
    """The subcommand a first word that isn't one may stand for: a synonym or a near miss."""
    word = head.lower()
    match = _SYNONYMS.get(word)
    if match is None and len(word) >= 3:
        close = difflib.get_close_matches(word, list(_ALIASES), n=1, cutoff=_CLOSE_ENOUGH)
        match = close[0] if close else None
    if match is None:
        return None
    return f"{match} {rest}".strip()


def _guess_start(text: str, suggestion: str | None) -> Command:
    """Text that isn't a subcommand: a title, confirmed first when it may not be one."""
    command = _start(text)
    if suggestion is None and len(text.split()) > _SHORT_TITLE_WORDS:
        return command
    return Command(Subcommand.START, title=command.title, confirm=True, suggestion=suggestion)


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


def _rename(rest: str) -> Command:
    first, _, remainder = rest.partition(" ")
    ref = decision_ref(first) if remainder else None
    title = remainder if ref is not None else rest
    if not title or decision_ref(title) is not None:
        raise CommandError("Give the new title: `/ragft rename [decision] <new title>`.")
    return Command(Subcommand.RENAME, decision_id=ref, title=_start(title).title)


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


class TokenAction(StrEnum):
    CREATE = "create"
    LIST = "list"
    REVOKE = "revoke"


TOKEN_USAGE = (
    "API tokens: `/ragft token create [label]`, `/ragft token list`, `/ragft token revoke <label>`."
)


def _token(rest: str) -> Command:
    """``token create [label]``, ``token list``, ``token revoke <label>``: ``word`` is the
    action, ``text`` the label."""
    action, _, label = rest.partition(" ")
    action = action.lower()
    if action not in set(TokenAction) or (action == TokenAction.LIST and label):
        raise CommandError(TOKEN_USAGE)
    if action == TokenAction.REVOKE and not label:
        raise CommandError("Name the token to revoke: `/ragft token revoke <label>`.")
    return Command(Subcommand.TOKEN, word=action, text=label or None)
