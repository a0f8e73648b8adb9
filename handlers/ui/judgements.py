"""Every teammate's judgement of a perfect-context test, and which way the team leans."""

from __future__ import annotations

from bot.services.assistance import JUDGEMENTS
from handlers.ui.mrkdwn import mentions
from storage.models import ContextTest

JUDGED_AS = {"knowledge": "knowledge", "behavior": "behavior"}


def judgements_of(test: ContextTest) -> dict[str, str]:
    """user id -> judgement; a test judged before every judgement was kept shows its latest."""
    kept = {u: j for u, j in (test.judgements or {}).items() if j in JUDGEMENTS}
    if not kept and test.judged_by and test.team_judgement in JUDGEMENTS:
        kept = {test.judged_by: test.team_judgement}
    return kept


def judgement_lines(test: ContextTest) -> tuple[str, str] | None:
    """(who judged what, which way the team leans), or None before anyone judged."""
    judged = judgements_of(test)
    if not judged:
        return None
    by: dict[str, list[str]] = {}
    for user, judgement in judged.items():
        by.setdefault(judgement, []).append(user)
    who = "; ".join(
        f"*{JUDGEMENTS[j]}* ({JUDGED_AS[j]}): {mentions(users)}"
        for j, users in sorted(by.items(), key=lambda item: -len(item[1]))
    )
    counts = {j: len(by.get(j, [])) for j in JUDGEMENTS}
    right, wrong = counts["knowledge"], counts["behavior"]
    if right == wrong:
        lean = f"The team is split, {right} to {wrong}: talk it through."
    else:
        top = "knowledge" if right > wrong else "behavior"
        lean = (
            f"The team leans *{JUDGEMENTS[top]}* ({top}), {max(right, wrong)} to "
            f"{min(right, wrong)}."
        )
    return who, lean
