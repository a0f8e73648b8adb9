"""Replies to ``/ragft token …``: the new token (shown once), the list, the revocation."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.ui.blocks import Message, render, section
from handlers.ui.mrkdwn import mention, safe, slack_date
from storage.models import ApiToken

API_PATH = "/api/v1/failures"


def created_message(token: ApiToken, raw: str) -> Message:
    label = safe(token.label, 80)
    return render(
        f"API token {token.label} created",
        [
            section(
                f"🔑 *API token `{label}` created.* Copy it now: it is shown only this once, "
                f"and ragft keeps only a hash of it.\n```{raw}```"
            ),
            section(
                f"Send failures with `POST {API_PATH}` and `Authorization: Bearer <token>`; the "
                "README has a `curl` example. It reaches only this workspace's decisions. "
                f"Revoke it with `/ragft token revoke {label}`."
            ),
        ],
    )


def list_message(tokens: Sequence[ApiToken]) -> Message:
    if not tokens:
        return render(
            "No API tokens",
            [section("No API tokens yet. Make one with `/ragft token create [label]`.")],
        )
    lines = [
        f"• `{safe(t.label, 80)}`: made by {mention(t.created_by)} on {slack_date(t.created_at)}, "
        + (f"last used {slack_date(t.last_used_at)}" if t.last_used_at else "never used")
        for t in tokens
    ]
    return render(
        f"{len(tokens)} API token(s)",
        [section("*API tokens in this workspace*\n" + "\n".join(lines))],
    )


def revoked_text(token: ApiToken) -> str:
    return (
        f"API token `{safe(token.label, 80)}` is revoked: requests with it now get 401. "
        "Failures it sent stay logged."
    )
