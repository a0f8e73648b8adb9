"""Errors whose message is meant for the user, shown ephemerally by the one Slack error handler."""

from __future__ import annotations


class UserError(Exception):
    """Something the user can fix or should know; ``str(error)`` is the message to show."""


class NotFound(UserError):
    pass


class NotAllowed(UserError):
    pass
