"""Parsing the text after /ragft."""

from __future__ import annotations

import pytest

from bot.domain.command_parser import CommandError, Subcommand, parse_command
from bot.domain.review_schedule import Cadence


@pytest.mark.parametrize(
    ("text", "kind", "fields"),
    [
        ("", Subcommand.HELP, {}),
        ("help", Subcommand.HELP, {}),
        (
            "  Support   assistant for billing ",
            Subcommand.START,
            {"title": "Support assistant for billing"},
        ),
        ("Chatbot", Subcommand.START, {"title": "Chatbot", "confirm": True}),
        (
            "Support assistant for billing",
            Subcommand.START,
            {"confirm": False, "suggestion": None},
        ),
        ("remove 1", Subcommand.START, {"confirm": True, "suggestion": "withdraw 1"}),
        ("reopen 1", Subcommand.START, {"confirm": True, "suggestion": None}),
        ("Billing bot", Subcommand.START, {"confirm": True, "suggestion": None}),
        (
            "statsu of the billing bot",
            Subcommand.START,
            {"confirm": True, "suggestion": "status of the billing bot"},
        ),
        ("start Billing", Subcommand.START, {"title": "Billing", "confirm": False}),
        ("exprot", Subcommand.UNKNOWN, {"word": "exprot", "suggestion": "export"}),
        ("rename 3 Billing v2", Subcommand.RENAME, {"decision_id": 3, "title": "Billing v2"}),
        ("rename Billing v2", Subcommand.RENAME, {"decision_id": None, "title": "Billing v2"}),
        ("withdraw", Subcommand.WITHDRAW, {"decision_id": None}),
        ("withdraw #4", Subcommand.WITHDRAW, {"decision_id": 4}),
        ("delete 5", Subcommand.DELETE, {"decision_id": 5}),
        ("start list", Subcommand.START, {"title": "list"}),
        ("frobnicate", Subcommand.UNKNOWN, {"word": "frobnicate"}),
        ("list", Subcommand.LIST, {}),
        ("status", Subcommand.STATUS, {"decision_id": None}),
        ("status #12", Subcommand.STATUS, {"decision_id": 12}),
        ("export 7", Subcommand.EXPORT, {"decision_id": 7}),
        (
            "log quoted last year's prices",
            Subcommand.LOG,
            {"decision_id": None, "text": "quoted last year's prices"},
        ),
        ("log 12 too verbose", Subcommand.LOG, {"decision_id": 12, "text": "too verbose"}),
        (
            "log 2024 prices were wrong",
            Subcommand.LOG,
            {"decision_id": 2024, "text": "prices were wrong"},
        ),
        ("cadence", Subcommand.CADENCE, {"decision_id": None, "cadence": None}),
        (
            "cadence 3 half-yearly",
            Subcommand.CADENCE,
            {"decision_id": 3, "cadence": Cadence.HALF_YEARLY},
        ),
        ("cadence Monthly", Subcommand.CADENCE, {"cadence": Cadence.MONTHLY}),
        (  # a capitalised subcommand word may open a title: previewed, nothing acts
            "Rename tool for invoices",
            Subcommand.START,
            {"title": "Rename tool for invoices", "confirm": True},
        ),
        (
            "Log triage assistant for on-call",
            Subcommand.START,
            {"confirm": True, "suggestion": "log triage assistant for on-call"},
        ),
        ("Delete 5", Subcommand.START, {"confirm": True, "suggestion": "delete 5"}),
        ("New hire onboarding", Subcommand.START, {"title": "New hire onboarding"}),
        ("Status", Subcommand.STATUS, {"decision_id": None}),  # one word: nothing to title
    ],
)
def test_commands_parse(text: str, kind: Subcommand, fields: dict):
    command = parse_command(text)
    assert command.kind is kind
    for name, value in fields.items():
        assert getattr(command, name) == value


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("start", "Give the decision a title"),
        ("status abc", "isn't a decision number"),
        ("log", "Say why the output failed"),
        ("log 12", "Say why the output failed"),
        ("cadence weekly-ish", "isn't a review cadence"),
        ("x" * 201 + " y", "keep it under 200"),
        ("rename", "Give the new title"),
        ("rename 3", "Give the new title"),
        ("rename 3 " + "x" * 201, "keep it under 200"),
        ("withdraw soon", "isn't a decision number"),
        ("delete all", "isn't a decision number"),
    ],
)
def test_bad_commands_say_how_to_fix_them(text: str, message: str):
    with pytest.raises(CommandError, match=message):
        parse_command(text)
