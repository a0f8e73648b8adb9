"""Click to visible: from sending an answer click to the ``chat.update`` that shows it.

The fake Slack (bench/fake_slack.py) keeps every ``chat.update`` it answered, with the time it
answered (after its delay: when a person in Slack would see the change) and the blocks. A click
by user U on value V of decision D counts as shown by the first update of D's problem-type
message whose line for V lists ``<@U>``. The bench's users are distinct and click once, so an
update listing U can only come after the click; a message cut short ("and N more", or a
section cut at 3,000 characters) is reported apart as *undecidable*: the bench spreads its
clicks over enough decisions that no message gets that long.

The clicks are the answer clicks of the acknowledgement benchmark's c=10 rounds (bench/
ack_latency.py), on each ragft server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bench.common import percentile

VOTES_LINE = re.compile(r"^\*(?P<label>.+?)\* \((?P<count>\d+)\): (?P<who>.*)$")
USER = re.compile(r"<@([A-Z0-9]+)>")


@dataclass(frozen=True)
class Click:
    sent_at: float  # time.time() when the request was sent
    decision_id: int
    user: str
    value: str
    status: int  # of the ack


def voters(
    blocks: list[dict[str, Any]] | None, labels: dict[str, str]
) -> tuple[dict[str, set[str]], bool]:
    """``({value: users shown}, cut)`` read from a question message's blocks, from the first
    votes line of each label (the problem-type choice comes before any other). ``cut``: some
    section was cut short (a line's "and N more", or the text cut at Slack's 3,000 characters
    with "…"), so a voter missing from it may still be counted."""
    by_label = {label: value for value, label in labels.items()}
    found: dict[str, set[str]] = {}
    cut = False
    for block in blocks or []:
        text = (block.get("text") or {}).get("text") if block.get("type") == "section" else None
        cut = cut or (text or "").endswith("…")
        for line in (text or "").splitlines():
            match = VOTES_LINE.match(line)
            if not match or match["label"] not in by_label:
                continue
            value = by_label[match["label"]]
            if value not in found:
                found[value] = set(USER.findall(match["who"]))
                cut = cut or " more" in match["who"]
    return found, cut


def measure(
    clicks: list[Click],
    updates: list[dict[str, Any]],
    messages: dict[int, tuple[str, str]],
    labels: dict[str, str],
) -> dict[str, Any]:
    """Seconds from each click to the first update showing it, and the clicks never shown."""
    by_message: dict[tuple[str, str], list[tuple[float, dict[str, Any]]]] = {}
    for update in sorted(updates, key=lambda u: u["done"]):
        if update["ok"]:
            parsed = voters(update["blocks"], labels)
            by_message.setdefault((update["channel"], update["ts"]), []).append(
                (update["done"], parsed)
            )
    latencies: list[float] = []
    never: list[Click] = []
    undecidable = failed = 0
    for click in clicks:
        if click.status != 200:
            failed += 1
            continue
        message = messages.get(click.decision_id)
        seen = None
        cut = False
        for done, (parsed, truncated) in by_message.get(message, []) if message else []:
            if click.user in parsed.get(click.value, ()):
                seen = done
                break
            cut = cut or truncated
        if seen is not None:
            latencies.append(seen - click.sent_at)
        elif cut:
            undecidable += 1
        else:
            never.append(click)
    out: dict[str, Any] = {
        "clicks": len(clicks),
        "shown": len(latencies),
        "never_shown": len(never),
        "undecidable": undecidable,
        "not_acked": failed,
        "never_examples": [f"#{c.decision_id} {c.user} {c.value}" for c in never[:5]],
        "updates": len(updates),
    }
    if latencies:
        out |= {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "p99": percentile(latencies, 99),
            "max": max(latencies),
        }
    return out
