"""When the evidence calls for a revisit nudge, fitted to what the team chose. Pure.

* RAG: revisit fine-tuning when behavior failures dominate (retrieval can't fix tone or format).
* Fine-tuning: revisit retrieval when knowledge failures rise ("outdated", "didn't know").
* Hybrid: both signals, each named.
* Not ready: once 20 failures are explained (knowledge plus behavior), it's time to decide.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bot.domain.questions import ANALYSIS_TARGET, Verdict
from bot.domain.tallies import Tally, percent

NUDGE_MIN_ANALYSED = ANALYSIS_TARGET
"""Rule 1: at least this many failures analysed since the decision, with the signal's category
ahead of the other."""
SHARE_JUMP = 0.20
"""Rule 2: the signal's share up at least this much (20 points) over the previous period."""
MIN_PERIOD_SAMPLE = 10
"""Rule 2 needs this many failures in each period, so two failures can't make a 50-point jump."""


class Signal(StrEnum):
    BEHAVIOR = "behavior"
    """Behavior failures dominate: retrieval may not close the gap."""
    KNOWLEDGE = "knowledge"
    """Knowledge failures rise: the model is missing or outdated knowledge."""


SIGNALS_FOR: dict[Verdict, tuple[Signal, ...]] = {
    Verdict.RAG: (Signal.BEHAVIOR,),
    Verdict.FINE_TUNING: (Signal.KNOWLEDGE,),
    Verdict.HYBRID: (Signal.BEHAVIOR, Signal.KNOWLEDGE),
}
"""Which evidence matters for each outcome. Not ready has its own check (``ready_to_decide``)."""

HEADLINES: dict[Verdict, str] = {
    Verdict.RAG: "show a behavioral gap that retrieval may not close",
    Verdict.FINE_TUNING: (
        "show knowledge failures rising (outdated or missing facts) that fine-tuning won't fix: "
        "consider retrieval"
    ),
    Verdict.HYBRID: "show that one half of the hybrid isn't holding",
}

SIGNAL_ADVICE: dict[Verdict, dict[Signal, str]] = {
    Verdict.RAG: {Signal.BEHAVIOR: "Revisit fine-tuning."},
    Verdict.FINE_TUNING: {Signal.KNOWLEDGE: "Revisit retrieval for what the model doesn't know."},
    Verdict.HYBRID: {
        Signal.BEHAVIOR: "*Behavior signal:* revisit the fine-tuned half (training data, evals).",
        Signal.KNOWLEDGE: "*Knowledge signal:* revisit the retrieval half (coverage, freshness).",
    },
}


@dataclass(frozen=True)
class Nudge:
    reasons: list[str]
    """What changed, in words, for the message."""
    evidence: dict[str, Any]
    """Stored in ``Decision.nudge_evidence``: the next nudge needs evidence beyond this."""
    outcome: Verdict = Verdict.RAG
    signals: tuple[Signal, ...] = (Signal.BEHAVIOR,)

    @property
    def headline(self) -> str:
        return HEADLINES.get(self.outcome, HEADLINES[Verdict.RAG])


_OTHER_NAME = {Signal.BEHAVIOR: "knowledge", Signal.KNOWLEDGE: "behavior"}


def _count(tally: Tally, signal: Signal) -> int:
    return tally.behavior if signal == Signal.BEHAVIOR else tally.knowledge


def _other(tally: Tally, signal: Signal) -> int:
    return tally.knowledge if signal == Signal.BEHAVIOR else tally.behavior


def _share(tally: Tally, signal: Signal) -> float | None:
    return _count(tally, signal) / tally.analysed if tally.analysed else None


def _rule_majority(since: Tally, signal: Signal) -> bool:
    return since.analysed >= NUDGE_MIN_ANALYSED and _count(since, signal) > _other(since, signal)


def _rule_jump(current: Tally, previous: Tally, signal: Signal) -> bool:
    if current.analysed < MIN_PERIOD_SAMPLE or previous.analysed < MIN_PERIOD_SAMPLE:
        return False
    now, before = _share(current, signal), _share(previous, signal)
    assert now is not None and before is not None
    return now - before >= SHARE_JUMP - 1e-9


def _last_share(last: dict[str, Any], signal: Signal) -> float:
    shares = last.get("shares") or {}
    if signal in shares:
        return float(shares[signal])
    return float(last.get("share", 0.0)) if signal == Signal.BEHAVIOR else 0.0


def _moved_further(
    since: Tally, period_start: str, jump: bool, last: dict[str, Any], signal: Signal
) -> bool:
    """Evidence beyond the last nudge: 20 more failures analysed, the share up another 20
    points, or a fresh jump in a period the last nudge didn't cover."""
    if not last:
        return True
    share = _share(since, signal) or 0.0
    if since.analysed >= int(last.get("analysed", 0)) + NUDGE_MIN_ANALYSED:
        return True
    if share - _last_share(last, signal) >= SHARE_JUMP - 1e-9:
        return True
    return jump and period_start != last.get("jump_period")


def _reasons(
    signal: Signal, since: Tally, current: Tally, previous: Tally, majority: bool, jump: bool
) -> list[str]:
    name = signal.value
    reasons = []
    if majority:
        reasons.append(
            f"{since.analysed} failures analysed since the decision: "
            f"{since.behavior} behavior, {since.knowledge} knowledge, "
            f"{since.unclear} unclear ({percent(_share(since, signal))} {name}). "
            f"{name.capitalize()} now outnumbers {_OTHER_NAME[signal]}."
        )
    if jump:
        now, before = _share(current, signal) or 0, _share(previous, signal) or 0
        label = "behavioral" if signal == Signal.BEHAVIOR else "knowledge"
        reasons.append(
            f"The {label} share is {percent(now)} this period, up "
            f"{round((now - before) * 100)} points from {percent(before)} in the previous one."
        )
    return reasons


def evaluate_nudge(
    *,
    since_decision: Tally,
    current: Tally,
    previous: Tally,
    period_start: datetime,
    last: dict[str, Any],
    at: datetime,
    outcome: str | None = Verdict.RAG,
) -> Nudge | None:
    """Whether to nudge the team to revisit a decision whose outcome is ``outcome``.

    ``since_decision``: failures logged since the decision. ``current``/``previous``: this period
    (since the last review, or since the decision) and the one before it (for the first period,
    the failures the diagnostic was decided on). ``last``: the evidence of the last nudge.
    """
    try:
        verdict = Verdict(outcome or "")
    except ValueError:
        return None
    signals = SIGNALS_FOR.get(verdict)
    if not signals:
        return None
    start = period_start.astimezone(UTC).isoformat()
    fired: list[Signal] = []
    reasons: list[str] = []
    jumped = False
    for signal in signals:
        majority = _rule_majority(since_decision, signal)
        jump = _rule_jump(current, previous, signal)
        if not (majority or jump):
            continue
        if not _moved_further(since_decision, start, jump, last, signal):
            continue
        lines = _reasons(signal, since_decision, current, previous, majority, jump)
        advice = SIGNAL_ADVICE[verdict][signal]
        reasons.extend([*lines, advice] if len(signals) > 1 else lines)
        fired.append(signal)
        jumped = jumped or jump
    if not fired:
        return None
    if len(signals) == 1:
        reasons.append(SIGNAL_ADVICE[verdict][signals[0]])
    if last:
        reasons.append(
            f"At the last nudge it was {last.get('analysed', 0)} failures, "
            + ", ".join(
                f"{percent(_last_share(last, s))} "
                + ("behavioral" if s == Signal.BEHAVIOR else "knowledge")
                for s in signals
            )
            + "."
        )
    evidence = {
        **since_decision.as_dict(),
        "analysed": since_decision.analysed,
        "share": round(since_decision.behavior_share or 0.0, 4),
        "shares": {s.value: round(_share(since_decision, s) or 0.0, 4) for s in Signal},
        "outcome": verdict.value,
        "signals": [s.value for s in fired],
        "period": current.as_dict(),
        "previous": previous.as_dict(),
        "jump_period": start if jumped else last.get("jump_period"),
        "at": at.astimezone(UTC).isoformat(),
    }
    return Nudge(reasons=reasons, evidence=evidence, outcome=verdict, signals=tuple(fired))


def explained(tally: Tally) -> int:
    """Failures the team could explain: knowledge plus behavior (unclear ones are apart)."""
    return tally.knowledge + tally.behavior


def ready_to_decide(*, all_failures: Tally, last: dict[str, Any], at: datetime) -> Nudge | None:
    """A decision the rule called not ready: once 20 failures are explained, say so, once."""
    if explained(all_failures) < ANALYSIS_TARGET or last.get("ready"):
        return None
    reasons = [
        f"You now have {explained(all_failures)} explained failures "
        f"({all_failures.knowledge} knowledge, {all_failures.behavior} behavior; "
        f"{all_failures.unclear} unclear apart): decide."
    ]
    evidence = {
        **all_failures.as_dict(),
        "analysed": all_failures.analysed,
        "share": round(all_failures.behavior_share or 0.0, 4),
        "outcome": Verdict.NOT_READY.value,
        "ready": True,
        "at": at.astimezone(UTC).isoformat(),
    }
    return Nudge(reasons=reasons, evidence=evidence, outcome=Verdict.NOT_READY, signals=())
